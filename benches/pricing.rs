//! Pricing a month of warehouse transactions: 1,000,000 individual activity records
//! against a 20-activity rate card with graduated and all-units tiers and a minimum.
//! Target (issue 2): at least 5 million records per second on one core.
//!
//! Two measurements of the same work: wall time (criterion's default) and the benchmark
//! thread's own CPU time (from `/proc/thread-self/schedstat`, Linux), which is the
//! one-core figure when the machine is shared and the thread waits for a core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::pricing::{ActivityRecord, RateCard, Tier, TierMethod};

const ACTIVITIES: [&str; 20] = [
    "pallet_in",
    "pallet_out",
    "storage_pallet_week",
    "storage_pallet_month",
    "order",
    "pick_line",
    "pick_unit",
    "carton",
    "pack_carton",
    "label_unit",
    "vas_hour",
    "kitting_hour",
    "returns_unit",
    "repair_hour",
    "export_pack_carton",
    "shipment",
    "transport_km",
    "customs_shipment",
    "cycle_count_line",
    "admin_order",
];

fn card() -> RateCard {
    let mut card = RateCard::from_code("EUR").unwrap();
    for (i, activity) in ACTIVITIES.iter().enumerate() {
        let base = Decimal::new(35 + 17 * i as i64, 2);
        if i % 3 == 0 {
            let method = if i % 2 == 0 {
                TierMethod::Graduated
            } else {
                TierMethod::AllUnits
            };
            card.tiered(
                activity,
                method,
                vec![
                    Tier::up_to(Decimal::from(10_000), base),
                    Tier::up_to(Decimal::from(25_000), base * Decimal::new(9, 1)),
                    Tier::unbounded(base * Decimal::new(8, 1)),
                ],
            )
            .unwrap();
        } else {
            card.flat(activity, base).unwrap();
        }
    }
    card.minimum("pick_line", Decimal::from(20_000)).unwrap();
    card
}

/// 1,000,000 records, activities spread by a fixed LCG, quantities 1–40 with hours in
/// quarter-hours (fractional).
fn records(n: usize) -> Vec<ActivityRecord> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let activity = ACTIVITIES[(state >> 33) as usize % ACTIVITIES.len()];
            let q = ((state >> 13) % 40 + 1) as i64;
            let quantity = if activity.ends_with("_hour") {
                Decimal::new(q * 25, 2)
            } else {
                Decimal::from(q)
            };
            ActivityRecord {
                activity: activity.to_owned(),
                quantity,
            }
        })
        .collect()
}

/// CPU time of the calling thread in nanoseconds (0 where `/proc` is unavailable).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Criterion measurement: CPU time the benchmark thread spent running.
struct ThreadCpuTime;

static WALL: WallTime = WallTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = Duration;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(thread_cpu_ns().saturating_sub(start))
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn bench_pricing<M: Measurement>(c: &mut Criterion<M>, label: &str) {
    let card = card();
    let records = records(1_000_000);
    let quote = card.price_records(&records).unwrap();
    assert_eq!(quote.lines().len(), 20);
    let mut group = c.benchmark_group(format!("pricing_{label}"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("price_1m_records_20_activities", |b| {
        b.iter(|| card.price_records(black_box(&records)).unwrap())
    });
    group.finish();
}

fn wall(c: &mut Criterion) {
    bench_pricing(c, "wall_time");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench_pricing(c, "thread_cpu_time");
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
