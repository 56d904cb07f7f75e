//! Script rule overhead.
//!
//! 1. Calling a trivial script rule (`fn adjust(quote) { [] }`) vs the same rule native.
//!    Target (issue 6): ≤ 1 µs per call.
//! 2. A 1,000-line quote priced natively with the volume rebate as a native rule vs as a
//!    script rule (`scripts/volume_rebate.rhai`). Target: the script adds ≤ 10 %.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::pricing::{RateCard, Tier, TierMethod};
use kam::core::rules::{FnPricingRule, PriceAdjustment, PricingInput, PricingLine, PricingRule};
use kam_script::{ScriptHost, ScriptPricingRule};

const VOLUME_REBATE: &str = include_str!("../scripts/volume_rebate.rhai");

fn native_rebate() -> impl PricingRule {
    FnPricingRule::new("volume rebate", |q: &PricingInput| {
        let threshold = Decimal::from(50_000);
        Ok(if q.total > threshold {
            vec![PriceAdjustment {
                label: "volume rebate".into(),
                amount: -(q.total - threshold) * Decimal::new(2, 2),
            }]
        } else {
            vec![]
        })
    })
}

/// A card of 1,000 activities (every third one tiered) and one period's volumes for all.
fn thousand_lines() -> (RateCard, Vec<(String, Decimal)>) {
    let mut card = RateCard::from_code("EUR").unwrap();
    let mut volumes = Vec::with_capacity(1000);
    for i in 0..1000i64 {
        let name = format!("activity_{i:04}");
        let rate = Decimal::new(35 + (i % 97), 2);
        if i % 3 == 0 {
            card.tiered(
                &name,
                if i % 2 == 0 {
                    TierMethod::Graduated
                } else {
                    TierMethod::AllUnits
                },
                vec![
                    Tier::up_to(Decimal::from(1000), rate),
                    Tier::up_to(Decimal::from(5000), rate - Decimal::new(5, 2)),
                    Tier::unbounded(rate - Decimal::new(10, 2)),
                ],
            )
            .unwrap();
        } else {
            card.flat(&name, rate).unwrap();
        }
        volumes.push((name, Decimal::from(100 + (i * 37) % 9000)));
    }
    (card, volumes)
}

fn bench(c: &mut Criterion) {
    let host = Arc::new(ScriptHost::default());

    // 1. Per-call overhead of a trivial rule on a one-line quote.
    let trivial =
        ScriptPricingRule::load(Arc::clone(&host), "trivial.rhai", "fn adjust(quote) { [] }").unwrap();
    let native_trivial = FnPricingRule::new("trivial", |_: &PricingInput| Ok(vec![]));
    let one_line = PricingInput {
        currency: "EUR".into(),
        lines: vec![PricingLine {
            activity: "pick_line".into(),
            quantity: Decimal::from(18_000),
            billed_quantity: Decimal::from(18_000),
            amount: Decimal::from(11_700),
        }],
        total: Decimal::from(11_700),
    };
    let mut g = c.benchmark_group("script_rule_call");
    g.bench_function("native_trivial", |b| {
        b.iter(|| native_trivial.adjust(black_box(&one_line)).unwrap())
    });
    g.bench_function("script_trivial", |b| {
        b.iter(|| trivial.adjust(black_box(&one_line)).unwrap())
    });
    let rebate = ScriptPricingRule::load(Arc::clone(&host), "volume_rebate.rhai", VOLUME_REBATE).unwrap();
    let big = PricingInput {
        total: Decimal::from(60_000),
        ..one_line.clone()
    };
    g.bench_function("script_volume_rebate", |b| {
        b.iter(|| rebate.adjust(black_box(&big)).unwrap())
    });
    g.finish();

    // 2. A 1,000-line quote: pricing + rule, native rule vs script rule.
    let (card, volumes) = thousand_lines();
    let native = native_rebate();
    let mut g = c.benchmark_group("quote_1000_lines");
    g.bench_function("price_only", |b| {
        b.iter(|| {
            card.price(black_box(&volumes).iter().map(|(k, v)| (k, v)))
                .unwrap()
        })
    });
    g.bench_function("price_native_rule", |b| {
        b.iter(|| {
            let mut q = card
                .price(black_box(&volumes).iter().map(|(k, v)| (k, v)))
                .unwrap();
            q.apply_rules(&[&native as &dyn PricingRule]).unwrap();
            q
        })
    });
    g.bench_function("price_script_rule", |b| {
        b.iter(|| {
            let mut q = card
                .price(black_box(&volumes).iter().map(|(k, v)| (k, v)))
                .unwrap();
            q.apply_rules(&[&rebate as &dyn PricingRule]).unwrap();
            q
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
