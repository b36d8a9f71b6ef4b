//! Errors carry one of simple-peer's codes (`ERR_*`) from wherever they arise to JS.

/// An error with one of simple-peer's codes, or `ERR_INTERNAL` for a caught panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeError {
    pub code: &'static str,
    pub message: String,
}

impl NativeError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Turns another crate's error into a coded one: `.map_err(coded("ERR_CREATE_OFFER"))`.
pub fn coded<E: std::fmt::Display>(code: &'static str) -> impl Fn(E) -> NativeError + Copy {
    move |error| NativeError::new(code, error.to_string())
}

/// What a caught panic says, for the `ERR_INTERNAL` error that replaces it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_keeps_the_message_and_sets_the_code() {
        let error = coded("ERR_CREATE_OFFER")("no transceivers");
        assert_eq!(
            error,
            NativeError::new("ERR_CREATE_OFFER", "no transceivers")
        );
    }

    #[test]
    fn panic_messages_are_read_from_either_payload_type() {
        let text = std::panic::catch_unwind(|| panic!("static text")).unwrap_err();
        assert_eq!(panic_message(&*text), "static text");
        let formatted = std::panic::catch_unwind(|| panic!("number {}", 7)).unwrap_err();
        assert_eq!(panic_message(&*formatted), "number 7");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*other), "panic");
    }
}
