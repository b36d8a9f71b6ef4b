//! The one tokio runtime every peer shares.

use std::future::Future;
use std::sync::OnceLock;

/// The process-wide tokio runtime. Never shut down: its threads hold no libuv handle, so
/// they do not keep Node alive, and they die with the process.
pub fn tokio_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get().clamp(2, 4))
            .unwrap_or(2);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("simple-peer-native")
            .enable_all()
            .build()
            .expect("the tokio runtime must start")
    })
}

/// Spawns onto the shared runtime from any thread, including Node's main thread.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio_runtime().spawn(future)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawned_work_runs_from_a_thread_outside_the_runtime() {
        let handle = spawn(async { 6 * 7 });
        assert_eq!(tokio_runtime().block_on(handle).unwrap(), 42);
        assert!(std::ptr::eq(tokio_runtime(), tokio_runtime()));
    }
}
