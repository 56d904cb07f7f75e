//! Where an account's history store lives: `--store PATH`, else `$KAM_STORE`, else
//! `DIR/.kam/history.db`. Pure: the caller reads the environment and passes it in.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names a store file for every account (`KAM_STORE`).
pub const STORE_ENV: &str = "KAM_STORE";
/// The directory inside an account directory that holds kam's own files (`.kam`).
pub const STORE_DIR: &str = ".kam";
/// The store's file name inside [`STORE_DIR`] (`history.db`).
pub const STORE_FILE: &str = "history.db";

/// `account_dir/.kam/history.db`.
pub fn default_store_path(account_dir: &Path) -> PathBuf {
    account_dir.join(STORE_DIR).join(STORE_FILE)
}

/// The store file for an account: `explicit` (the CLI's `--store PATH`) if given, else
/// `env` (the value of [`STORE_ENV`], ignored when empty), else
/// [`default_store_path`]. Paths are returned as given: a relative one is relative to
/// the current directory, like any command-line path.
///
/// ```
/// use std::path::Path;
/// use kam_store::store_path;
/// let dir = Path::new("acme");
/// assert_eq!(store_path(dir, None, None), Path::new("acme/.kam/history.db"));
/// assert_eq!(store_path(dir, None, Some("/srv/h.db".into())), Path::new("/srv/h.db"));
/// assert_eq!(store_path(dir, Some(Path::new("x.db")), Some("/srv/h.db".into())), Path::new("x.db"));
/// ```
pub fn store_path(account_dir: &Path, explicit: Option<&Path>, env: Option<OsString>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    match env {
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => default_store_path(account_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_environment_beats_default() {
        let dir = Path::new("/accounts/acme");
        assert_eq!(
            store_path(dir, None, None),
            PathBuf::from("/accounts/acme/.kam/history.db")
        );
        assert_eq!(
            store_path(dir, None, Some(OsString::new())),
            default_store_path(dir)
        );
        assert_eq!(
            store_path(dir, None, Some("rel/h.db".into())),
            PathBuf::from("rel/h.db")
        );
        assert_eq!(
            store_path(dir, Some(Path::new("/x/y.db")), Some("rel/h.db".into())),
            PathBuf::from("/x/y.db")
        );
    }
}
