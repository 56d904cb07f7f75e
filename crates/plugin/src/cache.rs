//! Compiled components, kept so a plugin is compiled once: in memory for the life of a
//! host and, when the host has a cache directory, on disk between processes.
//!
//! Compiling a component takes a fifth of a second; a command-line run that loads its
//! plugins anew each time would pay that per plugin per run. A cached component is
//! wasmtime's serialized native code, so loading one back is `unsafe`: the file must be
//! one this code wrote. Each file therefore starts with a magic line and the SHA-256 of
//! what follows, checked before wasmtime sees a byte; a truncated, corrupted or foreign
//! file is a miss (compiled again and rewritten), never an error. The directory is
//! created private to the user: whoever can write it could plant native code, and so
//! could already run code as that user.
//!
//! Every plugin build leaves a file of a few hundred kilobytes, so the directory is swept
//! whenever a file is written (that is, after a compilation): files not used for
//! [`UNUSED_FOR`] go, and so do temporary files a crashed writer left. A file read back
//! has its modification time renewed, which is what "used" means here.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Identifies a compiled component: the SHA-256 of its bytes and a hash of everything
/// in the engine configuration that affects compiled code
/// ([`Engine::precompile_compatibility_hash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// SHA-256 of the component bytes.
    pub content: [u8; 32],
    /// Hash of the engine's compilation settings and wasmtime version.
    pub engine: u64,
}

impl std::fmt::Display for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.content {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-{:016x}", self.engine)
    }
}

/// Where a host's loads found their compiled components.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Loads that compiled the component.
    pub compiled: u64,
    /// Loads served from the host's memory.
    pub from_memory: u64,
    /// Loads served from the cache directory.
    pub from_disk: u64,
}

/// How long a cache file may go unused before a sweep removes it.
pub(crate) const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How old a temporary file must be before a sweep takes it for a crashed writer's.
const STALE_TEMPORARY: Duration = Duration::from_secs(60 * 60);

/// First bytes of a cache file; the version changes whenever the layout does.
const MAGIC: &[u8; 16] = b"kam-component-1\n";
const HEADER_LEN: usize = MAGIC.len() + 32;

pub(crate) struct ComponentCache {
    memory: Mutex<HashMap<CacheKey, Component>>,
    dir: Option<PathBuf>,
    compiled: AtomicU64,
    from_memory: AtomicU64,
    from_disk: AtomicU64,
}

impl ComponentCache {
    /// A cache in memory and, with `dir`, on disk (the directory must exist).
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache {
            memory: Mutex::new(HashMap::new()),
            dir,
            compiled: AtomicU64::new(0),
            from_memory: AtomicU64::new(0),
            from_disk: AtomicU64::new(0),
        }
    }

    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub(crate) fn len(&self) -> usize {
        self.memory.lock().map(|c| c.len()).unwrap_or(0)
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            from_memory: self.from_memory.load(Ordering::Relaxed),
            from_disk: self.from_disk.load(Ordering::Relaxed),
        }
    }

    /// The compiled component of `wasm`, whose key is `key`: from memory, from disk, or
    /// compiled now (and then kept in both).
    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        key: CacheKey,
        wasm: &[u8],
    ) -> Result<Component, String> {
        if let Some(component) = self.memory.lock().ok().and_then(|c| c.get(&key).cloned()) {
            self.from_memory.fetch_add(1, Ordering::Relaxed);
            return Ok(component);
        }
        // Read or compile outside the lock: compiling takes tens of milliseconds.
        let file = self.dir.as_ref().map(|d| d.join(format!("{key}.cwasm")));
        let from_disk = file
            .as_deref()
            .and_then(|f| read(engine, f).inspect(|_| mark_used(f)));
        let component = match from_disk {
            Some(component) => {
                self.from_disk.fetch_add(1, Ordering::Relaxed);
                component
            }
            None => {
                let component = Component::from_binary(engine, wasm)
                    .map_err(|e| format!("not a valid WebAssembly component: {e:#}"))?;
                self.compiled.fetch_add(1, Ordering::Relaxed);
                // The cache only saves time: a full disk or a read-only directory must
                // not stop a plugin from loading.
                if let Some(file) = &file
                    && write(file, &component).is_ok()
                {
                    sweep(file);
                }
                component
            }
        };
        if let Ok(mut memory) = self.memory.lock() {
            memory.entry(key).or_insert_with(|| component.clone());
        }
        Ok(component)
    }
}

/// Creates the cache directory, private to the user where the platform allows.
pub(crate) fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The component in `file`, if it is a complete cache file this code wrote for an engine
/// like `engine`.
fn read(engine: &Engine, file: &Path) -> Option<Component> {
    let bytes = std::fs::read(file).ok()?;
    let (header, payload) = bytes.split_at_checked(HEADER_LEN)?;
    let (magic, digest) = header.split_at(MAGIC.len());
    if magic != MAGIC || digest != Sha256::digest(payload).as_slice() {
        return None;
    }
    // SAFETY: `Component::deserialize` runs the native code in `payload`, so it must be
    // what `Component::serialize` produced. The digest shows the payload is exactly what
    // `write` below stored — nothing truncated or corrupted — and wasmtime itself refuses
    // code compiled by another version or with other settings. A deliberate forgery
    // needs write access to a directory private to the user (see the module docs).
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, payload) };
    component.ok()
}

/// Renews `file`'s modification time (best effort), so sweeps keep it.
fn mark_used(file: &Path) {
    if let Ok(handle) = std::fs::OpenOptions::new().write(true).open(file) {
        let _ = handle.set_modified(SystemTime::now());
    }
}

/// Removes the cache files in `kept`'s directory unused for [`UNUSED_FOR`] and stale
/// temporary files, sparing `kept` itself. Best effort: whatever cannot be read or
/// removed stays.
fn sweep(kept: &Path) {
    let Some(dir) = kept.parent() else { return };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let limit = if name.ends_with(".cwasm") && !name.starts_with('.') {
            UNUSED_FOR
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            STALE_TEMPORARY
        } else {
            continue;
        };
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok());
        if path != kept && age.is_some_and(|a| a > limit) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Stores `component` in `file`: written to a temporary file beside it (private to the
/// user, removed if anything fails) and renamed into place, so a reader sees the old file
/// or the whole new one.
fn write(file: &Path, component: &Component) -> std::io::Result<()> {
    let payload = component.serialize().map_err(std::io::Error::other)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    // Named so a sweep recognises one a crashed writer left (see `sweep`).
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(MAGIC)?;
    tmp.write_all(&Sha256::digest(&payload))?;
    tmp.write_all(&payload)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}
