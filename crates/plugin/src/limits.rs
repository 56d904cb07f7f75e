//! What a plugin call may use (fuel, memory, wall time, stack) and what it may return
//! (items, text lengths, log and data bytes), and how large a plugin file may be.

use std::time::Duration;

/// Limits applied to every plugin call (each call runs in a fresh store).
///
/// Fuel is the deterministic bound: the same input always burns the same fuel, so a
/// rule that passes in a test passes in production. The wall-clock deadline is the
/// backstop for time spent where fuel is not counted; memory and stack bound space.
/// [`OutputLimits`] bound what a call hands back, so a plugin cannot make the host (or
/// the user's terminal) hold more than it asked for.
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
    /// Log lines kept per plugin between reads of its log.
    pub max_log_lines: usize,
    /// Largest plugin file the `load_*_file` functions read, in bytes: a larger file is
    /// refused from its metadata, before a byte of it is read.
    pub max_file_bytes: u64,
    /// What a call may return; the default for every plugin of the host (a plugin can
    /// be given its own with `set_output_limits`).
    pub output: OutputLimits,
}

impl Default for PluginLimits {
    /// 500 million fuel (a 1,000-line quote needs a few million), 64 MiB of memory,
    /// 2 s of wall time in 10 ms ticks, 512 KiB of stack, 64 MiB plugin files, and the
    /// default [`OutputLimits`].
    fn default() -> Self {
        PluginLimits {
            fuel: 500_000_000,
            memory_bytes: 64 << 20,
            wall_time: Duration::from_secs(2),
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 512 << 10,
            max_log_lines: 1_000,
            max_file_bytes: 64 << 20,
            output: OutputLimits::default(),
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

/// What one plugin call may return. Exceeding a limit is a `ResourceLimit` error naming
/// the limit; kam.toml can raise each per plugin (`max_adjustments = …` and so on in the
/// plugin's `[[plugin]]` entry).
///
/// | limit | default | kam.toml field |
/// |---|---|---|
/// | adjustments a pricing call returns | 10,000 | `max_adjustments` |
/// | alerts an alert call raises | 1,000 | `max_alerts` |
/// | bytes of one adjustment label | 4 KiB | `max_label_bytes` |
/// | bytes of one alert message or refusal | 16 KiB | `max_message_bytes` |
/// | bytes of stdout and of stderr per call | 64 KiB | `max_log_bytes` |
/// | bytes of data a call returns, all told | 32 MiB | `max_return_bytes` |
///
/// Scores and growth factors must number exactly as many as the measures or service
/// lines given, so they need no count of their own; `max_return_bytes` bounds them all.
/// It is checked while the result is copied out of the plugin (wasmtime's "hostcall
/// fuel", counted in host bytes: a list element costs its host size), so an oversized
/// result is refused before the host has allocated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Adjustments one pricing call may return.
    pub adjustments: usize,
    /// Alerts one alert call may raise.
    pub alerts: usize,
    /// Bytes of one adjustment label.
    pub label_bytes: usize,
    /// Bytes of one alert message, or of a refusal's message.
    pub message_bytes: usize,
    /// Bytes of stdout and of stderr kept per call (the rest is refused to the guest).
    pub log_bytes: usize,
    /// Bytes of data one call may return (lists and strings as the host holds them).
    pub return_bytes: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits {
            adjustments: 10_000,
            alerts: 1_000,
            label_bytes: 4 << 10,
            message_bytes: 16 << 10,
            log_bytes: 64 << 10,
            return_bytes: 32 << 20,
        }
    }
}
