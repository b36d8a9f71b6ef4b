//! Native logs on stderr, off unless asked for, and the one reader of `DEBUG` for both
//! languages: patterns as the `debug` module reads them (comma or space separated, `*`
//! matches anything, a leading `-` excludes). `simple-peer-native:rust` names the native
//! logs (debug level); `SIMPLE_PEER_NATIVE_LOG=trace` (or error/warn/info/debug) picks the
//! level explicitly. JS asks `debugEnabled()` about its own namespaces.

use std::io::Write;
use std::time::Instant;

use log::{LevelFilter, Log, Metadata, Record};
use napi_derive::napi;

const NATIVE_NAMESPACE: &str = "simple-peer-native:rust";

struct StderrLogger {
    started: Instant,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{NATIVE_NAMESPACE} {:>8.3}s {:<5} {}: {}",
                self.started.elapsed().as_secs_f64(),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Whether the `DEBUG` patterns turn on `namespace`: some pattern matches it and no
/// excluding one does.
fn namespace_enabled(patterns: &str, namespace: &str) -> bool {
    let mut enabled = false;
    for pattern in patterns
        .split([',', ' ', '\t', '\n'])
        .filter(|p| !p.is_empty())
    {
        match pattern.strip_prefix('-') {
            Some(excluded) if glob_match(excluded.as_bytes(), namespace.as_bytes()) => {
                return false
            }
            Some(_) => {}
            None => enabled |= glob_match(pattern.as_bytes(), namespace.as_bytes()),
        }
    }
    enabled
}

/// `*` matches any run of characters, everything else itself.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob_match(rest, &text[skip..])),
        Some((byte, rest)) => text.first() == Some(byte) && glob_match(rest, &text[1..]),
    }
}

/// Whether `DEBUG`, as the process has it now, turns on `namespace`'s logs.
#[napi]
pub fn debug_enabled(namespace: String) -> bool {
    namespace_enabled(&std::env::var("DEBUG").unwrap_or_default(), &namespace)
}

fn level_from_env() -> LevelFilter {
    if let Ok(level) = std::env::var("SIMPLE_PEER_NATIVE_LOG") {
        return level.parse().unwrap_or(LevelFilter::Debug);
    }
    if debug_enabled(NATIVE_NAMESPACE.to_owned()) {
        LevelFilter::Debug
    } else {
        LevelFilter::Off
    }
}

/// Installs the logger once per process; later calls do nothing.
pub fn init() {
    let level = level_from_env();
    if level != LevelFilter::Off
        && log::set_boxed_logger(Box::new(StderrLogger {
            started: Instant::now(),
        }))
        .is_ok()
    {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_namespaces_with_wildcards() {
        for (patterns, native, js) in [
            ("", false, false),
            ("*", true, true),
            ("simple-peer", false, true),
            ("simple-peer*", true, true),
            ("simple-peer-native:rust", true, false),
            ("simple-peer-native:*", true, false),
            ("express,simple-peer", false, true),
            ("express, simple-peer-native:rust", true, false),
            ("*,-simple-peer-native:*", false, true),
            ("something-else", false, false),
        ] {
            assert_eq!(
                namespace_enabled(patterns, NATIVE_NAMESPACE),
                native,
                "native for {patterns:?}"
            );
            assert_eq!(
                namespace_enabled(patterns, "simple-peer"),
                js,
                "simple-peer for {patterns:?}"
            );
        }
    }

    #[test]
    fn glob_stars_match_any_run_including_none() {
        assert!(glob_match(b"a*c", b"ac"));
        assert!(glob_match(b"a*c", b"abbbc"));
        assert!(!glob_match(b"a*c", b"abd"));
        assert!(glob_match(b"**", b""));
    }
}
