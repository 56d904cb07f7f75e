//! Builds the guest plugins in `plugins/` from source, once per test or bench process.
//! Used by the root package's tests and benches and, by path, by kam-cli's tests.
//!
//! Runs `cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml`
//! with the outer cargo's build settings removed from the environment (flags, target dir
//! and target meant for the host crates must not leak into the guest build). If the
//! `wasm32-wasip2` target is missing it runs `rustup target add wasm32-wasip2`, or fails
//! saying exactly that.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const TARGET: &str = "wasm32-wasip2";

/// Environment variables of the outer cargo that would change the guest build.
fn leaks_into_guest_build(key: &str) -> bool {
    let keep = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
    ];
    (key.starts_with("CARGO_") && !keep.iter().any(|k| key.starts_with(k)))
        || matches!(
            key,
            "RUSTFLAGS" | "RUSTDOCFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO"
        )
}

/// The repository root: the nearest ancestor of the including crate's directory that
/// holds `plugins/Cargo.toml` (the root package itself, or e.g. `crates/cli`, whose tests
/// include this file by path).
fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("plugins/Cargo.toml").is_file())
        .unwrap_or(here)
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && leaks_into_guest_build(key)
        {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(repo_root());
    cmd
}

fn target_installed() -> bool {
    let Ok(out) = Command::new("rustc")
        .current_dir(repo_root())
        .args(["--print", "sysroot"])
        .output()
    else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Path::new(&sysroot).join("lib/rustlib").join(TARGET).is_dir()
}

fn ensure_target() -> Result<(), String> {
    if target_installed() {
        return Ok(());
    }
    eprintln!("the {TARGET} target is missing; running `rustup target add {TARGET}`");
    let status = Command::new("rustup")
        .current_dir(repo_root())
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() && target_installed() => Ok(()),
        other => Err(format!(
            "the {TARGET} target is not installed and `rustup target add {TARGET}` failed ({other:?}); \
             run `rustup target add {TARGET}` and retry"
        )),
    }
}

fn build() -> Result<PathBuf, String> {
    ensure_target()?;
    let root = repo_root();
    let target_dir = root.join("plugins/target");
    let out = cargo()
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(root.join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .output()
        .map_err(|e| format!("cannot run cargo to build the guest plugins: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the guest plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(target_dir.join(TARGET).join("release"))
}

/// The directory holding the built plugins (built on first use).
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(build) {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// The path of plugin crate `name` (e.g. `volume-rebate`).
pub fn wasm_path(name: &str) -> PathBuf {
    plugin_dir().join(format!("{}.wasm", name.replace('-', "_")))
}

/// The component bytes of plugin crate `name`.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A guest of `plugins/` written in another language than Rust, built with its pinned
/// tool (installed by `tools/test.sh` into git-ignored directories).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// `plugins/volume-rebate-py`, by componentize-py (plugins/target/py, a venv).
    Python,
    /// `plugins/volume-rebate-js`, by componentize-js with `--disable http fetch-event`.
    JavaScript,
    /// The same JavaScript built with componentize-js's defaults: it imports `wasi:http`,
    /// which kam does not provide.
    JavaScriptWithHttp,
}

impl Foreign {
    /// The built component's file name, under `plugins/target/foreign/`.
    fn file(self) -> &'static str {
        match self {
            Foreign::Python => "volume_rebate_py.wasm",
            Foreign::JavaScript => "volume_rebate_js.wasm",
            Foreign::JavaScriptWithHttp => "volume_rebate_js_http.wasm",
        }
    }

    /// The tool, or why it is missing.
    fn tool(self, root: &Path) -> Result<PathBuf, String> {
        let (tool, install) = match self {
            Foreign::Python => (
                root.join("plugins/target/py/bin/componentize-py"),
                "python3 -m venv plugins/target/py && plugins/target/py/bin/pip install -r plugins/volume-rebate-py/requirements.txt",
            ),
            Foreign::JavaScript | Foreign::JavaScriptWithHttp => (
                root.join("plugins/volume-rebate-js/node_modules/.bin/componentize-js"),
                "npm ci --prefix plugins/volume-rebate-js",
            ),
        };
        if tool.is_file() {
            Ok(tool)
        } else {
            Err(format!(
                "{} is not installed (./tools/test.sh installs it; by hand: `{install}`)",
                tool.display()
            ))
        }
    }

    /// The files whose change means a rebuild.
    fn inputs(self, root: &Path) -> Vec<PathBuf> {
        let mut inputs = vec![root.join("wit/rules.wit")];
        inputs.extend(
            match self {
                Foreign::Python => [
                    "plugins/volume-rebate-py/app.py",
                    "plugins/volume-rebate-py/requirements.txt",
                ],
                Foreign::JavaScript | Foreign::JavaScriptWithHttp => [
                    "plugins/volume-rebate-js/rebate.js",
                    "plugins/volume-rebate-js/package-lock.json",
                ],
            }
            .map(|p| root.join(p)),
        );
        inputs
    }

    fn command(self, root: &Path, tool: &Path, out: &Path) -> Command {
        let mut cmd = Command::new(tool);
        cmd.current_dir(root);
        match self {
            Foreign::Python => {
                cmd.args([
                    "-d",
                    "wit",
                    "-w",
                    "pricing-rule",
                    "componentize",
                    "-p",
                    "plugins/volume-rebate-py",
                    "app",
                    "-o",
                ]);
            }
            Foreign::JavaScript | Foreign::JavaScriptWithHttp => {
                cmd.args([
                    "plugins/volume-rebate-js/rebate.js",
                    "--wit",
                    "wit",
                    "--world-name",
                    "pricing-rule",
                ]);
                // `http` alone still leaves the wasi:http types StarlingMonkey's fetch
                // event uses; both must go for a component kam can link.
                if self == Foreign::JavaScript {
                    cmd.args(["--disable", "http", "fetch-event"]);
                }
                cmd.arg("-o");
            }
        }
        cmd.arg(out);
        cmd
    }

    /// Builds the component unless a build newer than its inputs is there (so the root
    /// tests and kam-cli's tests of one `cargo test` build it once).
    fn build(self) -> Result<PathBuf, String> {
        let root = repo_root();
        let tool = self.tool(&root)?;
        let dir = root.join("plugins/target/foreign");
        let out = dir.join(self.file());
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if let Some(built) = modified(&out)
            && self
                .inputs(&root)
                .iter()
                .chain([&tool])
                .all(|input| modified(input).is_some_and(|m| m <= built))
        {
            return Ok(out);
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // Written beside the target and renamed, so an interrupted build leaves no
        // component that looks fresh.
        let partial = dir.join(format!("{}.{}.partial", self.file(), std::process::id()));
        let result = self
            .command(&root, &tool, &partial)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
        if !result.status.success() {
            return Err(format!(
                "building {} with {} failed:\n{}{}",
                self.file(),
                tool.display(),
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            ));
        }
        std::fs::rename(&partial, &out).map_err(|e| format!("cannot move {}: {e}", out.display()))?;
        Ok(out)
    }
}

/// The component of `guest`, built on first use in this process; `None` (after saying
/// "skipping: …" on stderr, past the test harness's capture) when its tool is not
/// installed. A tool that is installed but fails to build the guest is a test failure.
pub fn foreign_wasm_path(guest: Foreign) -> Option<PathBuf> {
    static BUILT: [OnceLock<Result<PathBuf, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match guest {
        Foreign::Python => 0,
        Foreign::JavaScript => 1,
        Foreign::JavaScriptWithHttp => 2,
    };
    let root = repo_root();
    if let Err(missing) = guest.tool(&root) {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "skipping: the {guest:?} guest: {missing}");
        return None;
    }
    match BUILT[slot].get_or_init(|| guest.build()) {
        Ok(path) => Some(path.clone()),
        Err(e) => panic!("{e}"),
    }
}
