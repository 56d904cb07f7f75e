//! Worked examples from `shared/vectors`, copied here (tests must not read `../shared`)
//! for the tests that run them through native, Rhai and WASM rules.
#![allow(dead_code)]

use kam::core::Direction;
use kam::core::rules::MeasureInput;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A scorecard measure as a scoring rule sees it.
pub fn measure(
    name: &str,
    actual: Decimal,
    target: Decimal,
    direction: Direction,
    red: Option<Decimal>,
) -> MeasureInput {
    MeasureInput {
        name: name.into(),
        actual,
        target,
        direction,
        red,
    }
}

/// Source: shared/vectors/scorecard.toml [qbr]: the measures and their ratio scores
/// (capped at 1.10) to 5 decimals.
pub fn qbr_measures() -> Vec<(MeasureInput, Decimal)> {
    use Direction::{HigherIsBetter as H, LowerIsBetter as L};
    vec![
        (measure("OTIF %", dec!(97.8), dec!(98.5), H, None), dec!(0.99289)),
        (
            measure("Inventory accuracy %", dec!(99.2), dec!(99.5), H, None),
            dec!(0.99698),
        ),
        (
            measure("Dock-to-stock hours", dec!(20), dec!(24), L, None),
            dec!(1.10000),
        ),
        (
            measure("Damage ppm", dec!(180), dec!(150), L, None),
            dec!(0.83333),
        ),
        (
            measure("Cost per line", dec!(0.66), dec!(0.65), L, None),
            dec!(0.98485),
        ),
    ]
}
