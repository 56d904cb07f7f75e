//! `SqliteStore`: the [`HistoryStore`] in one SQLite file (WAL mode, bundled SQLite).
//!
//! How it keeps invariant 9 ("nothing lost"):
//!
//! - every save and every event is one `BEGIN IMMEDIATE` transaction: it takes the write
//!   lock before reading what it builds on (the previous revision, existing blobs), so
//!   two writers never interleave, and a killed writer leaves no trace (the WAL frames
//!   of an uncommitted transaction are ignored on the next open);
//! - a `busy_timeout` makes a second writer wait for the first instead of failing;
//! - `synchronous = NORMAL` in WAL mode: a committed transaction survives the process
//!   being killed (it is in the WAL, which the OS holds), but the last commits before a
//!   power cut or OS crash may be lost (the WAL is synced at checkpoints only). The store
//!   is never left inconsistent either way;
//! - nothing is updated or deleted: content is addressed by SHA-256 and only inserted;
//! - the only files touched are the store, its `-wal` and `-shm` files and, when
//!   missing, the directory that holds them.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use rusqlite::types::{Type, Value as SqlValue};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::HistoryStore;
use crate::delta;
use crate::error::{BoxError, StoreError};
use crate::path::default_store_path;
use crate::schema::{self, APPLICATION_ID, SCHEMA_VERSION};
use crate::types::{
    Event, EventFilter, EventId, NewEvent, NewRevision, Revision, RevisionId, RevisionInfo, Selector,
    part_changes,
};

/// How long a writer waits for another writer's lock before giving up (default).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest chain of deltas before a part's content is stored whole again. Reading a
/// part applies at most this many deltas.
const MAX_DELTA_DEPTH: i64 = 128;

/// A delta is kept only if it is at most this fraction (1/n) of the content it encodes.
const DELTA_WORTH_IT: usize = 2;

/// What [`SqliteStore::verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Revisions whose every part was read back and matched its SHA-256.
    pub revisions: u64,
    /// Distinct stored contents (blobs), each decoded and checked.
    pub blobs: u64,
    /// Events.
    pub events: u64,
}

/// The account history in one SQLite file. See the [crate documentation](crate) for the
/// schema.
///
/// A `SqliteStore` is one connection: `Send`, not `Sync`. Any number of processes (or
/// threads, each with its own store) may open the same file; their saves are serialized
/// by SQLite's write lock.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    file: PathBuf,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it (and its directory, if that is the only
    /// missing one) when it does not exist, and migrating it to the current schema.
    ///
    /// Refuses, without writing to it, a file that is not a kam store (garbage, another
    /// program's database, a truncated store) or that a newer kam wrote.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let file = path.as_ref().to_path_buf();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            let create_dir_error = |source| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            };
            if dir.exists() {
                return Err(create_dir_error(std::io::Error::new(
                    ErrorKind::NotADirectory,
                    "a file is in the way (not a directory)",
                )));
            }
            fs::create_dir(dir).map_err(create_dir_error)?;
        }
        Self::open_with(file, true)
    }

    /// Opens an existing store; [`StoreError::Missing`] (and nothing created) if there is
    /// none. For commands that only read (`kam history list`, `kam changes`).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path.as_ref().to_path_buf(), false)
    }

    /// Opens (creating if needed) the account's default store, `account_dir/.kam/history.db`.
    /// Creates `.kam/` when missing; touches nothing else in `account_dir`.
    pub fn open_for_dir(account_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open(default_store_path(account_dir.as_ref()))
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Sets how long a save waits for another process's write lock (default
    /// [`DEFAULT_BUSY_TIMEOUT`]) before failing with [`StoreError::Busy`].
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| sql_error(&self.file, e))
    }

    fn open_with(file: PathBuf, create: bool) -> Result<Self, StoreError> {
        let exists = precheck(&file)?;
        if !exists && !create {
            return Err(StoreError::Missing { file });
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&file, flags).map_err(|e| sql_error(&file, e))?;
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)
            .map_err(|e| sql_error(&file, e))?;
        let mut store = SqliteStore { conn, file };
        store.bring_up_to_date()?;
        Ok(store)
    }

    /// Reads what the file is, refuses foreign and newer files, switches to WAL and
    /// applies missing migrations in one write transaction.
    fn bring_up_to_date(&mut self) -> Result<(), StoreError> {
        let file = self.file.clone();
        let err = |e| sql_error(&file, e);
        // One read transaction, so the three values come from the same state of the file
        // even while another process is creating or migrating it.
        let (application_id, version, objects) = {
            let tx = self.conn.transaction().map_err(err)?;
            let identity = identify(&tx).map_err(err)?;
            tx.commit().map_err(err)?;
            identity
        };
        check_identity(&file, application_id, version, objects)?;
        let mode: String = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::CannotOpen {
                file: file.clone(),
                source: format!("could not switch to WAL mode (journal_mode is {mode})").into(),
            });
        }
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(err)?;
        if application_id == APPLICATION_ID && version == SCHEMA_VERSION {
            return Ok(());
        }
        // Another process may be creating or migrating the same file: decide again under
        // the write lock.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let (application_id, version, objects) = identify(&tx).map_err(err)?;
        check_identity(&file, application_id, version, objects)?;
        if version < SCHEMA_VERSION {
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(err)?;
            schema::migrate(&tx, version).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Reads the whole store back and checks it: SQLite's `integrity_check` and
    /// `foreign_key_check`, every blob decoded and matched against its SHA-256, every
    /// revision's parts complete (count and total size as recorded when it was saved).
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let file = &self.file;
        let err = |e| sql_error(file, e);
        let corrupt = |detail: String| StoreError::Corrupt {
            file: file.clone(),
            detail,
            source: None,
        };
        let problems: Vec<String> = {
            let mut statement = self.conn.prepare("PRAGMA integrity_check").map_err(err)?;
            statement
                .query_map([], |row| row.get(0))
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?
        };
        if problems != ["ok"] {
            return Err(corrupt(format!("integrity_check: {}", problems.join("; "))));
        }
        let dangling: Option<String> = self
            .conn
            .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
            .optional()
            .map_err(err)?;
        if let Some(table) = dangling {
            return Err(corrupt(format!("a row of table {table} refers to a missing row")));
        }
        let blob_ids: Vec<i64> = {
            let mut statement = self
                .conn
                .prepare("SELECT id FROM blob ORDER BY id")
                .map_err(err)?;
            statement
                .query_map([], |row| row.get(0))
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?
        };
        let mut sizes = BTreeMap::new();
        for &id in &blob_ids {
            sizes.insert(id, load_blob(&self.conn, file, id)?.len() as u64);
        }
        let revisions = self.list()?;
        for info in &revisions {
            let parts = parts_at(&self.conn, info.id.0).map_err(err)?;
            let total: u64 = parts.values().map(|id| sizes.get(id).copied().unwrap_or(0)).sum();
            if parts.len() as u64 != info.part_count || total != info.total_bytes {
                return Err(corrupt(format!(
                    "revision {} ({:?}) has {} parts of {} bytes, saved with {} parts of {} bytes",
                    info.id,
                    info.label,
                    parts.len(),
                    total,
                    info.part_count,
                    info.total_bytes
                )));
            }
        }
        let events = self
            .conn
            .query_row("SELECT count(*) FROM event", [], |row| get_u64(row, 0))
            .map_err(err)?;
        Ok(VerifyReport {
            revisions: revisions.len() as u64,
            blobs: blob_ids.len() as u64,
            events,
        })
    }

    fn resolve(&self, selector: &Selector) -> Result<RevisionInfo, StoreError> {
        let err = |e| sql_error(&self.file, e);
        let found = match selector {
            Selector::Id(id) => self
                .conn
                .prepare_cached(&format!("{INFO_SELECT} WHERE id = ?1"))
                .and_then(|mut s| s.query_row([id.0], info_from_row).optional())
                .map_err(err)?,
            Selector::Label(label) => self
                .conn
                .prepare_cached(&format!("{INFO_SELECT} WHERE label = ?1"))
                .and_then(|mut s| s.query_row([label], info_from_row).optional())
                .map_err(err)?,
            Selector::Latest => self
                .conn
                .prepare_cached(&format!("{INFO_SELECT} ORDER BY id DESC LIMIT 1"))
                .and_then(|mut s| s.query_row([], info_from_row).optional())
                .map_err(err)?,
            Selector::AtOrBefore(at) => self.at_or_before(at).map_err(err)?,
        };
        found.ok_or_else(|| StoreError::NotFound {
            file: self.file.clone(),
            selector: selector.to_string(),
        })
    }

    /// The revision with the latest `saved_at` ≤ `at`, ties to the highest id.
    /// `saved_at_ms` holds UTC milliseconds (floored), so candidates sharing the first
    /// qualifying millisecond are compared exactly. No index: revisions are saved by hand,
    /// and scanning thousands of rows takes well under a millisecond.
    fn at_or_before(&self, at: &DateTime<FixedOffset>) -> rusqlite::Result<Option<RevisionInfo>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "{INFO_SELECT} WHERE saved_at_ms <= ?1 ORDER BY saved_at_ms DESC, id DESC"
        ))?;
        let mut rows = statement.query([at.timestamp_millis()])?;
        let mut best: Option<RevisionInfo> = None;
        while let Some(row) = rows.next()? {
            let info = info_from_row(row)?;
            if let Some(chosen) = &best
                && chosen.saved_at.timestamp_millis() != info.saved_at.timestamp_millis()
            {
                break;
            }
            if info.saved_at <= *at
                && best
                    .as_ref()
                    .is_none_or(|b| (info.saved_at, info.id) > (b.saved_at, b.id))
            {
                best = Some(info);
            }
        }
        Ok(best)
    }
}

impl HistoryStore for SqliteStore {
    fn save(&mut self, revision: &NewRevision) -> Result<RevisionId, StoreError> {
        revision.validate(&self.file)?;
        let file = self.file.clone();
        let err = |e| sql_error(&file, e);
        let headline = serde_json::to_string(&revision.headline).map_err(|e| StoreError::Invalid {
            file: file.clone(),
            what: format!("headline: {e}"),
        })?;

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let existing: Option<i64> = tx
            .prepare_cached("SELECT id FROM revision WHERE label = ?1")
            .and_then(|mut s| s.query_row([&revision.label], |row| row.get(0)).optional())
            .map_err(err)?;
        if let Some(existing) = existing {
            return Err(StoreError::DuplicateLabel {
                file: file.clone(),
                label: revision.label.clone(),
                existing: RevisionId(existing),
            });
        }
        let previous: Option<i64> = tx
            .query_row("SELECT max(id) FROM revision", [], |row| row.get(0))
            .map_err(err)?;
        let previous_parts = match previous {
            Some(id) => parts_at(&tx, id).map_err(err)?,
            None => BTreeMap::new(),
        };

        let (mut total_bytes, mut new_bytes, mut stored_bytes) = (0u64, 0u64, 0u64);
        let mut blob_ids = BTreeMap::new();
        for (name, bytes) in &revision.parts {
            total_bytes += bytes.len() as u64;
            let sha256 = Sha256::digest(bytes);
            let known: Option<i64> = tx
                .prepare_cached("SELECT id FROM blob WHERE sha256 = ?1")
                .and_then(|mut s| s.query_row([sha256.as_slice()], |row| row.get(0)).optional())
                .map_err(err)?;
            let id = match known {
                Some(id) => id,
                None => {
                    let (base, depth, data) =
                        encode_against(&tx, &file, previous_parts.get(name).copied(), bytes)?;
                    tx.prepare_cached(
                        "INSERT INTO blob (sha256, size, base, depth, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![sha256.as_slice(), bytes.len() as i64, base, depth, data])
                    })
                    .map_err(err)?;
                    new_bytes += bytes.len() as u64;
                    stored_bytes += data.len() as u64;
                    tx.last_insert_rowid()
                }
            };
            blob_ids.insert(name.clone(), id);
        }
        let changes = part_changes(&previous_parts, &blob_ids);

        tx.prepare_cached(
            "INSERT INTO revision (label, saved_at, saved_at_ms, author, message, headline, part_count, \
             total_bytes, new_bytes, stored_bytes, parts_changed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut s| {
            s.execute(params![
                revision.label,
                revision.saved_at.to_rfc3339(),
                revision.saved_at.timestamp_millis(),
                revision.author,
                revision.message,
                headline,
                blob_ids.len() as i64,
                total_bytes as i64,
                new_bytes as i64,
                stored_bytes as i64,
                changes.len() as i64,
            ])
        })
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO part (name, since, blob) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for change in &changes {
                let (name, blob) = match change {
                    crate::PartChange::Added(name) | crate::PartChange::Modified(name) => {
                        (name, blob_ids.get(name).copied())
                    }
                    crate::PartChange::Removed(name) => (name, None),
                };
                insert.execute(params![name, id, blob]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(RevisionId(id))
    }

    fn list(&self) -> Result<Vec<RevisionInfo>, StoreError> {
        let err = |e| sql_error(&self.file, e);
        let mut statement = self
            .conn
            .prepare_cached(&format!("{INFO_SELECT} ORDER BY id"))
            .map_err(err)?;
        let rows = statement.query_map([], info_from_row).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn info(&self, selector: &Selector) -> Result<RevisionInfo, StoreError> {
        self.resolve(selector)
    }

    fn get(&self, selector: &Selector) -> Result<Revision, StoreError> {
        let err = |e| sql_error(&self.file, e);
        let info = self.resolve(selector)?;
        let headline: String = self
            .conn
            .query_row(
                "SELECT headline FROM revision WHERE id = ?1",
                [info.id.0],
                |row| row.get(0),
            )
            .map_err(err)?;
        let headline: Value = serde_json::from_str(&headline).map_err(|e| StoreError::Corrupt {
            file: self.file.clone(),
            detail: format!("revision {}: headline is not JSON", info.id),
            source: Some(Box::new(e)),
        })?;
        let mut parts = BTreeMap::new();
        for (name, blob) in parts_at(&self.conn, info.id.0).map_err(err)? {
            parts.insert(name, load_blob(&self.conn, &self.file, blob)?);
        }
        Ok(Revision {
            info,
            headline,
            parts,
        })
    }

    fn append_event(&mut self, event: &NewEvent) -> Result<EventId, StoreError> {
        event.validate(&self.file)?;
        let err = |e| sql_error(&self.file, e);
        let payload = serde_json::to_string(&event.payload).map_err(|e| StoreError::Invalid {
            file: self.file.clone(),
            what: format!("event payload: {e}"),
        })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        tx.prepare_cached(
            "INSERT INTO event (at, at_ms, kind, subject, author, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                event.at.to_rfc3339(),
                event.at.timestamp_millis(),
                event.kind,
                event.subject,
                event.author,
                payload
            ])
        })
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(err)?;
        Ok(EventId(id))
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<Event>, StoreError> {
        let err = |e| sql_error(&self.file, e);
        let mut sql = String::from("SELECT id, at, kind, subject, author, payload FROM event WHERE 1");
        let mut values: Vec<SqlValue> = Vec::new();
        if let Some(kind) = &filter.kind {
            sql.push_str(" AND kind = ?");
            values.push(SqlValue::Text(kind.clone()));
        }
        if let Some(subject) = &filter.subject {
            sql.push_str(" AND subject = ?");
            values.push(SqlValue::Text(subject.clone()));
        }
        // Milliseconds are floored, so these bounds keep every event in range; the exact
        // comparison is `filter.matches` below.
        if let Some(since) = &filter.since {
            sql.push_str(" AND at_ms >= ?");
            values.push(SqlValue::Integer(since.timestamp_millis()));
        }
        if let Some(until) = &filter.until {
            sql.push_str(" AND at_ms <= ?");
            values.push(SqlValue::Integer(until.timestamp_millis()));
        }
        sql.push_str(" ORDER BY id");
        let mut statement = self.conn.prepare_cached(&sql).map_err(err)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), event_from_row)
            .map_err(err)?;
        let mut events = Vec::new();
        for event in rows {
            let event = event.map_err(err)?;
            if filter.matches(&event) {
                events.push(event);
            }
        }
        Ok(events)
    }
}

const INFO_SELECT: &str = "SELECT id, label, saved_at, author, message, part_count, total_bytes, new_bytes, \
                           stored_bytes, parts_changed FROM revision";

fn info_from_row(row: &Row<'_>) -> rusqlite::Result<RevisionInfo> {
    Ok(RevisionInfo {
        id: RevisionId(row.get(0)?),
        label: row.get(1)?,
        saved_at: parse_time(row, 2)?,
        author: row.get(3)?,
        message: row.get(4)?,
        part_count: get_u64(row, 5)?,
        total_bytes: get_u64(row, 6)?,
        new_bytes: get_u64(row, 7)?,
        stored_bytes: get_u64(row, 8)?,
        parts_changed: get_u64(row, 9)?,
    })
}

fn get_u64(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(column, value))
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    let payload: String = row.get(5)?;
    Ok(Event {
        id: EventId(row.get(0)?),
        at: parse_time(row, 1)?,
        kind: row.get(2)?,
        subject: row.get(3)?,
        author: row.get(4)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, Type::Text, Box::new(e)))?,
    })
}

fn parse_time(row: &Row<'_>, column: usize) -> rusqlite::Result<DateTime<FixedOffset>> {
    let text: String = row.get(column)?;
    DateTime::parse_from_rfc3339(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}

/// The parts of revision `id`: for each part name, its row with the greatest `since` ≤ id
/// (a `NULL` blob there means the part was removed). Walks the distinct names through the
/// primary key instead of scanning every row.
fn parts_at(conn: &Connection, id: i64) -> rusqlite::Result<BTreeMap<String, i64>> {
    let mut statement = conn.prepare_cached(
        "WITH RECURSIVE names (name) AS (
             SELECT min(name) FROM part
             UNION ALL
             SELECT (SELECT min(p.name) FROM part AS p WHERE p.name > names.name) FROM names
             WHERE names.name IS NOT NULL
         )
         SELECT name, (SELECT p.blob FROM part AS p WHERE p.name = names.name AND p.since <= ?1
                       ORDER BY p.since DESC LIMIT 1)
         FROM names WHERE name IS NOT NULL",
    )?;
    let rows = statement.query_map([id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
    })?;
    let mut parts = BTreeMap::new();
    for row in rows {
        if let (name, Some(blob)) = row? {
            parts.insert(name, blob);
        }
    }
    Ok(parts)
}

/// Chooses how to store `bytes`: as a delta against `base` (the same part in the previous
/// revision) when that chain is not too long and the delta is much smaller, else whole.
/// Returns (base, depth, data).
fn encode_against(
    conn: &Connection,
    file: &Path,
    base: Option<i64>,
    bytes: &[u8],
) -> Result<(Option<i64>, i64, Vec<u8>), StoreError> {
    if let Some(base) = base {
        let depth: i64 = conn
            .prepare_cached("SELECT depth FROM blob WHERE id = ?1")
            .and_then(|mut s| s.query_row([base], |row| row.get(0)))
            .map_err(|e| sql_error(file, e))?;
        if depth < MAX_DELTA_DEPTH {
            let base_bytes = load_blob(conn, file, base)?;
            let delta = delta::encode(&base_bytes, bytes);
            if delta.len() * DELTA_WORTH_IT <= bytes.len() {
                return Ok((Some(base), depth + 1, delta));
            }
        }
    }
    Ok((None, 0, bytes.to_vec()))
}

/// Reads blob `id`: its data, or its base's content with its delta applied (recursively),
/// checked against its SHA-256.
fn load_blob(conn: &Connection, file: &Path, id: i64) -> Result<Vec<u8>, StoreError> {
    let corrupt = |detail: String, source: Option<BoxError>| StoreError::Corrupt {
        file: file.to_path_buf(),
        detail,
        source,
    };
    let mut statement = conn
        .prepare_cached("SELECT sha256, base, data FROM blob WHERE id = ?1")
        .map_err(|e| sql_error(file, e))?;
    let mut deltas: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut expected: Option<Vec<u8>> = None;
    let mut current = id;
    let mut content = loop {
        let row: Option<(Vec<u8>, Option<i64>, Vec<u8>)> = statement
            .query_row([current], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()
            .map_err(|e| sql_error(file, e))?;
        let Some((sha256, base, data)) = row else {
            return Err(corrupt(format!("blob {current} is missing"), None));
        };
        expected.get_or_insert(sha256);
        match base {
            None => break data,
            // Bases are older blobs (a CHECK constraint), so the walk ends.
            Some(base) if base < current => {
                deltas.push((current, data));
                current = base;
            }
            Some(base) => {
                return Err(corrupt(
                    format!("blob {current} is a delta against newer blob {base}"),
                    None,
                ));
            }
        }
    };
    for (blob, delta) in deltas.into_iter().rev() {
        content = delta::decode(&content, &delta)
            .map_err(|e| corrupt(format!("blob {blob} cannot be decoded"), Some(Box::new(e))))?;
    }
    if expected.as_deref() != Some(Sha256::digest(&content).as_slice()) {
        return Err(corrupt(
            format!("the content of blob {id} does not match its SHA-256"),
            None,
        ));
    }
    Ok(content)
}

/// `PRAGMA application_id`, `PRAGMA user_version`, and how many schema objects exist.
fn identify(conn: &Connection) -> rusqlite::Result<(i32, i64, i64)> {
    let application_id = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let objects = conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
    Ok((application_id, version, objects))
}

/// A fresh file (no id, no version, no tables) or a kam store no newer than this build.
fn check_identity(file: &Path, application_id: i32, version: i64, objects: i64) -> Result<(), StoreError> {
    let fresh = application_id == 0 && version == 0 && objects == 0;
    if application_id != APPLICATION_ID && !fresh {
        return Err(StoreError::Foreign {
            file: file.to_path_buf(),
            application_id,
            user_version: version,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            file: file.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Looks at the file before SQLite does: `Ok(false)` if it does not exist, `Ok(true)` if
/// it is empty (SQLite's empty database: a process killed before its first commit leaves
/// one) or starts like a complete SQLite file. Refuses garbage and a store cut short.
fn precheck(file: &Path) -> Result<bool, StoreError> {
    let metadata = match fs::metadata(file) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(StoreError::CannotOpen {
                file: file.to_path_buf(),
                source: Box::new(e),
            });
        }
    };
    if metadata.is_dir() {
        return Err(StoreError::CannotOpen {
            file: file.to_path_buf(),
            source: "it is a directory".into(),
        });
    }
    let len = metadata.len();
    if len == 0 {
        return Ok(true);
    }
    let not_a_database = |detail: String| StoreError::NotADatabase {
        file: file.to_path_buf(),
        detail,
    };
    let mut header = [0u8; 100];
    let read = File::open(file)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => not_a_database(format!(
                "the file is {len} bytes, shorter than an SQLite header (truncated?)"
            )),
            _ => StoreError::CannotOpen {
                file: file.to_path_buf(),
                source: Box::new(e),
            },
        });
    read?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(not_a_database(
            "it does not start with the SQLite header".to_owned(),
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    let page_count = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let size_is_valid = header[24..28] == header[92..96];
    // With a non-empty WAL the file may legitimately lag behind (a checkpoint was cut
    // short); SQLite completes it from the WAL.
    let wal_len = fs::metadata(wal_path(file)).map(|m| m.len()).unwrap_or(0);
    if size_is_valid && wal_len == 0 && len < page_size * page_count {
        return Err(StoreError::Corrupt {
            file: file.to_path_buf(),
            detail: format!(
                "truncated: its header says {page_count} pages of {page_size} bytes ({} bytes), the file has {len}",
                page_size * page_count
            ),
            source: None,
        });
    }
    Ok(true)
}

fn wal_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Maps SQLite's error to the [`StoreError`] that says what it means for the store.
fn sql_error(file: &Path, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let file = file.to_path_buf();
    if let rusqlite::Error::FromSqlConversionFailure(..)
    | rusqlite::Error::IntegralValueOutOfRange(..)
    | rusqlite::Error::InvalidColumnType(..) = error
    {
        return StoreError::Corrupt {
            file,
            detail: format!("a stored value is malformed: {error}"),
            source: Some(Box::new(error)),
        };
    }
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            file,
            detail: format!("SQLite cannot read it ({error})"),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            file,
            detail: error.to_string(),
            source: Some(Box::new(error)),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            file,
            source: Box::new(error),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreError::CannotOpen {
            file,
            source: Box::new(error),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            file,
            source: Box::new(error),
        },
        _ => StoreError::Database {
            file,
            source: Box::new(error),
        },
    }
}
