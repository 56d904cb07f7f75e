//! kam-store benchmarks against the targets: a save of the sample account
//! (13 parts, ~60 KB) ≤ 50 ms, `list` over 1,000 revisions ≤ 100 ms, and 1,000
//! revisions that each change one part growing the store by less than 10× one full
//! revision (measured once and printed; the bound is asserted by the test
//! `a_thousand_one_part_edits_grow_the_store_by_less_than_ten_full_revisions`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/support/sample.rs"]
mod sample;

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kam_store::{HistoryStore, Selector, SqliteStore};
use sample::SampleAccount;

/// A store at `file` holding revisions 0..=n of the sample, each after one edit.
fn filled(file: &Path, n: u64) -> (SqliteStore, SampleAccount) {
    let mut account = SampleAccount::new();
    let mut store = SqliteStore::open(file).unwrap();
    store.save(&account.revision(0)).unwrap();
    for i in 1..=n {
        account.edit(i);
        store.save(&account.revision(i)).unwrap();
    }
    (store, account)
}

fn growth() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let (store, _) = filled(&file, 0);
    let full = store.info(&Selector::Latest).unwrap().total_bytes;
    drop(store);
    let start = std::fs::metadata(&file).unwrap().len();
    let mut account = SampleAccount::new();
    let mut store = SqliteStore::open(&file).unwrap();
    for i in 1..=1_000 {
        account.edit(i);
        store.save(&account.revision(i)).unwrap();
    }
    drop(store);
    let end = std::fs::metadata(&file).unwrap().len();
    let growth = end - start;
    println!(
        "growth: 1,000 one-part revisions grew the store from {start} to {end} bytes: {growth} bytes \
         = {:.2}× one full revision ({full} bytes; target < 10×)",
        growth as f64 / full as f64
    );
}

fn bench(c: &mut Criterion) {
    growth();

    // A fresh store's first save: every part is new content.
    c.bench_function("save/sample, first revision", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(dir.path().join("history.db")).unwrap();
                (dir, store, SampleAccount::new().revision(0))
            },
            |(dir, mut store, revision)| {
                black_box(store.save(&revision).unwrap());
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });

    // The everyday save: one part edited since the last revision (a delta against it).
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut account) = filled(&dir.path().join("history.db"), 0);
    let mut i = 0;
    c.bench_function("save/sample, one part edited", |b| {
        b.iter_batched(
            || {
                i += 1;
                account.edit(i);
                account.revision(i)
            },
            |revision| black_box(store.save(&revision).unwrap()),
            BatchSize::PerIteration,
        );
    });
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.db");
    let (store, _) = filled(&file, 999);
    assert_eq!(store.list().unwrap().len(), 1_000);
    c.bench_function("list/1,000 revisions", |b| {
        b.iter(|| black_box(store.list().unwrap()))
    });
    c.bench_function("get/latest of 1,000 (13 parts, delta chains)", |b| {
        b.iter(|| black_box(store.get(&Selector::Latest).unwrap()))
    });
    let middle = store.info(&Selector::Label("rev 500".into())).unwrap().saved_at;
    c.bench_function("info/at or before a time, 1,000 revisions", |b| {
        b.iter(|| black_box(store.info(&Selector::AtOrBefore(middle)).unwrap()))
    });
    drop(store);
    c.bench_function("open/existing store of 1,000 revisions", |b| {
        b.iter(|| black_box(SqliteStore::open_existing(&file).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
