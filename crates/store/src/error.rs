//! `StoreError`: every way opening, reading or writing a history store can fail, each
//! naming the file (or, for an integrator's own store, its location).

use std::error::Error as StdError;
use std::path::PathBuf;

use crate::types::RevisionId;

/// A boxed error cause, kept as the `source()` of a [`StoreError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a history-store operation failed.
///
/// Every variant names the store's file (`file`), so a message read without context still
/// says which store is at fault; the low-level cause (SQLite's or the OS's error) is
/// kept as the [`source`](std::error::Error::source) and, where it helps, repeated in
/// the message. New variants may be added: match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory that should hold the store could not be created (a read-only
    /// account directory, a file where the directory should be, …).
    #[error("{}: cannot create the history store's directory: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// [`SqliteStore::open_existing`](crate::SqliteStore::open_existing) found no store.
    #[error("{}: no history store here (nothing has been saved yet)", file.display())]
    Missing {
        /// The file that does not exist.
        file: PathBuf,
    },
    /// The file could not be opened or created: its directory is missing or not writable,
    /// the path is a directory, permission is denied, ….
    #[error("{}: cannot open the history store: {source}", file.display())]
    CannotOpen {
        /// The store's file.
        file: PathBuf,
        /// SQLite's or the OS's error.
        source: BoxError,
    },
    /// The store (or its directory, which must hold the `-wal` and `-shm` files) is
    /// read-only, so nothing can be saved.
    #[error("{}: the history store is read-only: {source}", file.display())]
    ReadOnly {
        /// The store's file.
        file: PathBuf,
        /// SQLite's error.
        source: BoxError,
    },
    /// The file is not an SQLite database at all (garbage, or cut off inside the header).
    #[error("{}: not a kam history store: {detail}", file.display())]
    NotADatabase {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The file is an SQLite database that belongs to another program (its
    /// `application_id` is not kam's, or it holds tables but was never a kam store).
    /// The store never writes to such a file.
    #[error(
        "{}: an SQLite database of another program, not a kam history store \
         (application_id {application_id:#010x}, user_version {user_version})",
        file.display()
    )]
    Foreign {
        /// The file.
        file: PathBuf,
        /// The `PRAGMA application_id` found (kam's is [`APPLICATION_ID`](crate::APPLICATION_ID)).
        application_id: i32,
        /// The `PRAGMA user_version` found.
        user_version: i64,
    },
    /// The store was written by a newer kam whose schema this kam does not know. It is
    /// left untouched; upgrade kam to read it.
    #[error(
        "{}: the history store has schema version {found}, newer than this kam reads \
         (up to {supported}); upgrade kam",
        file.display()
    )]
    NewerSchema {
        /// The store's file.
        file: PathBuf,
        /// The schema version in the file (`PRAGMA user_version`).
        found: i64,
        /// The newest schema version this build reads ([`SCHEMA_VERSION`](crate::SCHEMA_VERSION)).
        supported: i64,
    },
    /// The store is damaged: truncated, a page SQLite reports as malformed, or content
    /// whose SHA-256 does not match its address.
    #[error("{}: the history store is damaged: {detail}", file.display())]
    Corrupt {
        /// The store's file.
        file: PathBuf,
        /// What was found.
        detail: String,
        /// SQLite's error, when SQLite found it.
        source: Option<BoxError>,
    },
    /// Another process kept the store locked for longer than the busy timeout.
    #[error("{}: the history store stayed locked by another process: {source}", file.display())]
    Busy {
        /// The store's file.
        file: PathBuf,
        /// SQLite's error.
        source: BoxError,
    },
    /// A revision with this label already exists; labels are unique so that a label
    /// names exactly one revision.
    #[error("{}: label {label:?} is already taken by revision {existing}", file.display())]
    DuplicateLabel {
        /// The store's file.
        file: PathBuf,
        /// The label.
        label: String,
        /// The revision that has it.
        existing: RevisionId,
    },
    /// No revision matches the selector.
    #[error("{}: no revision {selector}", file.display())]
    NotFound {
        /// The store's file.
        file: PathBuf,
        /// The selector, as text (`label "EBR 2026-Q3"`, `id 7`, …).
        selector: String,
    },
    /// The revision or event to store is not acceptable (an empty label, part name, kind
    /// or subject; a control character in a label).
    #[error("{}: {what}", file.display())]
    Invalid {
        /// The store's file.
        file: PathBuf,
        /// What is wrong, naming the field.
        what: String,
    },
    /// Any other SQLite failure (disk full, I/O error, …).
    #[error("{}: {source}", file.display())]
    Database {
        /// The store's file.
        file: PathBuf,
        /// SQLite's error.
        source: BoxError,
    },
    /// A failure of an integrator's own [`HistoryStore`](crate::HistoryStore) backend.
    #[error("{location}: {source}")]
    Backend {
        /// Where the history is kept (a URL, a table name, …).
        location: String,
        /// The backend's error.
        source: BoxError,
    },
}

impl StoreError {
    /// The store's file (or an integrator backend's location as a path), when the
    /// error has one.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            StoreError::CreateDir { dir, .. } => Some(dir),
            StoreError::Missing { file }
            | StoreError::CannotOpen { file, .. }
            | StoreError::ReadOnly { file, .. }
            | StoreError::NotADatabase { file, .. }
            | StoreError::Foreign { file, .. }
            | StoreError::NewerSchema { file, .. }
            | StoreError::Corrupt { file, .. }
            | StoreError::Busy { file, .. }
            | StoreError::DuplicateLabel { file, .. }
            | StoreError::NotFound { file, .. }
            | StoreError::Invalid { file, .. }
            | StoreError::Database { file, .. } => Some(file),
            StoreError::Backend { .. } => None,
        }
    }
}
