//! The canonical rules written natively: the reference the Rhai scripts (`scripts/`) and
//! WASM plugins (`plugins/`) must match value for value.
#![allow(dead_code)]

use kam::core::Direction;
use kam::core::rules::{
    FnGrowthRule, FnKpiScoringRule, FnPricingRule, GrowthRule, GrowthState, KpiScoringRule, MeasureInput,
    PriceAdjustment, PricingInput, PricingRule,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// The volume rebate, natively: 2 % of the total above 50,000, unrounded.
pub fn native_volume_rebate() -> impl PricingRule {
    FnPricingRule::new("volume rebate", |q: &PricingInput| {
        let threshold = dec!(50000);
        Ok(if q.total > threshold {
            vec![PriceAdjustment {
                label: "volume rebate".into(),
                amount: -((q.total - threshold) * dec!(0.02)),
            }]
        } else {
            vec![]
        })
    })
}

/// OEM volume growth: 1.03^(year-1) on warehousing and inbound-to-manufacturing.
pub fn native_oem_growth() -> impl GrowthRule {
    FnGrowthRule::new("oem volume growth", |s: &GrowthState| {
        let mut factor = Decimal::ONE;
        for _ in 1..s.year {
            factor *= dec!(1.03);
        }
        Ok(s.service_lines
            .iter()
            .map(|l| match l.service_line.as_str() {
                "warehousing" | "inbound_to_manufacturing" => factor,
                _ => Decimal::ONE,
            })
            .collect())
    })
}

/// Band score with a red threshold, else ratio to target; capped at 1.10, floored at 0.
pub fn native_band_score() -> impl KpiScoringRule {
    FnKpiScoringRule::new("band kpi score", |m: &MeasureInput| {
        let raw = match (m.red, m.direction) {
            (Some(red), _) => ((m.actual - red) / (m.target - red)).max(Decimal::ZERO),
            (None, Direction::HigherIsBetter) => m.actual / m.target,
            (None, Direction::LowerIsBetter) => m.target / m.actual,
        };
        Ok(if raw > dec!(1.10) { dec!(1.10) } else { raw })
    })
}
