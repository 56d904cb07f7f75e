//! The plugin host: one engine, linker, component cache and epoch ticker, shared by
//! every plugin it loads.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kam_core::rules::{RuleError, RuleErrorKind, RuleHost};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

use crate::cache::{self, CacheKey, CacheStats, ComponentCache};
use crate::plugin::{AlertPlugin, GrowthPlugin, KpiScoringPlugin, Loaded, PricingPlugin};
use crate::sandbox::{self, EpochTicker, Pipes, Sandbox};
use crate::{OutputLimits, PluginLimits, RuleKind};

/// The `kam:rules` version this host implements (kam-core's, shared with the SDK).
pub const API_VERSION: &str = kam_core::rules::RULES_API_VERSION;

/// Plugin calls that may run at once on one host (one instance each): four per core and
/// at least 64, so a thread pool sized to the machine (the simulation's) cannot run out —
/// a call beyond the pool fails rather than waits. Each slot reserves address space only;
/// pages are committed as used.
fn pool_slots() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores.saturating_mul(4)).unwrap_or(u32::MAX).max(64)
}

/// Bytes of a recycled linear memory (and table) cleared in place between calls.
const KEEP_RESIDENT: usize = 2 << 20;

/// The host could not be set up (engine configuration or the epoch thread).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// wasmtime refused the engine configuration or the WASI linker.
    #[error("plugin host: cannot configure wasmtime: {0}")]
    Engine(String),
    /// The epoch ticker thread could not be started.
    #[error("plugin host: cannot start the epoch ticker thread: {0}")]
    Ticker(#[from] std::io::Error),
    /// The compiled-component cache directory could not be created.
    #[error("plugin host: cannot create the plugin cache directory {}: {source}", path.display())]
    CacheDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// State shared by a host and all plugins loaded from it (the ticker stops when the last
/// of them is dropped).
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    linker: Linker<Sandbox>,
    pub(crate) limits: PluginLimits,
    engine_hash: u64,
    cache: ComponentCache,
    _ticker: EpochTicker,
}

impl Shared {
    /// A fresh store for one call, with fuel, memory limits, deadline and the plugin's
    /// output limits set.
    pub(crate) fn new_store(&self, output: &OutputLimits) -> Result<(Store<Sandbox>, Pipes), String> {
        let (sandbox, pipes) = Sandbox::new(&self.limits, output.log_bytes);
        let mut store = Store::new(&self.engine, sandbox);
        store.limiter(|s| &mut s.limiter);
        // Bounds the bytes wasmtime copies out of the guest for the call's result (each
        // list and string is counted before it is allocated on the host).
        store.set_hostcall_fuel(output.return_bytes);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| format!("cannot set fuel: {e}"))?;
        store.set_epoch_deadline(self.limits.deadline_ticks());
        store.epoch_deadline_trap();
        Ok((store, pipes))
    }
}

/// Runs `kam:rules` plugins under hard limits.
///
/// A host owns one wasmtime engine (fuel metering and epoch interruption on), a linker
/// that offers plugins nothing but an empty deterministic WASI 0.2 context, a cache of
/// compiled components (in memory, and on disk with [`PluginHost::with_disk_cache`]), and
/// a thread that ticks the epoch for wall-clock deadlines. Loading checks the plugin's
/// world and API version and prepares an [`InstancePre`], so each call only instantiates
/// (microseconds) in a fresh store: whatever a hostile call does, the next call starts
/// clean.
///
/// ```no_run
/// use kam_core::rules::{PricingInput, PricingRule};
/// use kam_plugin::{PluginHost, PluginLimits};
/// use rust_decimal::Decimal;
///
/// let host = PluginHost::new(PluginLimits::default())?;
/// let rebate = host.load_pricing_file("plugins/target/wasm32-wasip2/release/volume_rebate.wasm")?;
/// let quote = PricingInput { currency: "EUR".into(), lines: vec![], total: Decimal::new(5154750, 2) };
/// let adjustments = rebate.adjust(&quote)?;
/// assert_eq!(adjustments[0].amount, Decimal::new(-3095, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PluginHost {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// A host whose plugin calls are bounded by `limits`, caching compiled components in
    /// memory only.
    pub fn new(limits: PluginLimits) -> Result<Self, HostError> {
        Self::build(limits, None)
    }

    /// A host that also keeps compiled components in `dir` (created if missing, private to
    /// the user), so another process with the same engine settings loads them in
    /// milliseconds instead of compiling them again. A file in `dir` that is damaged or
    /// was written for another engine is compiled again and replaced; failing to write
    /// one only costs the next process the compilation.
    ///
    /// The directory holds native code the host will run: keep it writable by its user
    /// only (as it is when created here).
    ///
    /// # Errors
    /// [`HostError::CacheDir`] when `dir` cannot be created; the engine errors of
    /// [`PluginHost::new`].
    pub fn with_disk_cache(limits: PluginLimits, dir: impl Into<PathBuf>) -> Result<Self, HostError> {
        let dir = dir.into();
        cache::create_dir(&dir).map_err(|source| HostError::CacheDir {
            path: dir.clone(),
            source,
        })?;
        Self::build(limits, Some(dir))
    }

    fn build(limits: PluginLimits, cache_dir: Option<PathBuf>) -> Result<Self, HostError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(limits.max_wasm_stack);
        config.wasm_component_model(true);
        // Every call gets a fresh instance (no state survives between calls, so results do
        // not depend on which thread ran what). The pooling allocator recycles pre-mapped
        // slots for them: on-demand allocation costs an mmap and munmap of the linear memory
        // per call, which dominated a simulation calling a growth plugin once per path.
        let slots = pool_slots();
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_core_instances(slots)
            .total_memories(slots)
            .total_tables(slots)
            .max_memory_size(limits.memory_bytes)
            // Reset the first pages of a recycled memory in place instead of returning them
            // to the kernel: madvise, page faults and TLB shootdowns per call cost far more
            // than clearing what a rule's call typically touches.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            // Where the kernel can say which pages a call dirtied (Linux ≥ 6.7,
            // PAGEMAP_SCAN), reset only those: otherwise the whole kept region is cleared
            // after every call, and that clearing dominated a growth plugin's calls.
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| HostError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        sandbox::add_wasi(&mut linker).map_err(|e| HostError::Engine(e.to_string()))?;
        // Guests import the types-only interface `kam:rules/types` (its records are used
        // by the exported rule interface); it has no functions, so an empty instance.
        linker
            .instance(&format!("kam:rules/types@{API_VERSION}"))
            .map_err(|e| HostError::Engine(e.to_string()))?;
        let engine_hash = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            h.finish()
        };
        let ticker = EpochTicker::start(&engine, limits.epoch_tick)?;
        Ok(PluginHost {
            shared: Arc::new(Shared {
                engine,
                linker,
                limits,
                engine_hash,
                cache: ComponentCache::new(cache_dir),
                _ticker: ticker,
            }),
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &PluginLimits {
        &self.shared.limits
    }

    /// The cache key of a component's bytes under this host's engine.
    pub fn cache_key(&self, wasm: &[u8]) -> CacheKey {
        CacheKey {
            content: Sha256::digest(wasm).into(),
            engine: self.shared.engine_hash,
        }
    }

    /// How many compiled components the host holds in memory.
    pub fn cached_components(&self) -> usize {
        self.shared.cache.len()
    }

    /// Where this host's loads found their compiled components so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.shared.cache.stats()
    }

    /// The directory compiled components persist in, if any
    /// ([`PluginHost::with_disk_cache`]).
    pub fn cache_dir(&self) -> Option<&Path> {
        self.shared.cache.dir()
    }

    /// Loads a pricing rule plugin (world `pricing-rule`) named `name` from component
    /// bytes.
    pub fn load_pricing(&self, name: &str, wasm: &[u8]) -> Result<PricingPlugin, RuleError> {
        PricingPlugin::load(self.prepare(name, wasm, RuleKind::Pricing)?)
    }

    /// Loads a growth rule plugin (world `growth-rule`).
    pub fn load_growth(&self, name: &str, wasm: &[u8]) -> Result<GrowthPlugin, RuleError> {
        GrowthPlugin::load(self.prepare(name, wasm, RuleKind::Growth)?)
    }

    /// Loads a KPI scoring rule plugin (world `kpi-scoring-rule`).
    pub fn load_kpi_scoring(&self, name: &str, wasm: &[u8]) -> Result<KpiScoringPlugin, RuleError> {
        KpiScoringPlugin::load(self.prepare(name, wasm, RuleKind::KpiScoring)?)
    }

    /// Loads an alert rule plugin (world `alert-rule`).
    pub fn load_alert(&self, name: &str, wasm: &[u8]) -> Result<AlertPlugin, RuleError> {
        AlertPlugin::load(self.prepare(name, wasm, RuleKind::Alert)?)
    }

    /// [`PluginHost::load_pricing`] from a `.wasm` file; the plugin is named after the
    /// file stem.
    pub fn load_pricing_file(&self, path: impl AsRef<Path>) -> Result<PricingPlugin, RuleError> {
        let (name, wasm) = read_plugin(path.as_ref(), self.shared.limits.max_file_bytes)?;
        self.load_pricing(&name, &wasm)
    }

    /// [`PluginHost::load_growth`] from a `.wasm` file.
    pub fn load_growth_file(&self, path: impl AsRef<Path>) -> Result<GrowthPlugin, RuleError> {
        let (name, wasm) = read_plugin(path.as_ref(), self.shared.limits.max_file_bytes)?;
        self.load_growth(&name, &wasm)
    }

    /// [`PluginHost::load_kpi_scoring`] from a `.wasm` file.
    pub fn load_kpi_scoring_file(&self, path: impl AsRef<Path>) -> Result<KpiScoringPlugin, RuleError> {
        let (name, wasm) = read_plugin(path.as_ref(), self.shared.limits.max_file_bytes)?;
        self.load_kpi_scoring(&name, &wasm)
    }

    /// [`PluginHost::load_alert`] from a `.wasm` file.
    pub fn load_alert_file(&self, path: impl AsRef<Path>) -> Result<AlertPlugin, RuleError> {
        let (name, wasm) = read_plugin(path.as_ref(), self.shared.limits.max_file_bytes)?;
        self.load_alert(&name, &wasm)
    }

    /// Compiles (or fetches from the cache) a component, checks it targets `kind`'s world
    /// at this host's API version, and pre-links it.
    fn prepare(&self, name: &str, wasm: &[u8], kind: RuleKind) -> Result<Loaded, RuleError> {
        let load_error =
            |message: String| RuleError::new(name, RuleHost::Plugin, RuleErrorKind::Load, message);
        let component = self.compile(wasm).map_err(&load_error)?;
        check_world(&self.shared.engine, &component, kind).map_err(&load_error)?;
        let pre: InstancePre<Sandbox> = self.shared.linker.instantiate_pre(&component).map_err(|e| {
            let ty = component.component_type();
            let imports: Vec<&str> = ty.imports(&self.shared.engine).map(|(name, _)| name).collect();
            load_error(unprovided_imports_message(kind, &imports, &format!("{e:#}")))
        })?;
        Ok(Loaded::new(name, kind, Arc::clone(&self.shared), pre))
    }

    fn compile(&self, wasm: &[u8]) -> Result<Component, String> {
        self.shared
            .cache
            .get_or_compile(&self.shared.engine, self.cache_key(wasm), wasm)
    }
}

/// WASI 0.2 packages the host links (wasmtime-wasi's `p2` set; every interface of each).
const PROVIDED_WASI: [&str; 6] = [
    "wasi:io",
    "wasi:clocks",
    "wasi:random",
    "wasi:cli",
    "wasi:filesystem",
    "wasi:sockets",
];

/// Whether the host links an import named `name` (`package/interface@version`): a WASI
/// 0.2 interface of [`PROVIDED_WASI`], or the types-only `kam:rules/types` of this API.
fn host_provides(name: &str) -> bool {
    if name == format!("kam:rules/types@{API_VERSION}") {
        return true;
    }
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let package = path.split_once('/').map_or(path, |(p, _)| p);
    PROVIDED_WASI.contains(&package) && version.starts_with("0.2.")
}

/// How to build without an import kam does not provide, for the cases authors meet.
fn build_hint(name: &str) -> Option<&'static str> {
    if name.starts_with("wasi:http/") {
        Some(
            "componentize-js and `jco componentize` add wasi:http unless told not to: build with \
             `--disable http fetch-event` (componentize-js 0.23: `componentize-js rule.js --wit wit \
             --world-name <world> --disable http fetch-event -o rule.wasm`; `--disable http` alone \
             keeps wasi:http/types); a Rust guest must not depend on a wasi:http crate",
        )
    } else if name.starts_with("wasi:") && name.contains("@0.3.") {
        Some("it is a WASI 0.3 interface: build the plugin for WASI 0.2 (target wasm32-wasip2)")
    } else if name.starts_with("kam:rules/") {
        Some("plugins may only use the types of the kam:rules version they export")
    } else {
        None
    }
}

/// The load error of a component the linker refused: names each import the host does
/// not provide, with a hint how to build without it where one is known; when none of the
/// imports is foreign (a provided interface missing a function, say), wasmtime's own
/// reason, `linker_error`, says what is wrong.
fn unprovided_imports_message(kind: RuleKind, imports: &[&str], linker_error: &str) -> String {
    let foreign: Vec<&str> = imports.iter().copied().filter(|n| !host_provides(n)).collect();
    if foreign.is_empty() {
        return format!(
            "{} plugin imports something the kam host does not provide (plugins may import only WASI 0.2): {linker_error}",
            kind.world()
        );
    }
    let mut message = format!(
        "{} plugin imports {} the kam host does not provide (plugins may import only WASI 0.2 and kam:rules/types): {}",
        kind.world(),
        if foreign.len() == 1 {
            "an interface"
        } else {
            "interfaces"
        },
        foreign.join(", ")
    );
    let mut hints: Vec<&str> = Vec::new();
    for hint in foreign.iter().filter_map(|n| build_hint(n)) {
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    }
    for hint in hints {
        message.push_str("; ");
        message.push_str(hint);
    }
    message
}

fn read_plugin(path: &Path, max_bytes: u64) -> Result<(String, Vec<u8>), RuleError> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let error = |message: String| RuleError::new(&name, RuleHost::Plugin, RuleErrorKind::Load, message);
    let wasm = read_bounded(path, max_bytes).map_err(error)?;
    Ok((name, wasm))
}

/// Reads a plugin file of at most `max_bytes`: the size is checked from the file's
/// metadata before anything is read (a 3 GiB file must not be read whole to be refused),
/// and the read itself stops past the limit, in case the file grew in between.
///
/// # Errors
/// A message naming the file and, when it is too large, its size and the limit.
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let too_large = |size: u64| {
        format!(
            "{} is {size} bytes, more than the {max_bytes}-byte limit for a plugin file              (raise it with max_file_bytes in the plugin's kam.toml entry)",
            path.display()
        )
    };
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > max_bytes {
        return Err(too_large(size));
    }
    let mut wasm = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut wasm)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if wasm.len() as u64 > max_bytes {
        return Err(too_large(wasm.len() as u64));
    }
    Ok(wasm)
}

/// Checks the component's `kam:rules` exports before linking, so a wrong world or
/// version gets a message that says so instead of a missing-export error.
fn check_world(engine: &Engine, component: &Component, kind: RuleKind) -> Result<(), String> {
    let ty = component.component_type();
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let wanted = format!("kam:rules/{}@{API_VERSION}", kind.interface());
    let meta = format!("kam:rules/meta@{API_VERSION}");
    if exports.contains(&wanted.as_str()) && exports.contains(&meta.as_str()) {
        return Ok(());
    }
    let prefix = format!("kam:rules/{}@", kind.interface());
    if let Some(other) = exports.iter().find_map(|e| e.strip_prefix(&prefix)) {
        return Err(format!(
            "the plugin was built for kam:rules@{other}; this host implements kam:rules@{API_VERSION}"
        ));
    }
    if let Some(other) = RuleKind::ALL.iter().find(|k| {
        exports
            .iter()
            .any(|e| e.starts_with(&format!("kam:rules/{}@", k.interface())))
    }) {
        return Err(format!(
            "the plugin is a {} (world {}), not a {} (world {})",
            other.describe(),
            other.world(),
            kind.describe(),
            kind.world()
        ));
    }
    if !exports.contains(&meta.as_str()) && exports.contains(&wanted.as_str()) {
        return Err(format!("the plugin does not export {meta} (its api-version)"));
    }
    Err(format!(
        "the component exports no {wanted} (it exports [{}]); build it for world {} of kam:rules@{API_VERSION}",
        exports.join(", "),
        kind.world()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_0_2_and_the_types_interface_are_provided_nothing_else() {
        for name in [
            "wasi:cli/environment@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:filesystem/preopens@0.2.3",
            "kam:rules/types@0.2.0",
        ] {
            assert!(host_provides(name), "{name}");
        }
        for name in [
            "wasi:http/types@0.2.3",
            "wasi:cli/environment@0.3.0",
            "kam:rules/types@0.1.0",
            "acme:db/query",
        ] {
            assert!(!host_provides(name), "{name}");
        }
    }

    #[test]
    fn the_message_names_each_foreign_interface_and_says_how_to_drop_wasi_http() {
        let imports = [
            "wasi:io/poll@0.2.3",
            "wasi:http/types@0.2.3",
            "wasi:http/outgoing-handler@0.2.3",
            "kam:rules/types@0.2.0",
        ];
        let msg = unprovided_imports_message(RuleKind::Pricing, &imports, "linker says no");
        assert!(
            msg.contains("pricing-rule plugin imports interfaces the kam host does not provide")
                && msg.contains(": wasi:http/types@0.2.3, wasi:http/outgoing-handler@0.2.3;"),
            "{msg}"
        );
        assert_eq!(msg.matches("--disable http fetch-event").count(), 2, "{msg}");
        assert!(
            !msg.contains("wasi:io") && !msg.contains("linker says no"),
            "{msg}"
        );

        // No foreign interface: wasmtime's reason is all there is to say.
        let msg = unprovided_imports_message(RuleKind::Growth, &imports[..1], "linker says no");
        assert!(
            msg.ends_with("(plugins may import only WASI 0.2): linker says no"),
            "{msg}"
        );
        let msg = unprovided_imports_message(RuleKind::Alert, &["acme:db/query"], "x");
        assert!(msg.ends_with("kam:rules/types): acme:db/query"), "{msg}");
    }
}
