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
