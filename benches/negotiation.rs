//! Negotiation benchmarks: Pareto frontier and Nash recommendation over 6 issues × 11
//! levels (1,771,561 packages), plus single concession offers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{Criterion as Bench, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::Direction::{HigherIsBetter as Up, LowerIsBetter as Down};
use kam::core::negotiation::tactics::{Side, TacticFamily, concession_offer};
use kam::core::negotiation::{Criterion, Issue, IssueKind, NegotiationSpace, PackageGrid, Party, frontier};
use std::hint::black_box;
use std::time::Duration;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A 3PL / OEM contract: price, term, payment days, volume commitment, gainshare split,
/// indexation cap, with partly opposed preferences.
fn six_issue_space() -> NegotiationSpace {
    let issues = vec![
        Issue::range("price", IssueKind::UnitPrice, d("0.58"), d("0.70")).unwrap(),
        Issue::range("term_years", IssueKind::ContractTerm, d("1"), d("5")).unwrap(),
        Issue::range("payment_days", IssueKind::PaymentDays, d("30"), d("90")).unwrap(),
        Issue::range(
            "volume_commitment",
            IssueKind::VolumeCommitment,
            d("150000"),
            d("250000"),
        )
        .unwrap(),
        Issue::range("gainshare_pct", IssueKind::GainshareSplit, d("20"), d("70")).unwrap(),
        Issue::range("indexation_cap_pct", IssueKind::IndexationCap, d("1"), d("4")).unwrap(),
    ];
    let crit = |spec: [(&str, Decimal, kam::core::Direction); 6]| -> Vec<Criterion> {
        spec.iter()
            .zip(&issues)
            .map(|((_, w, dir), issue)| Criterion::linear(issue, *w, *dir).unwrap())
            .collect()
    };
    let seller = Party::new(
        "3PL",
        crit([
            ("price", d("0.35"), Up),
            ("term", d("0.2"), Up),
            ("payment", d("0.1"), Down),
            ("volume", d("0.15"), Up),
            ("gainshare", d("0.05"), Up),
            ("indexation", d("0.15"), Up),
        ]),
        d("0.35"),
    );
    let buyer = Party::new(
        "OEM",
        crit([
            ("price", d("0.4"), Down),
            ("term", d("0.05"), Down),
            ("payment", d("0.2"), Up),
            ("volume", d("0.1"), Down),
            ("gainshare", d("0.2"), Down),
            ("indexation", d("0.05"), Down),
        ]),
        d("0.35"),
    );
    NegotiationSpace::new(issues, seller, buyer).unwrap()
}

fn bench_frontier(c: &mut Bench) {
    let space = six_issue_space();
    let grid = PackageGrid::new(&space, 11).unwrap();
    assert_eq!(grid.len(), 1_771_561);
    let a = frontier::analyze(&space, &grid, d("0.5")).unwrap();
    let z = a.zopa.as_ref().unwrap();
    println!(
        "6 issues x 11 levels: {} packages, {} on the Pareto frontier, {} in the utility ZOPA ({} of them on the frontier)",
        a.packages,
        a.frontier.len(),
        z.grid_packages.unwrap_or_default(),
        z.frontier_packages
    );
    let mut g = c.benchmark_group("negotiation");
    g.sample_size(20);
    g.bench_function("frontier_6x11", |b| {
        b.iter(|| frontier::pareto_frontier(black_box(&space), black_box(&grid)).unwrap())
    });
    g.bench_function("analyze_6x11_power_0.5", |b| {
        b.iter(|| frontier::analyze(black_box(&space), black_box(&grid), d("0.5")).unwrap())
    });
    g.bench_function("analyze_6x11_power_0.6", |b| {
        b.iter(|| frontier::analyze(black_box(&space), black_box(&grid), d("0.6")).unwrap())
    });
    g.finish();
}

fn bench_offers(c: &mut Bench) {
    let mut g = c.benchmark_group("concession_offer");
    for (name, beta, kappa, family) in [
        ("polynomial_beta_0.2", "0.2", "0", TacticFamily::Polynomial),
        ("polynomial_beta_0.3", "0.3", "0", TacticFamily::Polynomial),
        ("exponential_beta_0.5", "0.5", "0.1", TacticFamily::Exponential),
    ] {
        let (beta, kappa) = (d(beta), d(kappa));
        g.bench_function(name, |b| {
            b.iter(|| {
                concession_offer(
                    d("0.58"),
                    d("0.70"),
                    black_box(d("7")),
                    d("10"),
                    beta,
                    kappa,
                    family,
                    Side::Seller,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Bench::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = bench_frontier, bench_offers
}
criterion_main!(benches);
