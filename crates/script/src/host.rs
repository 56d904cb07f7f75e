//! The sandboxed engine: one [`ScriptHost`] per process, shared across threads.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage, MoreStringPackage,
    Package,
};
use rhai::{AST, CallFnOptions, Dynamic, Engine, FuncArgs, Scope};

use crate::error::{ScriptError, ScriptErrorKind};

/// Sandbox limits. The defaults stop an endless loop, runaway recursion or a memory bomb
/// within a few seconds while leaving ample room for real analyst scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Maximum Rhai operations per run or per rule call (default 20 million).
    pub max_operations: u64,
    /// Maximum function call depth (default 64).
    pub max_call_levels: usize,
    /// Maximum expression nesting at global level (default 64).
    pub max_expr_depth: usize,
    /// Maximum expression nesting inside functions (default 32).
    pub max_function_expr_depth: usize,
    /// Maximum string length in bytes (default 4 MiB).
    pub max_string_size: usize,
    /// Maximum array length (default 500,000).
    pub max_array_size: usize,
    /// Maximum object-map size (default 100,000).
    pub max_map_size: usize,
    /// Wall-clock limit per run or per rule call (default 5 s).
    pub wall_clock: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 20_000_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 4 * 1024 * 1024,
            max_array_size: 500_000,
            max_map_size: 100_000,
            wall_clock: Duration::from_secs(5),
        }
    }
}

thread_local! {
    // The deadline of the run on this thread. The engine is shared, so a per-run deadline
    // cannot live in it; runs are synchronous, so the running thread is the one to ask.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    // Where `print` goes on this thread: captured into a buffer, or stdout when `None`.
    static PRINT_SINK: RefCell<Option<String>> = const { RefCell::new(None) };
    // How many `print`/`debug` lines scripts have written on this thread: a growth rule's
    // month that wrote one is not memoized (a stored month would not print again).
    static OUTPUTS: Cell<u64> = const { Cell::new(0) };
    // On a worker thread of a parallel batch ([`in_parallel`]): `print`/`debug` lines are
    // kept here, in order, for the calling thread to emit in input order.
    static DEFERRED: RefCell<Option<Vec<Output>>> = const { RefCell::new(None) };
}

/// One `print` or `debug` line a script wrote on a worker thread, not yet emitted.
#[derive(Debug)]
pub(crate) enum Output {
    /// A `print` line (to the thread's sink or stdout).
    Print(String),
    /// A `debug` line, already formatted (to stderr).
    Debug(String),
}

/// Emits `out` on this thread as the script host would have, had the script run here.
fn emit(out: Output) {
    count_output();
    match out {
        Output::Print(s) => print_line(&s),
        Output::Debug(s) => {
            let _ = writeln!(std::io::stderr().lock(), "{s}");
        }
    }
}

fn print_line(s: &str) {
    let captured = PRINT_SINK.with(|sink| match sink.borrow_mut().as_mut() {
        Some(buf) => {
            buf.push_str(s);
            buf.push('\n');
            true
        }
        None => false,
    });
    if !captured {
        // A closed stdout (e.g. `kam run x | head`) must not abort the script host.
        let _ = writeln!(std::io::stdout().lock(), "{s}");
    }
}

/// Whether this thread's `print`/`debug` lines are deferred; if so, keeps `out`.
fn defer(out: Output) -> Option<Output> {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(lines) => {
            lines.push(out);
            None
        }
        None => Some(out),
    })
}

/// Runs `f` for every item on the global thread pool and returns the results in item
/// order, as if they had run one after another on this thread: each worker runs under
/// this thread's deadline (never a later one), its `print`/`debug` lines are emitted here
/// in item order, and a failure stops the batch where the sequential loop would have
/// stopped — the first failing item's error is returned and no line of a later item is
/// emitted. Output is therefore the same bytes whatever the thread count.
///
/// Calls are independent (a rule's decision depends on its input only), so running them
/// on two cores halves a batch such as the alert register's thousands of rule calls.
pub(crate) fn in_parallel<T, R, E, F>(items: &[T], f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> Result<R, E> + Sync,
{
    use rayon::prelude::*;
    let deadline = DEADLINE.with(Cell::get);
    let runs: Vec<(Result<R, E>, Vec<Output>)> = items
        .par_iter()
        .with_min_len(8)
        .map(|item| {
            let outer = DEADLINE.with(|d| d.get());
            let inherited = match (outer, deadline) {
                (Some(o), Some(d)) => Some(o.min(d)),
                (o, d) => o.or(d),
            };
            DEADLINE.with(|d| d.set(inherited));
            let kept = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
            let result = f(item);
            let lines = DEFERRED.with(|d| std::mem::replace(&mut *d.borrow_mut(), kept));
            DEADLINE.with(|d| d.set(outer));
            (result, lines.unwrap_or_default())
        })
        .collect();
    let mut out = Vec::with_capacity(runs.len());
    for (result, lines) in runs {
        for line in lines {
            if let Some(line) = defer(line) {
                emit(line);
            }
        }
        out.push(result?);
    }
    Ok(out)
}

/// The running script's wall-clock deadline as a [`kam_sim::Stop`], for native work it
/// starts (a simulation): the work stops at the script's deadline instead of running on
/// past it.
pub(crate) fn native_stop() -> kam_sim::Stop {
    match DEADLINE.with(Cell::get) {
        Some(deadline) => kam_sim::Stop::never().at(deadline),
        None => kam_sim::Stop::never(),
    }
}

/// The number of `print`/`debug` lines scripts have written on this thread so far.
pub(crate) fn outputs() -> u64 {
    OUTPUTS.with(Cell::get)
}

fn count_output() {
    OUTPUTS.with(|n| n.set(n.get().wrapping_add(1)));
}

/// Sets this thread's deadline for the duration of a run; restores the outer one on drop
/// (a rule may be called from inside a script's API call).
struct DeadlineGuard(Option<Instant>);

impl DeadlineGuard {
    fn start(limit: Duration) -> Self {
        let new = Instant::now().checked_add(limit);
        let outer = DEADLINE.with(|d| d.get());
        // An inner run never extends the outer run's deadline.
        let effective = match (outer, new) {
            (Some(o), Some(n)) => Some(o.min(n)),
            (o, n) => o.or(n),
        };
        DEADLINE.with(|d| d.set(effective));
        DeadlineGuard(outer)
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}

/// A compiled script: its name, source (for error rendering) and AST.
#[derive(Debug, Clone)]
pub struct CompiledScript {
    name: Arc<str>,
    source: Arc<str>,
    ast: AST,
}

impl CompiledScript {
    /// The script's name (its file path, usually).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The compiled AST.
    pub fn ast(&self) -> &AST {
        &self.ast
    }
    /// Whether the script defines `name` with `arity` parameters.
    pub fn has_fn(&self, name: &str, arity: usize) -> bool {
        self.ast
            .iter_functions()
            .any(|f| f.name == name && f.params.len() == arity)
    }
    /// The error for a failed run of this script.
    pub fn error(&self, err: &rhai::EvalAltResult) -> ScriptError {
        ScriptError::from_eval(&self.name, &self.source, err)
    }
}

const CACHE_CAPACITY: usize = 256;

/// Compiled scripts keyed by (name, hash of the source text).
type AstCache = RwLock<HashMap<(Arc<str>, u64), Arc<CompiledScript>>>;

/// The sandboxed Rhai engine with the analyst API loaded, plus a compiled-script cache.
///
/// Build one per process (it is `Send + Sync`) and share it behind an `Arc`; every run and
/// every rule call uses the same engine. The sandbox: an operation budget, call-depth and
/// expression-depth limits, string/array/map size limits, `eval` disabled, strict
/// variables (an undefined variable is a compile error), no `import`, no clock, and a
/// wall-clock deadline checked through `on_progress`.
///
/// ```
/// use kam_script::ScriptHost;
///
/// let host = ScriptHost::default();
/// let v = host.eval_source("example.rhai", "round_dp(4.50 * 3 / 7, 2, \"half_up\")")?;
/// assert_eq!(v.to_string(), "1.93");
/// # Ok::<(), kam_script::ScriptError>(())
/// ```
pub struct ScriptHost {
    engine: Engine,
    limits: Limits,
    api: Vec<crate::api::ApiEntry>,
    cache: AstCache,
}

impl std::fmt::Debug for ScriptHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptHost")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for ScriptHost {
    fn default() -> Self {
        ScriptHost::new(Limits::default())
    }
}

/// `a / b` for two integers as an exact decimal (`7 / 2 == 3.5`); ÷ 0 is a script error.
fn exact_int_division(a: rhai::INT, b: rhai::INT) -> Result<rust_decimal::Decimal, Box<rhai::EvalAltResult>> {
    if b == 0 {
        return Err(format!("division by zero: {a} / 0").into());
    }
    rust_decimal::Decimal::from(a)
        .checked_div(rust_decimal::Decimal::from(b))
        .map(|d| d.normalize())
        .ok_or_else(|| format!("overflow in {a} / {b}").into())
}

/// Decimal ÷ decimal, with the errors of Rhai's built-in decimal division.
fn decimal_division(
    a: rust_decimal::Decimal,
    b: rust_decimal::Decimal,
) -> Result<rust_decimal::Decimal, Box<rhai::EvalAltResult>> {
    let err = |what: &str| {
        Box::new(rhai::EvalAltResult::ErrorArithmetic(
            format!("{what}: {a} / {b}"),
            rhai::Position::NONE,
        ))
    };
    if b.is_zero() {
        return Err(err("Division by zero"));
    }
    a.checked_div(b).ok_or_else(|| err("Division overflow"))
}

impl ScriptHost {
    /// A host with `limits` and the full analyst API registered.
    pub fn new(limits: Limits) -> Self {
        let mut engine = Engine::new_raw();
        // The standard library without the time package: scripts get no clock.
        for module in [
            CorePackage::new().as_shared_module(),
            LogicPackage::new().as_shared_module(),
            BasicMathPackage::new().as_shared_module(),
            BasicArrayPackage::new().as_shared_module(),
            BasicMapPackage::new().as_shared_module(),
            MoreStringPackage::new().as_shared_module(),
        ] {
            engine.register_global_module(module);
        }
        engine
            .set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.max_call_levels)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true);
        engine.disable_symbol("eval");
        // Money is exact: `3 / 4` must be 0.75, not Rhai's integer division 0. With fast
        // operators on, Rhai runs its built-in operators for built-in types without looking
        // for overloads, so `/` is taken out of the built-in set: the symbol is disabled
        // and re-declared as a custom operator of the same precedence (180, binding left
        // like `*` and `%`), and every division is a registered function — the exact
        // INT ÷ INT, and decimal division as Rhai's built-in does it. Every other
        // operator keeps the fast path (a function-table lookup per operator saved).
        // `x /= y` cannot be made exact the same way: op-assignment on two integers takes
        // Rhai's built-in (truncating) division before any overload, and turning fast
        // operators off to reach one made a rebate rule 47 % slower. It is disabled
        // instead, and the parse error says to write `x = x / y`.
        engine.set_fast_operators(true);
        engine.disable_symbol("/");
        engine.disable_symbol("/=");
        if let Err(e) = engine.register_custom_operator("/", 180) {
            // Not reachable: "/" is disabled just above. Keep the slow, exact path.
            let _ = writeln!(std::io::stderr().lock(), "kam-script: custom `/` operator: {e}");
            engine.set_fast_operators(false);
        }
        engine.register_fn("/", exact_int_division);
        engine.register_fn("/", decimal_division);
        engine.register_fn("/", |a: rust_decimal::Decimal, b: rhai::INT| {
            decimal_division(a, rust_decimal::Decimal::from(b))
        });
        engine.register_fn("/", |a: rhai::INT, b: rust_decimal::Decimal| {
            decimal_division(rust_decimal::Decimal::from(a), b)
        });
        engine.on_progress(|ops| {
            // Reading the clock costs ~20 ns; every 1,024 operations is plenty.
            if ops & 0x3FF != 0 {
                return None;
            }
            match DEADLINE.with(|d| d.get()) {
                Some(deadline) if Instant::now() >= deadline => Some(Dynamic::from("wall-clock limit")),
                _ => None,
            }
        });
        engine.on_print(|s| {
            if let Some(line) = defer(Output::Print(s.to_owned())) {
                emit(line);
            }
        });
        engine.on_debug(|s, _src, pos| {
            if let Some(line) = defer(Output::Debug(format!("[debug {pos}] {s}"))) {
                emit(line);
            }
        });
        crate::growth::register_engine(&mut engine);
        let api = crate::api::register(&mut engine);
        ScriptHost {
            engine,
            limits,
            api,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The limits this host enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The analyst API this host provides, in listing order (what `kam api` prints).
    pub fn api(&self) -> &[crate::api::ApiEntry] {
        &self.api
    }

    /// The underlying engine (for listing the API or advanced embedding).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles `source` under `name`, or returns the cached compilation of the same text.
    ///
    /// # Errors
    /// A [`ScriptErrorKind::Syntax`] error with line and column.
    pub fn compile(&self, name: &str, source: &str) -> Result<Arc<CompiledScript>, ScriptError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        source.hash(&mut hasher);
        let key: (Arc<str>, u64) = (Arc::from(name), hasher.finish());
        if let Ok(cache) = self.cache.read()
            && let Some(hit) = cache.get(&key)
        {
            return Ok(Arc::clone(hit));
        }
        let ast = self
            .engine
            .compile(source)
            .map_err(|e| ScriptError::from_parse(name, source, &e))?;
        let compiled = Arc::new(CompiledScript {
            name: Arc::clone(&key.0),
            source: Arc::from(source),
            ast,
        });
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key, Arc::clone(&compiled));
        }
        Ok(compiled)
    }

    /// Runs a compiled script's top level and returns its last value; `print` goes to stdout.
    ///
    /// # Errors
    /// The rendered-position [`ScriptError`] of the first failure.
    pub fn run(&self, script: &CompiledScript) -> Result<Dynamic, ScriptError> {
        let _deadline = DeadlineGuard::start(self.limits.wall_clock);
        let mut scope = Scope::new();
        self.engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &script.ast)
            .map_err(|e| script.error(&e))
    }

    /// Like [`ScriptHost::run`], but `print` output is captured and returned (also on error).
    pub fn run_captured(&self, script: &CompiledScript) -> (Result<Dynamic, ScriptError>, String) {
        let outer = PRINT_SINK.with(|s| s.borrow_mut().replace(String::new()));
        let result = self.run(script);
        let captured = PRINT_SINK.with(|s| std::mem::replace(&mut *s.borrow_mut(), outer));
        (result, captured.unwrap_or_default())
    }

    /// Compiles and runs `source` (see [`ScriptHost::compile`] and [`ScriptHost::run`]).
    ///
    /// # Errors
    /// A syntax or runtime [`ScriptError`].
    pub fn eval_source(&self, name: &str, source: &str) -> Result<Dynamic, ScriptError> {
        let script = self.compile(name, source)?;
        self.run(&script)
    }

    /// Calls the script function `fn_name` with `args`, without re-running the script's top
    /// level (`eval_ast(false)`): the fast path for rules.
    ///
    /// # Errors
    /// A runtime [`ScriptError`] (missing function, limits, a failure inside it).
    pub fn call_fn(
        &self,
        script: &CompiledScript,
        fn_name: &str,
        args: impl FuncArgs,
    ) -> Result<Dynamic, ScriptError> {
        let _deadline = DeadlineGuard::start(self.limits.wall_clock);
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        self.engine
            .call_fn_with_options::<Dynamic>(options, &mut scope, &script.ast, fn_name, args)
            .map_err(|e| script.error(&e))
    }
}

impl ScriptHost {
    /// `script` with the functions of `extra` (host-written helper functions, compiled
    /// with the same engine) added; a function of `extra` replaces one of the same name
    /// and arity in `script`, so callers check for clashes first.
    pub(crate) fn with_functions(
        &self,
        script: &CompiledScript,
        extra: &str,
    ) -> Result<CompiledScript, ScriptError> {
        let helpers = self
            .engine
            .compile(extra)
            .map_err(|e| ScriptError::from_parse(script.name(), extra, &e))?;
        Ok(CompiledScript {
            name: Arc::clone(&script.name),
            source: Arc::clone(&script.source),
            ast: script.ast.merge(&helpers),
        })
    }

    /// Calls `fn_name` with `this` bound to `this` (a method call: the function may mutate
    /// it, and what it did before a failure stays done), under the same limits as
    /// [`ScriptHost::call_fn`]. The raw Rhai error is returned for the caller to attribute.
    pub(crate) fn call_method_raw(
        &self,
        script: &CompiledScript,
        fn_name: &str,
        this: &mut Dynamic,
        args: impl FuncArgs,
    ) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
        let _deadline = DeadlineGuard::start(self.limits.wall_clock);
        let mut scope = Scope::new();
        let options = CallFnOptions::new()
            .eval_ast(false)
            .rewind_scope(true)
            .bind_this_ptr(this);
        self.engine
            .call_fn_with_options::<Dynamic>(options, &mut scope, &script.ast, fn_name, args)
    }
}

/// Checks that a script defines `name` with `arity` parameters: the load-time check of
/// every rule kind.
pub(crate) fn require_entry_point(
    script: &CompiledScript,
    name: &str,
    arity: usize,
    signature: &str,
) -> Result<(), ScriptError> {
    if script.has_fn(name, arity) {
        return Ok(());
    }
    let other = script
        .ast
        .iter_functions()
        .find(|f| f.name == name)
        .map(|f| format!(" (found `{name}` with {} parameters)", f.params.len()))
        .unwrap_or_default();
    Err(ScriptError::new(
        script.name(),
        ScriptErrorKind::Contract,
        format!("missing entry point `{signature}`{other}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4-thread pool, so the batch is split across threads whatever the machine has.
    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("a 4-thread pool")
    }

    fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
        let outer = PRINT_SINK.with(|s| s.borrow_mut().replace(String::new()));
        let r = f();
        let captured = PRINT_SINK.with(|s| std::mem::replace(&mut *s.borrow_mut(), outer));
        (r, captured.unwrap_or_default())
    }

    #[test]
    fn a_parallel_batch_prints_and_returns_in_item_order() {
        let host = ScriptHost::default();
        let script = host
            .compile("p.rhai", "fn f(x) { print(`item ${x}`); x * 2 }")
            .unwrap();
        let items: Vec<i64> = (0..500).collect();
        let (result, printed) = pool().install(|| {
            capture(|| in_parallel(&items, |&x| host.call_fn(&script, "f", (x,)).map(|v| v.as_int())))
        });
        let values: Vec<i64> = result.unwrap().into_iter().map(|v| v.unwrap()).collect();
        assert_eq!(values, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let expected: String = items.iter().map(|x| format!("item {x}\n")).collect();
        assert_eq!(printed, expected);
    }

    #[test]
    fn a_parallel_batch_stops_where_the_sequential_loop_would() {
        let host = ScriptHost::default();
        let script = host
            .compile(
                "p.rhai",
                "fn f(x) { print(`item ${x}`); if x == 57 || x == 300 { throw `boom ${x}` } x }",
            )
            .unwrap();
        let items: Vec<i64> = (0..500).collect();
        let (result, printed) =
            pool().install(|| capture(|| in_parallel(&items, |&x| host.call_fn(&script, "f", (x,)))));
        let err = result.unwrap_err().to_string();
        assert!(err.contains("boom 57"), "{err}");
        let expected: String = (0..=57).map(|x| format!("item {x}\n")).collect();
        assert_eq!(printed, expected, "no line of an item after the first failure");
    }

    #[test]
    fn workers_run_under_the_calling_threads_deadline() {
        let deadline = Instant::now().checked_add(Duration::from_secs(3600));
        let items: Vec<u32> = (0..64).collect();
        let pool = pool();
        // (`install` runs the closure on a pool thread: the caller's deadline is set there.)
        let seen = pool.install(|| {
            DEADLINE.with(|d| d.set(deadline));
            let r = in_parallel(&items, |_| {
                // Slow enough that the other workers steal items.
                std::thread::sleep(Duration::from_millis(2));
                Ok::<_, ()>((std::thread::current().id(), DEADLINE.with(Cell::get)))
            });
            DEADLINE.with(|d| d.set(None));
            r
        });
        let seen = seen.unwrap();
        let threads: std::collections::HashSet<_> = seen.iter().map(|(t, _)| *t).collect();
        assert!(threads.len() > 1, "the batch ran on one thread only");
        assert!(
            seen.iter().all(|(_, d)| *d == deadline),
            "a worker ran without the caller's deadline"
        );
        // And the workers' own (absent) deadline is restored afterwards.
        let after = pool.broadcast(|_| DEADLINE.with(Cell::get));
        assert!(after.iter().all(Option::is_none), "{after:?}");
    }
}
