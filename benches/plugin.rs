//! kam-plugin benchmarks: the per-line cost of a batch pricing plugin on a 1,000-line
//! quote against the same rule in native Rust (target ≤ 3× native per line), a call's
//! instantiation from the pre-linked component (target ≤ 50 µs), and loading a component
//! that is already in the host's compiled-component cache (target ≤ 10 ms): in memory, and
//! from the cache directory a new process reads. Also a growth plugin's simulated path as
//! one batch call against a call a month.
//!
//! `cargo bench --bench plugin` (builds the guest plugins first).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/support/guests.rs"]
mod guests;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kam::core::rules::{
    FnPricingRule, GrowthRule, GrowthState, PeriodFactors, PriceAdjustment, PricingInput, PricingLine,
    PricingRule, ServiceLineRevenue, on_periods_one_by_one,
};
use kam_plugin::{PluginHost, PluginLimits};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A 1,000-line quote; two lines in three are billed at 10,000 units or more.
fn quote_1000() -> PricingInput {
    let lines: Vec<PricingLine> = (0..1000i64)
        .map(|i| {
            let quantity = Decimal::from((i % 3) * 9_000 + 2_500);
            let amount = quantity * Decimal::new(65 + i % 40, 2);
            PricingLine {
                activity: format!("activity_{i:04}"),
                quantity,
                billed_quantity: quantity,
                amount,
            }
        })
        .collect();
    let total = lines.iter().map(|l| l.amount).sum();
    PricingInput {
        currency: "EUR".into(),
        lines,
        total,
    }
}

/// One simulated path: contract years 1 to 3, four service lines.
fn growth_path() -> Vec<GrowthState> {
    (0..36u32)
        .map(|month| GrowthState {
            month,
            year: month / 12 + 1,
            volume_index: Decimal::new(1_000_000 + i64::from(month) * 1_234, 6),
            service_lines: [
                "warehousing",
                "inbound_to_manufacturing",
                "transport",
                "aftermarket",
            ]
            .iter()
            .enumerate()
            .map(|(i, l)| ServiceLineRevenue {
                service_line: (*l).into(),
                revenue: Decimal::new(12_500_000 + i64::from(month) * 7_919 + i as i64 * 311, 2),
            })
            .collect(),
        })
        .collect()
}

/// The benchmark rule natively (same as plugins/line-volume-discount).
fn native_line_volume_discount() -> impl PricingRule {
    FnPricingRule::new("line volume discount", |q: &PricingInput| {
        let mut out = Vec::new();
        for l in &q.lines {
            if l.billed_quantity >= dec!(10000) {
                let discount = kam::core::num::mul(l.amount, dec!(0.015), &l.activity).map_err(|e| {
                    kam::core::rules::RuleError::new(
                        "line volume discount",
                        kam::core::rules::RuleHost::Native,
                        kam::core::rules::RuleErrorKind::Failed,
                        e.to_string(),
                    )
                })?;
                out.push(PriceAdjustment {
                    label: format!("{} volume discount", l.activity),
                    amount: -discount,
                });
            }
        }
        Ok(out)
    })
}

fn benches(c: &mut Criterion) {
    let host = PluginHost::new(PluginLimits::default()).unwrap();
    let bytes = guests::wasm("line-volume-discount");
    let plugin = host.load_pricing("line-volume-discount", &bytes).unwrap();
    let native = native_line_volume_discount();
    let quote = quote_1000();
    assert_eq!(plugin.adjust(&quote).unwrap(), native.adjust(&quote).unwrap());

    let mut group = c.benchmark_group("plugin_pricing_1000_lines");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("native", |b| b.iter(|| native.adjust(black_box(&quote)).unwrap()));
    group.bench_function("wasm", |b| b.iter(|| plugin.adjust(black_box(&quote)).unwrap()));
    // The same quote through a plugin that converts it and adjusts nothing: the cost of
    // crossing the boundary (strings in, SDK parsing, fresh instance) before any rule work.
    let crossing = host
        .load_pricing("no-adjustment", &guests::wasm("no-adjustment"))
        .unwrap();
    assert!(crossing.adjust(&quote).unwrap().is_empty());
    group.bench_function("wasm, crossing only", |b| {
        b.iter(|| crossing.adjust(black_box(&quote)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("plugin_calls");
    group.bench_function("instantiate_from_instance_pre", |b| {
        b.iter(|| plugin.instantiate_only().unwrap())
    });
    let small = PricingInput {
        lines: quote.lines[..6].to_vec(),
        ..quote.clone()
    };
    group.bench_function("call_6_line_quote", |b| {
        b.iter(|| plugin.adjust(black_box(&small)).unwrap())
    });
    group.bench_function("load_cached_component", |b| {
        b.iter(|| {
            host.load_pricing("line-volume-discount", black_box(&bytes))
                .unwrap()
        })
    });

    // What a new process pays for a plugin an earlier one compiled: a fresh host (made
    // outside the timing) reading the component from its cache directory.
    let cache = std::env::temp_dir().join(format!("kam-bench-plugin-cache-{}", std::process::id()));
    let fresh = || PluginHost::with_disk_cache(PluginLimits::default(), &cache).unwrap();
    fresh().load_pricing("line-volume-discount", &bytes).unwrap();
    group.bench_function("load_from_disk_cache", |b| {
        b.iter_batched(
            fresh,
            |host| {
                host.load_pricing("line-volume-discount", black_box(&bytes))
                    .unwrap();
                assert_eq!(host.cache_stats().from_disk, 1);
                host
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&cache);

    // A simulated path through a growth plugin: 36 months of 4 service lines as one batch
    // call, against the same months one call each (what a wrapper that does not forward
    // `on_periods` silently costs).
    let growth = host
        .load_growth("oem-volume-growth", &guests::wasm("oem-volume-growth"))
        .unwrap();
    let path = growth_path();
    let mut group = c.benchmark_group("plugin_growth_36_months");
    group.throughput(Throughput::Elements(36));
    group.bench_function("on_periods, one call", |b| {
        b.iter(|| {
            let mut out = PeriodFactors::new();
            growth.on_periods(black_box(&path), &mut out).unwrap();
            out
        })
    });
    group.bench_function("on_period, a call a month", |b| {
        b.iter(|| {
            let mut out = PeriodFactors::new();
            on_periods_one_by_one(&growth, black_box(&path), &mut out).unwrap();
            out
        })
    });
    group.finish();

    let mut group = c.benchmark_group("plugin_compile");
    group.sample_size(10);
    group.bench_function("load_uncached_component", |b| {
        b.iter(|| {
            let fresh = PluginHost::new(PluginLimits::default()).unwrap();
            fresh
                .load_pricing("line-volume-discount", black_box(&bytes))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = plugin;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(plugin);
