//! kam-store: an account's history — revisions of the whole parsed account with their
//! headline figures, and events such as alert acknowledgements — kept in one embedded
//! SQLite file, behind the small [`HistoryStore`] trait so an integrator can keep
//! history elsewhere.
//!
//! What it is **not**: it does not parse accounts, compute figures, diff plans or read a
//! clock. It stores the bytes and JSON values it is given (the CLI canonicalises the
//! account into named parts and passes the time in) and gives them back exactly. It
//! depends on no other kam crate.
//!
//! # Guarantees (invariant 9, "nothing lost")
//!
//! - **Append-only.** Revisions and events are only ever inserted; ids increase in commit
//!   order and are never reused. Labels are unique: saving a label again is
//!   [`StoreError::DuplicateLabel`] naming the revision that has it.
//! - **Atomic and concurrent.** Each save is one `BEGIN IMMEDIATE` transaction; writers
//!   from several processes wait for each other (`busy_timeout`, 30 s by default) and
//!   every save lands, in some order. A process killed mid-save leaves every earlier
//!   revision intact and no part of its own.
//! - **Durable against a killed process, not a power cut.** WAL mode with
//!   `synchronous = NORMAL`: a commit is in the WAL when `save` returns, which survives
//!   the process; after a power loss or OS crash the last commits may be missing (never
//!   half there).
//! - **Leaves the account alone.** The only files written are the store, its `-wal` and
//!   `-shm` files and, by default, the directory `DIR/.kam/` that holds them.
//! - **Refuses what it does not understand**, naming the file, never panicking and never
//!   writing to it: garbage, a truncated store, another program's SQLite database
//!   (`application_id`), a store written by a newer schema.
//! - **Small.** Content is addressed by SHA-256, so a part that did not change is not
//!   stored again; a part that changed is stored as a delta against its previous version
//!   when that is at most half its size (chains of at most 128 deltas).
//!
//! # Where the store is
//!
//! `DIR/.kam/history.db` by default; `--store PATH` or `$KAM_STORE` elsewhere —
//! [`store_path`] decides, given both.
//!
//! # Schema (version 2)
//!
//! The file is an ordinary SQLite 3 database; open it with any SQLite tool (read-only
//! use is safe at any time; do not write to it). Pragmas: `application_id = 0x4B414D48`
//! (`"KAMH"`), `user_version` = schema version, `journal_mode = WAL`.
//!
//! | table | column | meaning |
//! |---|---|---|
//! | `revision` | `id` | revision number (`INTEGER PRIMARY KEY AUTOINCREMENT`: commit order, never reused) |
//! | | `label` | unique label |
//! | | `saved_at` | RFC 3339 time with the offset as given (`2026-09-30T17:05:00+02:00`) |
//! | | `saved_at_ms` | the same instant in UTC milliseconds since 1970 (floored) |
//! | | `author`, `message` | text or `NULL` |
//! | | `headline` | the headline figures, JSON text |
//! | | `part_count`, `total_bytes` | number and total size of its parts |
//! | | `new_bytes` | size of the content no earlier revision had |
//! | | `stored_bytes` | bytes written for that content (after delta encoding) |
//! | | `parts_changed` | parts added, removed or changed vs the previous revision |
//! | `part` | `name`, `since` | part `name` has this content from revision `since` on… |
//! | | `blob` | …until a later row for the same name; `NULL`: removed in `since` |
//! | `blob` | `id` | blob number |
//! | | `sha256` | SHA-256 of the content (32 bytes, unique: the content's address) |
//! | | `size` | content size in bytes |
//! | | `base`, `depth` | `NULL`, 0: `data` is the content; else `data` is a delta against blob `base`, `depth` deltas from whole content |
//! | | `data` | the content or the delta |
//! | `event` | `id` | event number (append order) |
//! | | `at`, `at_ms` | RFC 3339 time as given; UTC milliseconds (v2) |
//! | | `kind`, `subject` | what kind of event, about what (indexed together, v2) |
//! | | `author` | text or `NULL` |
//! | | `payload` | JSON text |
//!
//! The view `revision_part (revision_id, name, blob_id)` lists every revision's parts.
//! A revision only writes `part` rows for the parts that differ from the previous
//! revision, which keeps a revision that changes one part at one row.
//!
//! Migrations: version 1 created the tables above without `event.at_ms` and the event
//! indexes; version 2 added them (filling `at_ms` for existing events). A store is
//! migrated forward, in one transaction, when opened; a store newer than this build is
//! refused ([`StoreError::NewerSchema`]). See `docs/history-store.md` for example queries.
//!
//! # Example
//!
//! ```
//! use kam_store::{HistoryStore, NewRevision, Selector, SqliteStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut store = SqliteStore::open_for_dir(dir.path())?;
//! let at = chrono::DateTime::parse_from_rfc3339("2026-09-30T17:05:00+02:00")?;
//! let id = store.save(
//!     &NewRevision::new("EBR 2026-Q3", at)
//!         .author("A. Director")
//!         .part("plan", b"[plan]\nvision = \"...\"\n".to_vec())
//!         .headline(serde_json::json!({ "revenue": "1250000.00" })),
//! )?;
//! let revision = store.get(&Selector::Label("EBR 2026-Q3".into()))?;
//! assert_eq!(revision.info.id, id);
//! assert_eq!(store.list()?.len(), 1);
//! # Ok(()) }
//! ```

mod delta;
mod error;
mod memory;
mod path;
mod schema;
mod sqlite;
mod types;

pub use error::{BoxError, StoreError};
pub use memory::MemoryStore;
pub use path::{STORE_DIR, STORE_ENV, STORE_FILE, default_store_path, store_path};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use sqlite::{DEFAULT_BUSY_TIMEOUT, SqliteStore, VerifyReport};
pub use types::{
    Event, EventFilter, EventId, NewEvent, NewRevision, PartChange, Revision, RevisionId, RevisionInfo,
    Selector, end_of_day, part_changes,
};

/// Where an account's history is kept. [`SqliteStore`] is kam's; [`MemoryStore`] keeps
/// it in memory. An integrator's own backend implements the same contract:
///
/// - `save` stores the revision whole or not at all, and refuses a label already taken
///   ([`StoreError::DuplicateLabel`]); ids increase with every save.
/// - `list` returns every revision in id (save) order.
/// - `get`/`info` return the revision a [`Selector`] names, or
///   [`StoreError::NotFound`]; `get` returns the parts and headline exactly as saved.
/// - `append_event` never changes earlier events; `events` returns those matching the
///   filter, in append order.
pub trait HistoryStore {
    /// Saves a revision and returns its id.
    fn save(&mut self, revision: &NewRevision) -> Result<RevisionId, StoreError>;
    /// Every revision, oldest (lowest id) first, without parts.
    fn list(&self) -> Result<Vec<RevisionInfo>, StoreError>;
    /// The revision `selector` names, without parts.
    fn info(&self, selector: &Selector) -> Result<RevisionInfo, StoreError>;
    /// The revision `selector` names, with headline and parts.
    fn get(&self, selector: &Selector) -> Result<Revision, StoreError>;
    /// Appends an event and returns its id.
    fn append_event(&mut self, event: &NewEvent) -> Result<EventId, StoreError>;
    /// The events matching `filter`, in append order.
    fn events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError>;
}
