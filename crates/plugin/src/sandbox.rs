//! The per-call sandbox: store data, an empty deterministic WASI context, the memory
//! limiter, and the epoch ticker that bounds wall time.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

use crate::PluginLimits;

/// Store data of one plugin call.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The guest's captured standard output and error for one call.
pub(crate) struct Pipes {
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
}

impl Sandbox {
    /// A fresh sandbox: no preopened directories, no environment, no arguments, closed
    /// stdin, stdout/stderr into bounded memory pipes, a wall clock stopped at the Unix
    /// epoch, a monotonic clock that never advances, fixed "random" bytes, no network.
    pub(crate) fn new(limits: &PluginLimits, log_bytes: usize) -> (Self, Pipes) {
        let stdout = MemoryOutputPipe::new(log_bytes);
        let stderr = MemoryOutputPipe::new(log_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(EpochClock)
            .monotonic_clock(FrozenClock)
            .secure_random(Deterministic::new(FIXED_BYTES.to_vec()))
            .insecure_random(Deterministic::new(FIXED_BYTES.to_vec()))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let sandbox = Sandbox {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits.memory_bytes),
        };
        (sandbox, Pipes { stdout, stderr })
    }
}

/// The bytes every plugin gets from `wasi:random` (it must not depend on entropy).
const FIXED_BYTES: [u8; 8] = [0x6b, 0x61, 0x6d, 0x2d, 0x72, 0x75, 0x6c, 0x65];

/// `wasi:clocks/wall-clock` for plugins: always 1970-01-01T00:00:00Z.
struct EpochClock;

impl HostWallClock for EpochClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// `wasi:clocks/monotonic-clock` for plugins: always 0, so no timing side channel.
struct FrozenClock;

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A capability the host refuses at run time (the call traps with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Denied(pub(crate) String);

/// Adds WASI 0.2 with the deterministic context above, then replaces the monotonic
/// clock's `subscribe-*` functions: a host-side sleep is invisible to epoch
/// interruption, so a sleeping guest would outlive its deadline.
pub(crate) fn add_wasi(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let mut clock = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clock.func_wrap("subscribe-duration", |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
        Err(wasmtime::Error::new(Denied(
            "the plugin tried to sleep or wait on a timer (wasi:clocks/monotonic-clock.subscribe-duration); plugins get no clock".into(),
        )))
    })?;
    clock.func_wrap("subscribe-instant", |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
        Err(wasmtime::Error::new(Denied(
            "the plugin tried to sleep or wait on a timer (wasi:clocks/monotonic-clock.subscribe-instant); plugins get no clock".into(),
        )))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// [`StoreLimits`] plus a record of the first limit a guest hit, so a trap caused by
/// the limit is reported as a resource limit and not as a bare trap.
pub(crate) struct Limiter {
    inner: StoreLimits,
    memory_bytes: usize,
    pub(crate) exceeded: Option<String>,
}

/// The error a limited growth traps with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LimitExceeded(pub(crate) String);

impl Limiter {
    fn new(memory_bytes: usize) -> Self {
        Limiter {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .table_elements(100_000)
                .instances(100)
                .tables(100)
                .memories(100)
                .trap_on_grow_failure(true)
                .build(),
            memory_bytes,
            exceeded: None,
        }
    }

    fn refuse(&mut self, message: String) -> wasmtime::Error {
        if self.exceeded.is_none() {
            self.exceeded = Some(message.clone());
        }
        wasmtime::Error::new(LimitExceeded(message))
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.inner.memory_growing(current, desired, maximum) {
            Ok(true) => Ok(true),
            _ => Err(self.refuse(format!(
                "memory limit of {} bytes exceeded: the plugin asked to grow a memory from {current} to {desired} bytes",
                self.memory_bytes
            ))),
        }
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.inner.table_growing(current, desired, maximum) {
            Ok(true) => Ok(true),
            _ => Err(self.refuse(format!(
                "table limit exceeded: the plugin asked to grow a table from {current} to {desired} elements"
            ))),
        }
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Advances the engine's epoch every tick on its own thread, so every store's wall-clock
/// deadline can fire; stopped and joined on drop.
pub(crate) struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let engine = engine.clone();
        let thread = std::thread::Builder::new()
            .name("kam-plugin-epoch".into())
            .spawn(move || {
                // Ends when the sender is dropped (or sends): the host is gone.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A panic in the ticker thread cannot happen (it only sleeps and increments);
            // if it did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}
