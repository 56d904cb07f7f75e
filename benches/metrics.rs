//! Benchmark: 10,000 sites × 12 KPIs × 36 periods rolled up to global and evaluated
//! (RAG status for every cell, all built-in alert rules, de-duplicated register).
//! Target: ≤ 200 ms per full run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::account::{Account, AccountNode, NodeLevel};
use kam::core::metrics::kpi::{CountBasis, DateBasis, Tolerance};
use kam::core::metrics::{
    AlertPolicy, AlertRegister, Kpi, KpiLibrary, Observation, ObservationTable, Status, evaluate,
};

const REGIONS: usize = 5;
const COUNTRIES_PER_REGION: usize = 10;
const SITES_PER_COUNTRY: usize = 200;
const PERIODS: usize = 36;

/// Deterministic xorshift so the data set is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

fn library() -> KpiLibrary {
    KpiLibrary::new(vec![
        Kpi::otif(CountBasis::Order, DateBasis::Commit),
        Kpi::otif(CountBasis::Line, DateBasis::Commit),
        Kpi::otif(CountBasis::Order, DateBasis::Request),
        Kpi::on_time_shipment(DateBasis::Schedule),
        Kpi::order_accuracy(),
        Kpi::pick_accuracy(),
        Kpi::inventory_accuracy(Tolerance::Units(Decimal::ZERO)),
        Kpi::dock_to_stock_hours(),
        Kpi::damage_ppm(),
        Kpi::perfect_order_scor(),
        Kpi::cost_to_serve_percent(),
        Kpi::margin_percent(),
    ])
    .unwrap()
}

fn table() -> ObservationTable {
    let mut nodes = vec![AccountNode::new("global", "Global", NodeLevel::Global, None)];
    let mut sites = Vec::new();
    for r in 0..REGIONS {
        let region = format!("r{r}");
        nodes.push(AccountNode::new(
            &region,
            &region,
            NodeLevel::Region,
            Some("global"),
        ));
        for c in 0..COUNTRIES_PER_REGION {
            let country = format!("r{r}c{c}");
            nodes.push(AccountNode::new(
                &country,
                &country,
                NodeLevel::Country,
                Some(&region),
            ));
            for s in 0..SITES_PER_COUNTRY {
                let site = format!("r{r}c{c}s{s}");
                nodes.push(AccountNode::new(&site, &site, NodeLevel::Site, Some(&country)));
                sites.push(site);
            }
        }
    }
    let account = Account {
        id: "bench".into(),
        name: "Bench".into(),
        nodes,
        service_lines: vec![],
        buying_centres: vec![],
    };
    let lib = library();
    let periods: Vec<String> = (1..=PERIODS).map(|p| format!("p{p:02}")).collect();
    let mut t = ObservationTable::new(&lib, &account.hierarchy().unwrap(), periods.clone()).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let kpis: Vec<String> = lib.kpis().iter().map(|k| k.id.clone()).collect();
    for site in &sites {
        for period in &periods {
            for kpi in &kpis {
                let obs = match kpi.as_str() {
                    "dock_to_stock_hours" => Observation::weighted(
                        Decimal::new(120 + rng.below(300), 1),
                        Decimal::from(50 + rng.below(100)),
                    )
                    .unwrap(),
                    "damage_ppm" => {
                        let units = 100_000 + rng.below(50_000);
                        Observation::ratio(Decimal::from(rng.below(40)), Decimal::from(units))
                    }
                    "cost_to_serve_pct" => {
                        let revenue = 500_000 + rng.below(500_000);
                        let pct = 85 + rng.below(13);
                        Observation::ratio(Decimal::new(revenue * pct, 2), Decimal::new(revenue, 0))
                    }
                    "margin_pct" => {
                        let revenue = 500_000 + rng.below(500_000);
                        let pct = rng.below(14) - 2;
                        Observation::ratio(Decimal::new(revenue * pct, 2), Decimal::new(revenue, 0))
                    }
                    _ => {
                        let total = 1000 + rng.below(1000);
                        let miss = rng.below(total as u64 / 12);
                        Observation::ratio(Decimal::from(total - miss), Decimal::from(total))
                    }
                };
                t.record(site, kpi, period, obs).unwrap();
            }
        }
    }
    t
}

fn bench(c: &mut Criterion) {
    let t = table();
    let policy = AlertPolicy::default();
    let last = format!("p{PERIODS:02}");
    {
        let t0 = std::time::Instant::now();
        let r = t.roll_up().unwrap();
        let t1 = std::time::Instant::now();
        let quiet = AlertPolicy { alerts: vec![], rule_history: 1 };
        evaluate(&r, &quiet, &[], &mut AlertRegister::default(), &last).unwrap();
        let t2 = std::time::Instant::now();
        let mut reg = AlertRegister::default();
        let e = evaluate(&r, &policy, &[], &mut reg, &last).unwrap();
        let t3 = std::time::Instant::now();
        eprintln!("one run: roll-up {:?}, statuses only {:?}, statuses + alerts {:?}", t1 - t0, t2 - t1, t3 - t2);
        eprintln!(
            "cells: green {} amber {} red {}; alerts raised {} (open at end {})",
            e.count(Status::Green),
            e.count(Status::Amber),
            e.count(Status::Red),
            reg.alerts().len(),
            reg.open().count()
        );
    }
    let mut g = c.benchmark_group("metrics");
    g.sample_size(10);
    g.bench_function("10k_sites_12_kpis_36_periods_rollup_evaluate_alerts", |b| {
        b.iter(|| {
            let r = t.roll_up().unwrap();
            let mut reg = AlertRegister::default();
            let e = evaluate(&r, &policy, &[], &mut reg, &last).unwrap();
            black_box((e.count(Status::Red), reg.alerts().len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
