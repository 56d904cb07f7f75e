//! The SQLite schema and its forward migrations. `PRAGMA user_version` is the number of
//! migrations applied; a store is brought to [`SCHEMA_VERSION`] inside one write
//! transaction when it is opened, so a store is never seen half-migrated. Migrations are
//! only ever appended: the SQL of a released version is never edited.

use chrono::DateTime;
use rusqlite::{Transaction, params};

/// kam's `PRAGMA application_id` (`"KAMH"` in ASCII): marks a file as a kam history
/// store, so that another program's SQLite database is recognised and left alone.
pub const APPLICATION_ID: i32 = 0x4B41_4D48;

/// The schema version this build writes and the newest it reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One forward migration, from version `index` to `index + 1`.
type Migration = fn(&Transaction<'_>) -> rusqlite::Result<()>;

/// The migrations in order: `MIGRATIONS[i]` takes a store from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[v1_tables, v2_event_time];

/// Version 1: revisions, their parts, content-addressed blobs, events.
pub(crate) const V1_SQL: &str = "
CREATE TABLE blob (
    id      INTEGER PRIMARY KEY,
    sha256  BLOB    NOT NULL UNIQUE CHECK (length(sha256) = 32),
    size    INTEGER NOT NULL CHECK (size >= 0),
    base    INTEGER REFERENCES blob (id) CHECK (base IS NULL OR base < id),
    depth   INTEGER NOT NULL CHECK (depth >= 0),
    data    BLOB    NOT NULL
);
CREATE TABLE revision (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    label         TEXT    NOT NULL UNIQUE,
    saved_at      TEXT    NOT NULL,
    saved_at_ms   INTEGER NOT NULL,
    author        TEXT,
    message       TEXT,
    headline      TEXT    NOT NULL,
    part_count    INTEGER NOT NULL,
    total_bytes   INTEGER NOT NULL,
    new_bytes     INTEGER NOT NULL,
    stored_bytes  INTEGER NOT NULL,
    parts_changed INTEGER NOT NULL
);
CREATE TABLE part (
    name   TEXT    NOT NULL,
    since  INTEGER NOT NULL REFERENCES revision (id),
    blob   INTEGER REFERENCES blob (id),
    PRIMARY KEY (name, since)
) WITHOUT ROWID;
CREATE VIEW revision_part (revision_id, name, blob_id) AS
    SELECT r.id, p.name, p.blob
    FROM revision AS r JOIN part AS p
      ON p.since = (SELECT max(q.since) FROM part AS q WHERE q.name = p.name AND q.since <= r.id)
    WHERE p.blob IS NOT NULL;
CREATE TABLE event (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    author   TEXT,
    payload  TEXT    NOT NULL
);
";

fn v1_tables(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(V1_SQL)
}

/// Version 2: events get their instant as UTC milliseconds (`at_ms`, filled in for the
/// events already there) and indexes by (kind, subject) and by time, so acknowledgement
/// look-ups and `--since` filters do not scan every event.
fn v2_event_time(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE event ADD COLUMN at_ms INTEGER;")?;
    let rows: Vec<(i64, String)> = {
        let mut statement = tx.prepare("SELECT id, at FROM event")?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut update = tx.prepare("UPDATE event SET at_ms = ?2 WHERE id = ?1")?;
    for (id, at) in rows {
        let at = DateTime::parse_from_rfc3339(&at).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?;
        update.execute(params![id, at.timestamp_millis()])?;
    }
    tx.execute_batch(
        "CREATE INDEX event_by_kind_subject ON event (kind, subject, id);
         CREATE INDEX event_by_time ON event (at_ms, id);",
    )
}

/// Applies the migrations from `from` (exclusive of those already applied) up to
/// [`SCHEMA_VERSION`] and records the version. The caller owns the transaction.
pub(crate) fn migrate(tx: &Transaction<'_>, from: i64) -> rusqlite::Result<()> {
    let done = usize::try_from(from).unwrap_or(0);
    for migration in MIGRATIONS.iter().skip(done) {
        migration(tx)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
}
