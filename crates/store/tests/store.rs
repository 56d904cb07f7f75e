//! kam-store's integration tests, one binary: round trips, content addressing, selectors,
//! events, refusals of files the store does not understand, migration from schema 1,
//! several processes saving at once, a save killed with SIGKILL, the growth bound, and a
//! property test against the in-memory model.
//!
//! The multi-process tests run this same binary again as a child (`child_process`
//! below, a no-op unless `KAM_STORE_TEST_CHILD` is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support {
    pub mod sample;
}

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use kam_store::{
    APPLICATION_ID, EventFilter, HistoryStore, MemoryStore, NewEvent, NewRevision, PartChange, RevisionId,
    SCHEMA_VERSION, Selector, SqliteStore, StoreError, part_changes,
};
use serde_json::json;
use support::sample::SampleAccount;

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn store_in(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir.join("history.db")).unwrap()
}

fn label(text: &str) -> Selector {
    Selector::Label(text.to_owned())
}

fn blob_count(file: &Path) -> i64 {
    let conn = rusqlite::Connection::open(file).unwrap();
    conn.query_row("SELECT count(*) FROM blob", [], |row| row.get(0))
        .unwrap()
}

/// Every file under `dir` (recursively) except `.kam/`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".kam") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    files
}

// ---------------------------------------------------------------- round trips

#[test]
fn a_saved_revision_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let first = NewRevision::new("EBR 2026-Q3", at("2026-09-30T17:05:00.123456789+02:00"))
        .author("A. Director")
        .message("before the EBR")
        .part("plan", b"vision = \"be the partner\"\n".to_vec())
        .part("pricing", vec![0, 1, 2, 255])
        .part("empty", Vec::new())
        .headline(json!({ "revenue": "48250000.00", "alerts": 3, "map": ["green", null] }));
    let id = store.save(&first).unwrap();
    assert_eq!(id, RevisionId(1));

    let revision = store.get(&label("EBR 2026-Q3")).unwrap();
    assert_eq!(revision.parts, first.parts);
    assert_eq!(revision.headline, first.headline);
    assert_eq!(revision.info.id, id);
    assert_eq!(revision.info.author.as_deref(), Some("A. Director"));
    assert_eq!(revision.info.message.as_deref(), Some("before the EBR"));
    // The offset is kept as given, to the nanosecond.
    assert_eq!(
        revision.info.saved_at.to_rfc3339(),
        "2026-09-30T17:05:00.123456789+02:00"
    );
    assert_eq!(revision.info.part_count, 3);
    assert_eq!(revision.info.total_bytes, 26 + 4);
    assert_eq!(revision.info.new_bytes, 30);
    assert_eq!(revision.info.parts_changed, 3);

    // Survives closing and reopening.
    drop(store);
    let store = SqliteStore::open_existing(dir.path().join("history.db")).unwrap();
    assert_eq!(store.get(&Selector::Id(id)).unwrap(), revision);
    assert_eq!(store.get(&Selector::Latest).unwrap(), revision);
    store.verify().unwrap();
}

#[test]
fn unchanged_content_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let mut store = SqliteStore::open(&file).unwrap();
    let account = SampleAccount::new();
    store.save(&account.revision(0)).unwrap();
    let blobs = blob_count(&file);
    assert_eq!(blobs, 13);

    let again = store.save(&account.revision(1)).unwrap();
    let info = store.info(&Selector::Id(again)).unwrap();
    assert_eq!((info.new_bytes, info.stored_bytes, info.parts_changed), (0, 0, 0));
    assert_eq!(info.total_bytes, store.info(&label("rev 0")).unwrap().total_bytes);
    assert_eq!(
        blob_count(&file),
        blobs,
        "saving the same parts twice stores no new blob"
    );

    // The same content under another name is not stored again either.
    let mut renamed = account.revision(2);
    let plan = renamed.parts["plan"].clone();
    renamed.parts.insert("plan copy".into(), plan);
    let id = store.save(&renamed).unwrap();
    let info = store.info(&Selector::Id(id)).unwrap();
    assert_eq!((info.new_bytes, info.parts_changed, info.part_count), (0, 1, 14));
    assert_eq!(blob_count(&file), blobs);
    store.verify().unwrap();
}

#[test]
fn an_edited_part_is_stored_as_a_small_delta_and_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let mut account = SampleAccount::new();
    store.save(&account.revision(0)).unwrap();
    let mut expected = vec![account.parts()];
    for i in 1..=40 {
        account.edit(i);
        let id = store.save(&account.revision(i)).unwrap();
        let info = store.info(&Selector::Id(id)).unwrap();
        assert_eq!(info.parts_changed, 1);
        assert!(info.new_bytes > 500, "a whole part is new content: {info:?}");
        assert!(info.stored_bytes < 100, "but only a delta is written: {info:?}");
        expected.push(account.parts());
    }
    for (i, parts) in expected.iter().enumerate() {
        assert_eq!(
            &store.get(&label(&format!("rev {i}"))).unwrap().parts,
            parts,
            "rev {i}"
        );
    }
    store.verify().unwrap();
}

#[test]
fn list_is_in_save_order_with_size_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let t = at("2026-01-01T00:00:00Z");
    // saved_at need not increase: list follows save order.
    let saves = [
        NewRevision::new("b", t)
            .part("x", b"1".to_vec())
            .part("y", b"2".to_vec()),
        NewRevision::new("a", t - chrono::Duration::days(1))
            .part("x", b"1".to_vec())
            .part("z", b"3".to_vec()),
        NewRevision::new("c", t)
            .part("x", b"4".to_vec())
            .part("z", b"3".to_vec()),
        NewRevision::new("d", t),
    ];
    for save in &saves {
        store.save(save).unwrap();
    }
    let list = store.list().unwrap();
    let rows: Vec<_> = list
        .iter()
        .map(|i| {
            (
                i.id.0,
                i.label.as_str(),
                i.part_count,
                i.total_bytes,
                i.new_bytes,
                i.parts_changed,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "b", 2, 2, 2, 2),
            // y removed, z added
            (2, "a", 2, 2, 1, 2),
            // x changed
            (3, "c", 2, 2, 1, 1),
            // both removed
            (4, "d", 0, 0, 0, 2),
        ]
    );
    assert_eq!(store.get(&label("a")).unwrap().parts, saves[1].parts);
    assert!(store.get(&label("d")).unwrap().parts.is_empty());
    assert_eq!(
        part_changes(
            &store.get(&label("b")).unwrap().parts,
            &store.get(&label("c")).unwrap().parts
        ),
        [
            PartChange::Modified("x".into()),
            PartChange::Removed("y".into()),
            PartChange::Added("z".into())
        ]
    );
}

#[test]
fn a_duplicate_label_names_the_revision_that_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let t = at("2026-01-01T00:00:00Z");
    store.save(&NewRevision::new("Q1", t)).unwrap();
    store.save(&NewRevision::new("Q2", t)).unwrap();
    let err = store
        .save(&NewRevision::new("Q1", t).part("p", b"x".to_vec()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::DuplicateLabel {
                existing: RevisionId(1),
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("history.db") && text.contains("\"Q1\"") && text.contains("revision 1"),
        "{text}"
    );
    assert_eq!(store.list().unwrap().len(), 2);
    assert_eq!(blob_count(store.path()), 0, "a refused save stores nothing");
}

#[test]
fn selectors_by_id_label_latest_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let times = [
        "2026-03-31T18:00:00+02:00", // 1: 16:00Z
        "2026-03-31T16:00:00.0004Z", // 2: 0.4 ms later, same millisecond
        "2026-06-30T09:00:00-05:00", // 3
        "2026-06-30T14:00:00Z",      // 4: the same instant as 3
        "2026-05-01T00:00:00Z",      // 5: saved later, dated earlier
    ];
    for (i, time) in times.iter().enumerate() {
        store
            .save(&NewRevision::new(format!("r{}", i + 1), at(time)))
            .unwrap();
    }
    let pick = |time: &str| store.info(&Selector::AtOrBefore(at(time))).map(|i| i.id.0);
    assert_eq!(pick("2026-03-31T16:00:00Z").unwrap(), 1, "inclusive");
    assert_eq!(
        pick("2026-03-31T16:00:00.0003Z").unwrap(),
        1,
        "sub-millisecond exact"
    );
    assert_eq!(pick("2026-03-31T16:00:00.0004Z").unwrap(), 2);
    assert_eq!(pick("2026-04-30T23:59:59Z").unwrap(), 2);
    assert_eq!(pick("2026-05-01T00:00:00Z").unwrap(), 5, "by saved_at, not by id");
    assert_eq!(
        pick("2026-06-30T14:00:00Z").unwrap(),
        4,
        "a tie goes to the later save"
    );
    assert_eq!(pick("2027-01-01T00:00:00Z").unwrap(), 4);
    let end_of_q1 = kam_store::end_of_day(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        FixedOffset::east_opt(2 * 3600).unwrap(),
    )
    .unwrap();
    assert_eq!(store.info(&Selector::AtOrBefore(end_of_q1)).unwrap().id.0, 2);

    let err = pick("2026-03-31T15:59:59Z").unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("saved at or before 2026-03-31T15:59:59+00:00"),
        "{err}"
    );
    assert_eq!(store.info(&Selector::Latest).unwrap().id.0, 5);
    assert_eq!(store.info(&label("r3")).unwrap().id.0, 3);
    let err = store.get(&label("nope")).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("history.db: no revision labelled \"nope\""),
        "{err}"
    );
    assert!(matches!(
        store.get(&Selector::Id(RevisionId(9))),
        Err(StoreError::NotFound { .. })
    ));

    let empty_dir = tempfile::tempdir().unwrap();
    let empty = store_in(empty_dir.path());
    assert!(matches!(
        empty.get(&Selector::Latest),
        Err(StoreError::NotFound { .. })
    ));
    assert!(empty.list().unwrap().is_empty());
}

#[test]
fn events_append_filter_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let events = [
        NewEvent::new(
            at("2026-07-01T08:00:00+02:00"),
            "alert.ack",
            "OTIF/DE-LEI/threshold",
        )
        .author("rm.de"),
        NewEvent::new(
            at("2026-07-02T08:00:00+02:00"),
            "alert.snooze",
            "OTIF/DE-LEI/threshold",
        )
        .payload(json!({ "until": "2026-07-09" })),
        NewEvent::new(at("2026-07-03T08:00:00Z"), "alert.ack", "DAMAGE/PL-POZ/trend"),
        NewEvent::new(at("2026-07-04T08:00:00Z"), "action.step", "AP-7")
            .payload(json!({ "step": "verified" })),
    ];
    for (i, event) in events.iter().enumerate() {
        assert_eq!(store.append_event(event).unwrap().0, i as i64 + 1);
    }
    drop(store);
    let store = store_in(dir.path());
    let all = store.events(&EventFilter::all()).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[1].payload, json!({ "until": "2026-07-09" }));
    assert_eq!(all[0].author.as_deref(), Some("rm.de"));
    assert_eq!(all[0].at.to_rfc3339(), "2026-07-01T08:00:00+02:00");
    let ids = |filter: EventFilter| {
        store
            .events(&filter)
            .unwrap()
            .iter()
            .map(|e| e.id.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(EventFilter::all().kind("alert.ack")), [1, 3]);
    assert_eq!(ids(EventFilter::all().subject("OTIF/DE-LEI/threshold")), [1, 2]);
    assert_eq!(
        ids(EventFilter::all()
            .kind("alert.ack")
            .subject("DAMAGE/PL-POZ/trend")),
        [3]
    );
    assert_eq!(
        ids(EventFilter::all().since(at("2026-07-02T06:00:00Z"))),
        [2, 3, 4]
    );
    assert_eq!(
        ids(EventFilter::all().until(at("2026-07-03T08:00:00Z"))),
        [1, 2, 3]
    );
    assert_eq!(ids(EventFilter::all().kind("nothing")), Vec::<i64>::new());
    let err = SqliteStore::open(dir.path().join("history.db"))
        .unwrap()
        .append_event(&NewEvent::new(at("2026-07-04T08:00:00Z"), "", "x"))
        .unwrap_err();
    assert!(err.to_string().contains("event kind: must not be empty"), "{err}");
}

#[test]
fn the_account_directory_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acme");
    fs::create_dir_all(account.join("rules")).unwrap();
    fs::write(account.join("kam.toml"), "as_of = 2026-09-30\n").unwrap();
    fs::write(account.join("plan.toml"), "[plan]\n").unwrap();
    fs::write(account.join("rules/alert.rhai"), "fn alert(x) { false }\n").unwrap();
    let before = snapshot(&account);
    let mut store = SqliteStore::open_for_dir(&account).unwrap();
    assert_eq!(store.path(), account.join(".kam/history.db"));
    store.save(&SampleAccount::new().revision(0)).unwrap();
    store
        .append_event(&NewEvent::new(at("2026-07-04T08:00:00Z"), "alert.ack", "x"))
        .unwrap();
    drop(store);
    assert_eq!(snapshot(&account), before);
    let mut names: Vec<_> = fs::read_dir(&account)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [".kam", "kam.toml", "plan.toml", "rules"]);
}

#[test]
fn open_existing_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".kam/history.db");
    let err = SqliteStore::open_existing(&file).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains(".kam/history.db"), "{err}");
    assert!(!dir.path().join(".kam").exists());
}

#[test]
fn stores_are_send_and_the_trait_is_object_safe() {
    fn send<T: Send>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send::<SqliteStore>();
    send::<MemoryStore>();
    error::<StoreError>();
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Box<dyn HistoryStore>> =
        vec![Box::new(MemoryStore::new()), Box::new(store_in(dir.path()))];
    for mut store in stores {
        store
            .save(&NewRevision::new("only", at("2026-01-01T00:00:00Z")))
            .unwrap();
        assert_eq!(store.list().unwrap().len(), 1);
    }
}

// ---------------------------------------------------------------- files the store refuses

/// A store with a few revisions, closed (so its WAL is checkpointed into the file).
fn filled_store(dir: &Path) -> PathBuf {
    let file = dir.join("history.db");
    let mut store = SqliteStore::open(&file).unwrap();
    let mut account = SampleAccount::new();
    for i in 0..5 {
        account.edit(i);
        store.save(&account.revision(i)).unwrap();
    }
    drop(store);
    file
}

/// Opens `file` expecting an error; checks the error names the file and the file is
/// unchanged byte for byte.
fn refused(file: &Path) -> StoreError {
    let before = fs::read(file).unwrap();
    let err = SqliteStore::open(file).unwrap_err();
    assert!(err.to_string().starts_with(&file.display().to_string()), "{err}");
    assert_eq!(err.file(), Some(file));
    assert_eq!(
        fs::read(file).unwrap(),
        before,
        "a refused file is not written to"
    );
    err
}

#[test]
fn a_store_from_a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = filled_store(dir.path());
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = refused(&file);
    match err {
        StoreError::NewerSchema { found, supported, .. } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        other => panic!("{other:?}"),
    }
    assert!(refused(&file).to_string().contains("upgrade kam"));
}

#[test]
fn a_truncated_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = filled_store(dir.path());
    let full = fs::read(&file).unwrap();
    assert!(full.len() > 8 * 4096, "the store spans many pages");
    fs::write(&file, &full[..full.len() / 2]).unwrap();
    let err = refused(&file);
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");

    // Cut inside the header: not a database at all.
    fs::write(&file, &full[..60]).unwrap();
    let err = refused(&file);
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("shorter than an SQLite header"), "{err}");
}

#[test]
fn garbage_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    fs::write(&file, "name,value\nrevenue,12\n".repeat(500)).unwrap();
    let err = refused(&file);
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert!(
        err.to_string().contains("does not start with the SQLite header"),
        "{err}"
    );
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // An SQLite file of some other tool: tables, no application_id.
    let file = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch(
        "CREATE TABLE crm (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO crm (name) VALUES ('x');",
    )
    .unwrap();
    drop(conn);
    let err = refused(&file);
    assert!(
        matches!(
            err,
            StoreError::Foreign {
                application_id: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("another program"), "{err}");

    // An application that marks its files with its own application_id, even if empty.
    let file = dir.path().join("marked.db");
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.pragma_update(None, "application_id", 0x0F0F_0F0F).unwrap();
    drop(conn);
    let err = refused(&file);
    assert!(
        matches!(
            err,
            StoreError::Foreign {
                application_id: 0x0F0F_0F0F,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_empty_file_becomes_a_store() {
    // What a process killed between creating the file and its first commit leaves.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    fs::write(&file, b"").unwrap();
    let mut store = SqliteStore::open(&file).unwrap();
    store
        .save(&NewRevision::new("first", at("2026-01-01T00:00:00Z")))
        .unwrap();
    let conn = rusqlite::Connection::open(&file).unwrap();
    let id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .unwrap();
    assert_eq!(id, APPLICATION_ID);
}

#[test]
fn an_unwritable_place_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();

    // A file where the store's directory should be: refused whoever runs the test.
    let account = dir.path().join("acme");
    fs::create_dir(&account).unwrap();
    fs::write(account.join(".kam"), b"not a directory").unwrap();
    let err = SqliteStore::open_for_dir(&account).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&account.join(".kam").display().to_string()),
        "{err}"
    );
    assert_eq!(fs::read(account.join(".kam")).unwrap(), b"not a directory");

    // An account directory that does not exist: nothing is created for it.
    let missing = dir.path().join("missing");
    let err = SqliteStore::open_for_dir(&missing).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&missing.join(".kam").display().to_string()),
        "{err}"
    );
    assert!(!missing.exists());

    // A path that is a directory.
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");

    // A read-only account directory. Root ignores permissions, so this part only runs
    // for other users (the cases above still test a place nothing can be created in).
    use std::os::unix::fs::PermissionsExt;
    let read_only = dir.path().join("read-only");
    fs::create_dir(&read_only).unwrap();
    fs::set_permissions(&read_only, fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = fs::write(read_only.join("probe"), b"").is_ok();
    if !privileged {
        let err = SqliteStore::open_for_dir(&read_only).unwrap_err();
        assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&read_only.join(".kam").display().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("ermission denied"), "{err}");
        eprintln!("a read-only account directory: {err}");
    } else {
        eprintln!("running as root: permissions are not enforced; read-only directory case skipped");
    }
    fs::set_permissions(&read_only, fs::Permissions::from_mode(0o755)).unwrap();

    // An existing store whose directory became read-only: it can be opened to read,
    // not written, and nothing panics.
    if !privileged {
        let kam = dir.path().join("ro-store");
        let file = filled_store(&{
            fs::create_dir(&kam).unwrap();
            kam.clone()
        });
        fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
        fs::set_permissions(&kam, fs::Permissions::from_mode(0o555)).unwrap();
        let result = SqliteStore::open(&file)
            .and_then(|mut s| s.save(&NewRevision::new("x", at("2026-01-01T00:00:00Z"))));
        fs::set_permissions(&kam, fs::Permissions::from_mode(0o755)).unwrap();
        let err = result.unwrap_err();
        eprintln!("a store in a read-only directory: {err}");
        assert!(err.to_string().starts_with(&file.display().to_string()), "{err}");
    }
}

// ---------------------------------------------------------------- migrations

/// Schema version 1 exactly as it was released: never edit.
const V1_SQL: &str = "
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

#[test]
fn a_version_1_store_is_migrated_with_its_data() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let plan = b"[plan]\nvision = \"v1\"\n".repeat(40);
    {
        // Written as kam's first schema wrote it.
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        conn.execute_batch(V1_SQL).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO blob (sha256, size, base, depth, data) VALUES (?1, ?2, NULL, 0, ?3)",
            rusqlite::params![sha2::Sha256::digest(&plan).as_slice(), plan.len() as i64, plan],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO revision (label, saved_at, saved_at_ms, author, message, headline, part_count, \
             total_bytes, new_bytes, stored_bytes, parts_changed) \
             VALUES ('Q1', '2026-03-31T18:00:00+02:00', 1774972800000, 'ad', NULL, '{\"revenue\":\"1.00\"}', 1, ?1, ?1, ?1, 1)",
            [plan.len() as i64],
        )
        .unwrap();
        conn.execute("INSERT INTO part (name, since, blob) VALUES ('plan', 1, 1)", [])
            .unwrap();
        conn.execute(
            "INSERT INTO event (at, kind, subject, author, payload) VALUES \
             ('2026-04-01T09:00:00+02:00', 'alert.ack', 'OTIF/DE', 'rm', '{\"note\":\"seen\"}'), \
             ('2026-04-02T09:00:00Z', 'alert.ack', 'OTIF/PL', NULL, 'null')",
            [],
        )
        .unwrap();
    }

    let mut store = SqliteStore::open(&file).unwrap();
    let conn = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let missing: i64 = conn
        .query_row("SELECT count(*) FROM event WHERE at_ms IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(missing, 0, "event times filled in");
    let indexes: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(indexes >= 2);

    let q1 = store.get(&label("Q1")).unwrap();
    assert_eq!(q1.parts["plan"], plan);
    assert_eq!(q1.headline, json!({ "revenue": "1.00" }));
    assert_eq!(q1.info.saved_at, at("2026-03-31T18:00:00+02:00"));
    let since = store
        .events(&EventFilter::all().since(at("2026-04-01T12:00:00+02:00")))
        .unwrap();
    assert_eq!(
        since.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(),
        ["OTIF/PL"]
    );
    assert_eq!(
        store.events(&EventFilter::all().subject("OTIF/DE")).unwrap()[0].payload,
        json!({ "note": "seen" })
    );

    // New revisions build on the migrated ones (a delta against the v1 blob).
    let mut edited = plan.clone();
    edited.extend_from_slice(b"# edited\n");
    let id = store
        .save(&NewRevision::new("Q2", at("2026-06-30T18:00:00+02:00")).part("plan", edited.clone()))
        .unwrap();
    let info = store.info(&Selector::Id(id)).unwrap();
    assert!(info.stored_bytes < 40, "{info:?}");
    assert_eq!(store.get(&Selector::Id(id)).unwrap().parts["plan"], edited);
    store.verify().unwrap();

    // Opening again migrates nothing and changes nothing.
    drop(store);
    let store = SqliteStore::open(&file).unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
}

// ---------------------------------------------------------------- other processes

const CHILD_ROLE: &str = "KAM_STORE_TEST_CHILD";
const CHILD_FILE: &str = "KAM_STORE_TEST_FILE";
const CHILD_INDEX: &str = "KAM_STORE_TEST_INDEX";
const CHILD_COUNT: &str = "KAM_STORE_TEST_COUNT";

/// Runs this test binary again as a child running only `child_process`.
fn child(role: &str, file: &Path, index: usize, count: usize) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env(CHILD_ROLE, role)
        .env(CHILD_FILE, file)
        .env(CHILD_INDEX, index.to_string())
        .env(CHILD_COUNT, count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

/// The child side of the multi-process tests; does nothing in a normal test run.
#[test]
fn child_process() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let file = PathBuf::from(std::env::var(CHILD_FILE).unwrap());
    let index: usize = std::env::var(CHILD_INDEX).unwrap().parse().unwrap();
    let count: usize = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    let mut out = std::io::stdout();
    match role.as_str() {
        "writer" => {
            let mut store = SqliteStore::open(&file).unwrap();
            for m in 0..count {
                let id = store.save(&writer_revision(index, m)).unwrap();
                store
                    .append_event(&NewEvent::new(
                        at("2026-07-01T00:00:00Z"),
                        "writer",
                        format!("{index}/{m}"),
                    ))
                    .unwrap();
                writeln!(out, "COMMITTED {}", id.0).unwrap();
            }
        }
        "killed" => {
            let mut store = SqliteStore::open(&file).unwrap();
            // Runs until killed (bounded, in case the parent is gone). The next revision
            // is built before the line is printed, so the parent's kill, timed from the
            // line, falls into a save.
            let mut next = killed_revision(index, 0);
            for m in 0..count {
                let started = Instant::now();
                let id = store.save(&next).unwrap();
                let micros = started.elapsed().as_micros();
                next = killed_revision(index, m + 1);
                writeln!(out, "COMMITTED {} {micros}", id.0).unwrap();
                out.flush().unwrap();
            }
        }
        other => panic!("unknown child role {other}"),
    }
}

/// Writer `n`'s save `m`: a part all writers share, one each writer shares with itself,
/// and one unique part.
fn writer_revision(n: usize, m: usize) -> NewRevision {
    NewRevision::new(format!("writer {n} save {m}"), at("2026-07-01T00:00:00Z"))
        .author(format!("writer {n}"))
        .part("shared", b"the same for everyone\n".repeat(100))
        .part("mine", format!("writer {n}\n").repeat(200).into_bytes())
        .part("unique", format!("writer {n} save {m}\n").repeat(50).into_bytes())
        .headline(json!({ "n": n, "m": m }))
}

#[test]
fn concurrent_writers_lose_nothing() {
    const WRITERS: usize = 4;
    const SAVES: usize = 15;
    let dir = tempfile::tempdir().unwrap();
    // The store does not exist yet: the writers also race to create it.
    let file = dir.path().join(".kam/history.db");
    fs::create_dir(dir.path().join(".kam")).unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|n| child("writer", &file, n, SAVES).spawn().unwrap())
        .collect();
    let mut committed = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a writer failed: {output:?}");
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            if let Some(id) = line.strip_prefix("COMMITTED ") {
                committed.push(id.parse::<i64>().unwrap());
            }
        }
    }
    committed.sort();
    let expected: Vec<i64> = (1..=(WRITERS * SAVES) as i64).collect();
    assert_eq!(committed, expected, "every save returned a distinct id");

    let store = SqliteStore::open_existing(&file).unwrap();
    let list = store.list().unwrap();
    assert_eq!(list.len(), WRITERS * SAVES);
    for n in 0..WRITERS {
        for m in 0..SAVES {
            let wanted = writer_revision(n, m);
            let got = store.get(&Selector::Label(wanted.label.clone())).unwrap();
            assert_eq!(got.parts, wanted.parts);
            assert_eq!(got.headline, wanted.headline);
        }
    }
    assert_eq!(
        store.events(&EventFilter::all().kind("writer")).unwrap().len(),
        WRITERS * SAVES
    );
    let report = store.verify().unwrap();
    // shared + one "mine" per writer + one unique per save.
    assert_eq!(report.blobs as usize, 1 + WRITERS + WRITERS * SAVES);
}

/// The killed child's save `m`: a large part that was never stored before (under a new
/// name, so no delta is tried: the save is mostly SQLite writing it) and small parts.
fn killed_revision(round: usize, m: usize) -> NewRevision {
    let mut state = (round as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (m as u64 + 1);
    let big: Vec<u8> = (0..(1 << 20))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    NewRevision::new(format!("round {round} save {m}"), at("2026-08-01T00:00:00Z"))
        .part(format!("big {m}"), big)
        .part("small", format!("round {round} save {m}\n").into_bytes())
        .part("constant", b"unchanged\n".repeat(100))
        .headline(json!({ "round": round, "m": m }))
}

/// Parses a child's `COMMITTED id micros` line.
fn committed(line: &str) -> Option<(i64, u64)> {
    let (id, micros) = line.strip_prefix("COMMITTED ")?.split_once(' ')?;
    Some((id.parse().ok()?, micros.parse().ok()?))
}

#[test]
fn a_save_killed_midway_leaves_every_earlier_revision_and_no_half_one() {
    const ROUNDS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let mut printed = Vec::new(); // (round, save, id)
    let mut unprinted = 0; // committed, killed before printing
    for round in 0..ROUNDS {
        let mut process = child("killed", &file, round, 1_000).spawn().unwrap();
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let mut durations = Vec::new();
        while durations.len() < 3 {
            let line = lines.next().expect("the child stopped early").unwrap();
            if let Some((id, micros)) = committed(&line) {
                printed.push((round, durations.len(), id));
                durations.push(micros);
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the child is too slow"
            );
        }
        // Kill at a different point of the next save each round: 1/6 … 5/6 of the way in.
        let save = durations.iter().sum::<u64>() / durations.len() as u64;
        std::thread::sleep(Duration::from_micros(
            save * (round as u64 + 1) / (ROUNDS as u64 + 1),
        ));
        process.kill().unwrap(); // SIGKILL on Unix
        process.wait().unwrap();
        // Lines printed before the kill but not yet read name committed revisions too.
        for line in lines.map_while(Result::ok) {
            if let Some((id, _)) = committed(&line) {
                let save = printed.iter().filter(|p| p.0 == round).count();
                printed.push((round, save, id));
            }
        }

        let store = SqliteStore::open(&file).unwrap();
        store.verify().unwrap();
        for &(r, m, id) in &printed {
            let revision = store.get(&Selector::Id(RevisionId(id))).unwrap();
            let wanted = killed_revision(r, m);
            assert_eq!(revision.info.label, wanted.label);
            assert_eq!(revision.parts, wanted.parts, "revision {id}");
        }
        // A revision committed but not yet printed when the kill came is whole too.
        let list = store.list().unwrap();
        assert!(list.len() >= printed.len() && list.len() <= printed.len() + unprinted + 1);
        let inside = if list.len() == printed.len() + unprinted {
            "inside a save"
        } else {
            "after a commit"
        };
        unprinted = list.len() - printed.len();
        for info in list {
            let (r, m) = info
                .label
                .strip_prefix("round ")
                .and_then(|s| s.split_once(" save "))
                .unwrap();
            let wanted = killed_revision(r.parse().unwrap(), m.parse().unwrap());
            assert_eq!(store.get(&Selector::Id(info.id)).unwrap().parts, wanted.parts);
        }
        let conn = rusqlite::Connection::open(&file).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        eprintln!(
            "round {round}: a save takes {save} µs; killed {inside}; {} revisions so far",
            printed.len()
        );
    }
}

// ---------------------------------------------------------------- growth

#[test]
fn a_thousand_one_part_edits_grow_the_store_by_less_than_ten_full_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let mut account = SampleAccount::new();
    let mut store = SqliteStore::open(&file).unwrap();
    let first = store.save(&account.revision(0)).unwrap();
    let full = store.info(&Selector::Id(first)).unwrap().total_bytes;
    drop(store);
    let start = fs::metadata(&file).unwrap().len();

    let mut store = SqliteStore::open(&file).unwrap();
    for i in 1..=1_000 {
        account.edit(i);
        store.save(&account.revision(i)).unwrap();
    }
    let last = store.get(&Selector::Latest).unwrap();
    assert_eq!(last.parts, account.parts());
    drop(store);
    let end = fs::metadata(&file).unwrap().len();
    let growth = end - start;
    eprintln!(
        "growth over 1,000 revisions: {growth} bytes = {:.2} full revisions of {full} bytes",
        growth as f64 / full as f64
    );
    assert!(
        growth < 10 * full,
        "grew {growth} bytes; one full revision is {full}"
    );
}

// ---------------------------------------------------------------- model

mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Save {
            label: u8,
            minute: u16,
            parts: Vec<(u8, u8)>,
            headline: u8,
        },
        Event {
            minute: u16,
            kind: u8,
            subject: u8,
        },
    }

    /// Content `variant` of part `name`: 1 KB of lines where the variant changes a few,
    /// so versions of a part delta against each other; variant 0 is empty.
    fn content(name: u8, variant: u8) -> Vec<u8> {
        if variant == 0 {
            return Vec::new();
        }
        (0..40)
            .map(|line| {
                let value = if line % 7 == usize::from(variant % 7) {
                    u32::from(variant) * 1000
                } else {
                    line as u32
                };
                format!("part{name}.line{line} = {value}\n")
            })
            .collect::<String>()
            .into_bytes()
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..12, 0u16..600, proptest::collection::vec((0u8..5, 0u8..6), 0..6), 0u8..4)
                .prop_map(|(label, minute, parts, headline)| Op::Save { label, minute, parts, headline }),
            1 => (0u16..600, 0u8..3, 0u8..3).prop_map(|(minute, kind, subject)| Op::Event { minute, kind, subject }),
        ]
    }

    fn time(minute: u16) -> DateTime<FixedOffset> {
        let offset = FixedOffset::east_opt(i32::from(minute % 3) * 3600 - 3600).unwrap();
        (at("2026-01-01T00:00:00Z") + chrono::Duration::minutes(i64::from(minute))).with_timezone(&offset)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn sqlite_store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..25), probes in proptest::collection::vec(0u16..700, 4)) {
            let dir = tempfile::tempdir().unwrap();
            let mut sqlite = store_in(dir.path());
            let mut model = MemoryStore::new();
            let mut saved = Vec::new();
            for op in ops {
                match op {
                    Op::Save { label, minute, parts, headline } => {
                        let mut revision = NewRevision::new(format!("L{label}"), time(minute))
                            .headline(json!({ "h": headline, "list": [headline, "x"] }));
                        if headline % 2 == 0 {
                            revision = revision.author("au").message(format!("m{minute}"));
                        }
                        for (name, variant) in parts {
                            revision = revision.part(format!("p{name}"), content(name, variant));
                        }
                        let a = sqlite.save(&revision);
                        let b = model.save(&revision);
                        match (&a, &b) {
                            (Ok(x), Ok(y)) => { prop_assert_eq!(x, y); saved.push((*x, revision)); }
                            (Err(StoreError::DuplicateLabel { existing: x, .. }), Err(StoreError::DuplicateLabel { existing: y, .. })) => prop_assert_eq!(x, y),
                            _ => prop_assert!(false, "{:?} vs {:?}", a, b),
                        }
                    }
                    Op::Event { minute, kind, subject } => {
                        let event = NewEvent::new(time(minute), format!("k{kind}"), format!("s{subject}")).payload(json!(minute));
                        prop_assert_eq!(sqlite.append_event(&event).unwrap(), model.append_event(&event).unwrap());
                    }
                }
            }
            // Exactly what was saved comes back.
            for (id, revision) in &saved {
                let got = sqlite.get(&Selector::Id(*id)).unwrap();
                prop_assert_eq!(&got.parts, &revision.parts);
                prop_assert_eq!(&got.headline, &revision.headline);
                prop_assert_eq!(&got.info.label, &revision.label);
                prop_assert_eq!(got.info.saved_at.to_rfc3339(), revision.saved_at.to_rfc3339());
                prop_assert_eq!(&got.info.author, &revision.author);
                prop_assert_eq!(&got.info.message, &revision.message);
            }
            // And the list and selectors agree with the model (stored bytes aside: the
            // model keeps content whole).
            let strip = |list: Vec<kam_store::RevisionInfo>| list.into_iter().map(|mut i| { i.stored_bytes = 0; i }).collect::<Vec<_>>();
            prop_assert_eq!(strip(sqlite.list().unwrap()), strip(model.list().unwrap()));
            for minute in probes {
                let selector = Selector::AtOrBefore(time(minute));
                prop_assert_eq!(
                    sqlite.info(&selector).ok().map(|i| i.id),
                    model.info(&selector).ok().map(|i| i.id)
                );
            }
            for filter in [EventFilter::all(), EventFilter::all().kind("k1"), EventFilter::all().subject("s2").since(time(300))] {
                prop_assert_eq!(sqlite.events(&filter).unwrap(), model.events(&filter).unwrap());
            }
            sqlite.verify().unwrap();
        }
    }
}
