//! What a plugin call may use: fuel, memory, wall time, log output.

use std::time::Duration;

/// Limits applied to every plugin call (each call runs in a fresh store).
///
/// Fuel is the deterministic bound: the same input always burns the same fuel, so a
/// rule that passes in a test passes in production. The wall-clock deadline is the
/// backstop for time spent where fuel is not counted; memory and stack bound space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Fuel per call (≈ one unit per WebAssembly instruction).
    pub fuel: u64,
    /// Largest linear memory a plugin may grow to, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock time per call (enforced with epoch interruption, so to within one
    /// [`PluginLimits::epoch_tick`]).
    pub wall_time: Duration,
    /// How often the host's epoch ticker advances (the deadline's resolution).
    pub epoch_tick: Duration,
    /// Largest native stack WebAssembly may use, in bytes.
    pub max_wasm_stack: usize,
    /// Bytes of stdout and of stderr kept per call (the rest is refused to the guest).
    pub max_log_bytes: usize,
    /// Log lines kept per plugin between reads of its log.
    pub max_log_lines: usize,
}

impl Default for PluginLimits {
    /// 500 million fuel (a 1,000-line quote needs a few million), 64 MiB of memory,
    /// 2 s of wall time in 10 ms ticks, 512 KiB of stack, 64 KiB of each log stream.
    fn default() -> Self {
        PluginLimits {
            fuel: 500_000_000,
            memory_bytes: 64 << 20,
            wall_time: Duration::from_secs(2),
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 512 << 10,
            max_log_bytes: 64 << 10,
            max_log_lines: 1_000,
        }
    }
}

impl PluginLimits {
    /// The deadline in epoch ticks (at least one).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_nanos().max(1);
        let ticks = self.wall_time.as_nanos().div_ceil(tick);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}
