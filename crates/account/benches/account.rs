//! Loading and checking an account: the embedded sample (issue target: load + check
//! ≤ 20 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use kam_account::Account;

fn load_and_check(c: &mut Criterion) {
    c.bench_function("account: load the sample", |b| {
        b.iter(|| Account::sample().map(|a| a.manifest.as_of))
    });
    c.bench_function("account: load + check the sample", |b| {
        b.iter(|| {
            Account::sample()
                .and_then(|a| kam_account::check::check(&a))
                .map(|f| f.len())
        })
    });
}

criterion_group!(benches, load_and_check);
criterion_main!(benches);
