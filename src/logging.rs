//! Native logs on stderr, off unless asked for: `DEBUG=simple-peer-native:rust` (or a
//! wider `DEBUG` pattern that matches it) gives debug level, `SIMPLE_PEER_NATIVE_LOG=trace`
//! (or error/warn/info/debug) picks the level explicitly.

use std::io::Write;
use std::time::Instant;

use log::{LevelFilter, Log, Metadata, Record};

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
                "simple-peer-native:rust {:>8.3}s {:<5} {}: {}",
                self.started.elapsed().as_secs_f64(),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

fn level_from_env() -> LevelFilter {
    if let Ok(level) = std::env::var("SIMPLE_PEER_NATIVE_LOG") {
        return level.parse().unwrap_or(LevelFilter::Debug);
    }
    let debug = std::env::var("DEBUG").unwrap_or_default();
    let wanted = debug.split(',').map(str::trim).any(|pattern| {
        pattern == "*"
            || pattern == "simple-peer-native:rust"
            || pattern == "simple-peer-native:*"
            || pattern == "simple-peer*"
    });
    if wanted {
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
