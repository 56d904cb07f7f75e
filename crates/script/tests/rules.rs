//! Rules written as scripts implement the kam-core rule traits and agree with the same
//! rule written natively, to the last decimal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use kam_core::Direction;
use kam_core::rules::{
    AlertDecision, AlertInput, AlertRule, FnAlertRule, FnGrowthRule, FnKpiScoringRule, FnPricingRule,
    GrowthRule, GrowthState, KpiScoringRule, MeasureInput, PeriodError, PeriodFactors, PriceAdjustment,
    PricingInput, PricingLine, PricingRule, RuleError, RuleErrorKind, ServiceLineRevenue,
};
use kam_script::{
    ScriptAlertRule, ScriptErrorKind, ScriptGrowthRule, ScriptHost, ScriptKpiScoringRule, ScriptPricingRule,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const VOLUME_REBATE: &str = include_str!("../../../scripts/volume_rebate.rhai");
const OEM_GROWTH: &str = include_str!("../../../scripts/oem_volume_growth.rhai");
const BAND_SCORE: &str = include_str!("../../../scripts/band_kpi_score.rhai");

static HOST: std::sync::LazyLock<Arc<ScriptHost>> =
    std::sync::LazyLock::new(|| Arc::new(ScriptHost::default()));

fn host() -> Arc<ScriptHost> {
    Arc::clone(&HOST)
}

// ---------------------------------------------------------------- native versions

fn native_rebate() -> impl PricingRule {
    FnPricingRule::new("volume rebate", |q: &PricingInput| {
        let threshold = Decimal::from(50_000);
        Ok(if q.total > threshold {
            vec![PriceAdjustment {
                label: "volume rebate".into(),
                amount: -(q.total - threshold) * dec!(0.02),
            }]
        } else {
            vec![]
        })
    })
}

fn native_growth() -> impl GrowthRule {
    FnGrowthRule::new("OEM volume growth", |s: &GrowthState| {
        let growth = rust_decimal::MathematicalOps::powi(&dec!(1.03), i64::from(s.year) - 1);
        Ok(s.service_lines
            .iter()
            .map(|l| match l.service_line.as_str() {
                "warehousing" | "inbound_to_manufacturing" => growth,
                _ => Decimal::ONE,
            })
            .collect())
    })
}

fn native_band_score() -> impl KpiScoringRule {
    FnKpiScoringRule::new("band score", |m: &MeasureInput| {
        let cap = dec!(1.10);
        let div = |a: Decimal, b: Decimal| {
            a.checked_div(b).ok_or_else(|| {
                RuleError::new(
                    "band score",
                    kam_core::rules::RuleHost::Native,
                    RuleErrorKind::Failed,
                    "division by zero",
                )
            })
        };
        Ok(match m.red {
            Some(red) => div(m.actual - red, m.target - red)?.clamp(Decimal::ZERO, cap),
            None => match m.direction {
                Direction::HigherIsBetter => div(m.actual, m.target)?.min(cap),
                Direction::LowerIsBetter => div(m.target, m.actual)?.min(cap),
            },
        })
    })
}

fn quote(total: Decimal) -> PricingInput {
    PricingInput {
        currency: "EUR".into(),
        lines: vec![PricingLine {
            activity: "pick_line".into(),
            quantity: dec!(18000),
            billed_quantity: dec!(18000),
            amount: total,
        }],
        total,
    }
}

fn state(year: u32) -> GrowthState {
    let lines = [
        "warehousing",
        "inbound_to_manufacturing",
        "transport",
        "aftermarket",
    ];
    GrowthState {
        month: (year - 1) * 12,
        year,
        volume_index: Decimal::ONE,
        service_lines: lines
            .iter()
            .map(|l| ServiceLineRevenue {
                service_line: (*l).into(),
                revenue: dec!(100000),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- native = script

#[test]
fn volume_rebate_native_equals_script() {
    let script = ScriptPricingRule::load(host(), "scripts/volume_rebate.rhai", VOLUME_REBATE).unwrap();
    let native = native_rebate();
    // Source: shared/vectors/pricing.toml [rate_card_month] total = 51547.50 → rebate 30.95
    let month = quote(dec!(51547.50));
    let got = script.adjust(&month).unwrap();
    assert_eq!(got, native.adjust(&month).unwrap());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].label, "volume rebate");
    assert_eq!(got[0].amount, dec!(-30.9500));
    for total in [
        dec!(0),
        dec!(49999.99),
        dec!(50000),
        dec!(50000.01),
        dec!(1000000),
    ] {
        assert_eq!(
            script.adjust(&quote(total)).unwrap(),
            native.adjust(&quote(total)).unwrap(),
            "{total}"
        );
    }
    assert!(
        script.adjust(&quote(dec!(50000))).unwrap().is_empty(),
        "50,000 exactly is not above"
    );
}

#[test]
fn oem_growth_native_equals_script() {
    let script = ScriptGrowthRule::load(host(), "scripts/oem_volume_growth.rhai", OEM_GROWTH).unwrap();
    let native = native_growth();
    for year in 1..=10 {
        let s = state(year);
        assert_eq!(
            script.on_period(&s).unwrap(),
            native.on_period(&s).unwrap(),
            "year {year}"
        );
    }
    // 1.03^2 = 1.0609 in year 3.
    assert_eq!(
        script.on_period(&state(3)).unwrap(),
        vec![dec!(1.0609), dec!(1.0609), dec!(1), dec!(1)]
    );
}

fn measures() -> Vec<MeasureInput> {
    // Source: shared/vectors/scorecard.toml [qbr] measures (ratio scoring, cap 1.10),
    // plus two band-scored measures with red thresholds.
    let m =
        |name: &str, actual: Decimal, target: Decimal, dir: Direction, red: Option<Decimal>| MeasureInput {
            name: name.into(),
            actual,
            target,
            direction: dir,
            red,
        };
    vec![
        m("OTIF %", dec!(97.8), dec!(98.5), Direction::HigherIsBetter, None),
        m(
            "Inventory accuracy %",
            dec!(99.2),
            dec!(99.5),
            Direction::HigherIsBetter,
            None,
        ),
        m(
            "Dock-to-stock hours",
            dec!(20),
            dec!(24),
            Direction::LowerIsBetter,
            None,
        ),
        m("Damage ppm", dec!(180), dec!(150), Direction::LowerIsBetter, None),
        m(
            "Cost per line",
            dec!(0.66),
            dec!(0.65),
            Direction::LowerIsBetter,
            None,
        ),
        m(
            "OTIF % banded",
            dec!(97.8),
            dec!(98.5),
            Direction::HigherIsBetter,
            Some(dec!(95)),
        ),
        m(
            "Damage ppm banded",
            dec!(180),
            dec!(150),
            Direction::LowerIsBetter,
            Some(dec!(250)),
        ),
        m(
            "far below red",
            dec!(90),
            dec!(98.5),
            Direction::HigherIsBetter,
            Some(dec!(95)),
        ),
        m(
            "far above target",
            dec!(99.9),
            dec!(98.5),
            Direction::HigherIsBetter,
            Some(dec!(98)),
        ),
    ]
}

#[test]
fn band_score_native_equals_script() {
    let script = ScriptKpiScoringRule::load(host(), "scripts/band_kpi_score.rhai", BAND_SCORE).unwrap();
    let native = native_band_score();
    let ms = measures();
    let got = script.score(&ms).unwrap();
    assert_eq!(got, native.score(&ms).unwrap());
    // Source: shared/vectors/scorecard.toml [qbr] score_5dp.
    let at5: Vec<Decimal> = got.iter().take(5).map(|s| s.round_dp(5)).collect();
    assert_eq!(
        at5,
        vec![
            dec!(0.99289),
            dec!(0.99698),
            dec!(1.10000),
            dec!(0.83333),
            dec!(0.98485)
        ]
    );
    // Band: (97.8 − 95)/(98.5 − 95) = 0.8; (180 − 250)/(150 − 250) = 0.7; clamped 0 and 1.10.
    assert_eq!(got[5], dec!(0.8));
    assert_eq!(got[6], dec!(0.7));
    assert_eq!(got[7], dec!(0));
    assert_eq!(got[8], dec!(1.10));
}

#[test]
fn alert_rule_native_equals_script() {
    let src = r#"
        // Raise when the last three periods all miss target in the adverse direction.
        fn alert(input) {
            let h = input.history;
            if h.len() < 3 { return false; }
            let misses = 0;
            for v in h.extract(h.len() - 3) {
                let miss = if input.direction == "higher" { v < input.target } else { v > input.target };
                if miss { misses += 1; }
            }
            if misses == 3 {
                #{ raise: true, message: `${input.kpi} at ${input.node} missed target 3 periods running` }
            } else {
                false
            }
        }
    "#;
    let script = ScriptAlertRule::load(host(), "three_misses.rhai", src).unwrap();
    let native = FnAlertRule::new("three misses", |a: &AlertInput| {
        let n = a.history.len();
        if n < 3 {
            return Ok(AlertDecision {
                raise: false,
                message: String::new(),
            });
        }
        let misses = a.history[n - 3..]
            .iter()
            .filter(|v| match a.direction {
                Direction::HigherIsBetter => **v < a.target,
                Direction::LowerIsBetter => **v > a.target,
            })
            .count();
        Ok(if misses == 3 {
            AlertDecision {
                raise: true,
                message: format!("{} at {} missed target 3 periods running", a.kpi, a.node),
            }
        } else {
            AlertDecision {
                raise: false,
                message: String::new(),
            }
        })
    });
    let input = |node: &str, history: Vec<Decimal>| AlertInput {
        kpi: "otif".into(),
        node: node.into(),
        direction: Direction::HigherIsBetter,
        target: dec!(98.5),
        history,
    };
    let inputs = vec![
        input("leipzig", vec![dec!(99), dec!(98), dec!(97.9), dec!(97.8)]),
        input("pune", vec![dec!(98), dec!(99), dec!(97)]),
        input("new", vec![dec!(90)]),
    ];
    let got = script.alert(&inputs).unwrap();
    assert_eq!(got, native.alert(&inputs).unwrap());
    assert!(got[0].raise && !got[1].raise && !got[2].raise);
}

// ---------------------------------------------------------------- contract errors

#[test]
fn missing_entry_point_is_a_load_error() {
    let e = ScriptPricingRule::load(host(), "wrong.rhai", "fn adjust_quote(q) { [] }").unwrap_err();
    assert_eq!(e.kind, ScriptErrorKind::Contract);
    assert!(e.message.contains("fn adjust(quote)"), "{e}");
    let e = ScriptGrowthRule::load(host(), "arity.rhai", "fn on_period(a, b) { [] }").unwrap_err();
    assert!(e.message.contains("found `on_period` with 2 parameters"), "{e}");
    let e = ScriptKpiScoringRule::load(host(), "syntax.rhai", "fn score(m) { m.actual + }").unwrap_err();
    assert_eq!(e.kind, ScriptErrorKind::Syntax);
    assert_eq!(e.line, Some(1));
    assert!(ScriptAlertRule::load(host(), "none.rhai", "let x = 1;").is_err());
}

#[test]
fn wrong_return_type_is_bad_return() {
    let r = ScriptPricingRule::load(host(), "r.rhai", r#"fn adjust(q) { "rebate" }"#).unwrap();
    let e = r.adjust(&quote(dec!(1))).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::BadReturn);
    assert!(e.message.contains("array"), "{e}");
    let r = ScriptPricingRule::load(
        host(),
        "r.rhai",
        r#"fn adjust(q) { [#{ label: "x", amount: "1" }] }"#,
    )
    .unwrap();
    assert_eq!(
        r.adjust(&quote(dec!(1))).unwrap_err().kind,
        RuleErrorKind::BadReturn
    );
    let r = ScriptPricingRule::load(
        host(),
        "r.rhai",
        r#"fn adjust(q) { [#{ label: "x", amount: money(1, "USD") }] }"#,
    )
    .unwrap();
    let e = r.adjust(&quote(dec!(1))).unwrap_err();
    assert!(e.message.contains("USD"), "{e}");
    let g = ScriptGrowthRule::load(host(), "g.rhai", "fn on_period(s) { [1, 2] }").unwrap();
    let e = g.on_period(&state(1)).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::BadReturn);
    assert!(e.message.contains("2 results for a batch of 4"), "{e}");
    let s = ScriptKpiScoringRule::load(host(), "s.rhai", "fn score(m) { true }").unwrap();
    assert_eq!(s.score(&measures()).unwrap_err().kind, RuleErrorKind::BadReturn);
    let a = ScriptAlertRule::load(host(), "a.rhai", "fn alert(i) { 1 }").unwrap();
    let input = AlertInput {
        kpi: "k".into(),
        node: "n".into(),
        direction: Direction::LowerIsBetter,
        target: dec!(1),
        history: vec![],
    };
    assert_eq!(a.alert(&[input]).unwrap_err().kind, RuleErrorKind::BadReturn);
}

#[test]
fn runtime_failure_in_rule_names_line() {
    let r = ScriptKpiScoringRule::load(host(), "div.rhai", "fn score(m) {\n  m.actual / 0\n}").unwrap();
    let e = r.score(&measures()).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Failed);
    assert!(e.message.starts_with("div.rhai:2:"), "{e}");
    let r = ScriptPricingRule::load(host(), "loop.rhai", "fn adjust(q) { loop {} }").unwrap();
    assert_eq!(
        r.adjust(&quote(dec!(1))).unwrap_err().kind,
        RuleErrorKind::OperationLimit
    );
}

#[test]
fn rules_are_shareable_across_threads() {
    let script: Arc<dyn PricingRule> =
        Arc::new(ScriptPricingRule::load(host(), "scripts/volume_rebate.rhai", VOLUME_REBATE).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let rule = Arc::clone(&script);
            std::thread::spawn(move || rule.adjust(&quote(Decimal::from(60_000 + i))).unwrap())
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let got = h.join().unwrap();
        assert_eq!(got[0].amount, -(Decimal::from(10_000 + i as i64)) * dec!(0.02));
    }
}

proptest! {
    #[test]
    fn rebate_native_equals_script_for_any_total(cents in 0i64..1_000_000_000) {
        let total = Decimal::new(cents, 2);
        let script = ScriptPricingRule::load(host(), "scripts/volume_rebate.rhai", VOLUME_REBATE).unwrap();
        prop_assert_eq!(script.adjust(&quote(total)).unwrap(), native_rebate().adjust(&quote(total)).unwrap());
    }

    #[test]
    fn band_score_native_equals_script_for_any_measure(
        actual in 1i64..200_000, target in 1i64..200_000, red in proptest::option::of(0i64..200_000), higher: bool
    ) {
        let (actual, target) = (Decimal::new(actual, 3), Decimal::new(target, 3));
        let red = red.map(|r| Decimal::new(r, 3)).filter(|r| *r != target);
        let m = MeasureInput {
            name: "m".into(),
            actual,
            target,
            direction: if higher { Direction::HigherIsBetter } else { Direction::LowerIsBetter },
            red,
        };
        let script = ScriptKpiScoringRule::load(host(), "scripts/band_kpi_score.rhai", BAND_SCORE).unwrap();
        prop_assert_eq!(script.score(std::slice::from_ref(&m)).unwrap(), native_band_score().score(&[m]).unwrap());
    }
}

#[test]
fn pricing_rule_reads_lines_when_it_names_them() {
    let src = r#"
        // 1 % off pick lines only.
        fn adjust(quote) {
            let out = [];
            for line in quote.lines {
                if line.activity == "pick_line" {
                    out.push(#{ label: "pick discount", amount: -line.amount * 0.01 });
                }
            }
            out
        }
    "#;
    let rule = ScriptPricingRule::load(host(), "pick_discount.rhai", src).unwrap();
    let got = rule.adjust(&quote(dec!(11700))).unwrap();
    assert_eq!(
        got,
        vec![PriceAdjustment {
            label: "pick discount".into(),
            amount: dec!(-117.00)
        }]
    );
    // A rule that never names them gets an error, not an empty list, if it reaches them.
    let sneaky = r#"fn adjust(quote) { let f = Fn("get$" + "li" + "nes"); f.call(quote); [] }"#;
    let rule = ScriptPricingRule::load(host(), "sneaky.rhai", sneaky).unwrap();
    assert!(rule.adjust(&quote(dec!(1))).is_err());
}

// ---------------------------------------------------------------- growth batches

/// The months of one path: volume index and revenue vary by month, names stay.
fn path_states(months: u32, vols: &[i64]) -> Vec<GrowthState> {
    (0..months)
        .map(|m| {
            let mut s = state(m / 12 + 1);
            s.month = m;
            s.volume_index = Decimal::new(vols[m as usize % vols.len()], 3);
            for (i, l) in s.service_lines.iter_mut().enumerate() {
                l.revenue = Decimal::new(1_000_000 + 7919 * i64::from(m) * (i as i64 + 1), 2);
            }
            s
        })
        .collect()
}

/// Reads every field of the state, so a batch that mixed up months would show.
const EVERY_FIELD: &str = r#"
fn on_period(state) {
    let out = [];
    let i = 0;
    for line in state.service_lines {
        let f = if state.volume_index < 1 && line.service_line == "warehousing" { 1.03 } else { 1 };
        out.push(f + line.revenue / 100000000 + state.month / 1000 + state.year / 100 + i);
        i += 1;
    }
    out
}
"#;

fn batch(rule: &dyn GrowthRule, states: &[GrowthState]) -> Result<Vec<Vec<Decimal>>, PeriodError> {
    let mut out = PeriodFactors::new();
    rule.on_periods(states, &mut out)?;
    assert_eq!(out.len(), states.len());
    Ok(out.iter().map(<[Decimal]>::to_vec).collect())
}

fn one_by_one(rule: &dyn GrowthRule, states: &[GrowthState]) -> Vec<Vec<Decimal>> {
    states.iter().map(|s| rule.on_period(s).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn script_batch_equals_month_by_month(
        months in 1u32..40,
        vols in proptest::collection::vec(800i64..1200, 1..12),
    ) {
        let states = path_states(months, &vols);
        let script = ScriptGrowthRule::load(host(), "every_field.rhai", EVERY_FIELD).unwrap();
        prop_assert_eq!(batch(&script, &states).unwrap(), one_by_one(&script, &states));
        let oem = ScriptGrowthRule::load(host(), "scripts/oem_volume_growth.rhai", OEM_GROWTH).unwrap();
        let native = native_growth();
        prop_assert_eq!(batch(&oem, &states).unwrap(), batch(&native, &states).unwrap());
    }
}

#[test]
fn script_batch_error_names_the_month_and_the_line() {
    let src = "fn on_period(state) {\n  if state.month == 13 { throw \"no data for month 13\"; }\n  [1, 1, 1, 1]\n}";
    let rule = ScriptGrowthRule::load(host(), "picky.rhai", src).unwrap();
    let states = path_states(36, &[1000]);
    let e = batch(&rule, &states).unwrap_err();
    assert_eq!(e.index, 13);
    // The same error as calling that month alone: the batch helper leaves no trace.
    assert_eq!(e.error, rule.on_period(&states[13]).unwrap_err());
    assert_eq!(e.error.kind, RuleErrorKind::Failed);
    assert!(e.error.message.starts_with("picky.rhai:2:"), "{}", e.error);
    assert!(!e.error.message.contains("__kam"), "{}", e.error);
    // A batch starting later counts from its own start.
    assert_eq!(batch(&rule, &states[10..]).unwrap_err().index, 3);

    let bad = ScriptGrowthRule::load(
        host(),
        "short.rhai",
        "fn on_period(s) { if s.month < 5 { [1, 1, 1, 1] } else { [1] } }",
    )
    .unwrap();
    let e = batch(&bad, &states).unwrap_err();
    assert_eq!((e.index, &e.error.kind), (5, &RuleErrorKind::BadReturn));
    assert!(
        e.error.message.contains("1 results for a batch of 4"),
        "{}",
        e.error
    );
    let e = batch(
        &ScriptGrowthRule::load(host(), "s.rhai", "fn on_period(s) { \"x\" }").unwrap(),
        &states,
    )
    .unwrap_err();
    assert_eq!((e.index, &e.error.kind), (0, &RuleErrorKind::BadReturn));
}

#[test]
fn script_batch_limits_apply_per_month() {
    // About 1,500 operations a month: 36 months need far more than the 10,000 allowed
    // per call, yet every month alone fits, so the batch gives every month's answer.
    let limits = kam_script::Limits {
        max_operations: 10_000,
        ..kam_script::Limits::default()
    };
    let small = Arc::new(ScriptHost::new(limits));
    let busy =
        "fn on_period(state) { let x = 0; for i in 0..300 { x += i; } [1, 1, 1, state.month + x - x] }";
    let rule = ScriptGrowthRule::load(Arc::clone(&small), "busy.rhai", busy).unwrap();
    let states = path_states(36, &[1000]);
    assert_eq!(batch(&rule, &states).unwrap(), one_by_one(&rule, &states));

    // A month that needs more than the budget alone fails, named, with the limit's kind.
    let hostile = "fn on_period(state) { if state.month == 20 { loop {} } [1, 1, 1, 1] }";
    let rule = ScriptGrowthRule::load(Arc::clone(&small), "hostile.rhai", hostile).unwrap();
    let e = batch(&rule, &states).unwrap_err();
    assert_eq!((e.index, &e.error.kind), (20, &RuleErrorKind::OperationLimit));
    let e = batch(&rule, &states[20..]).unwrap_err();
    assert_eq!((e.index, &e.error.kind), (0, &RuleErrorKind::OperationLimit));
    // With the default host too (20 million operations).
    let rule = ScriptGrowthRule::load(host(), "hostile.rhai", hostile).unwrap();
    let e = batch(&rule, &states).unwrap_err();
    assert_eq!((e.index, &e.error.kind), (20, &RuleErrorKind::OperationLimit));
}

#[test]
fn script_defining_the_helper_name_still_works() {
    let src = "fn __kam_on_periods(x) { x }\nfn on_period(state) { [__kam_on_periods(1), 1, 1, state.year] }";
    let rule = ScriptGrowthRule::load(host(), "clash.rhai", src).unwrap();
    let states = path_states(30, &[990, 1010]);
    assert_eq!(batch(&rule, &states).unwrap(), one_by_one(&rule, &states));
}

#[test]
fn script_exit_ends_only_its_own_month() {
    // `exit(value)` makes `value` the call's result: in a batch, that month's result.
    let src = "fn on_period(s) { if s.month % 5 == 3 { exit([2, 2, 2, s.month]); } [1, 1, 1, s.month] }";
    let rule = ScriptGrowthRule::load(host(), "exit.rhai", src).unwrap();
    let states = path_states(24, &[1000]);
    let got = batch(&rule, &states).unwrap();
    assert_eq!(got, one_by_one(&rule, &states));
    assert_eq!(got[8], [dec!(2), dec!(2), dec!(2), dec!(8)]);
}

// ---------------------------------------------------------------- memoized months

/// Rules that read the state in different ways; memoized, each must give exactly what it
/// gives with every month run.
const MEMO_RULES: &[(&str, &str)] = &[
    (
        "recovery.rhai",
        r#"fn on_period(state) {
            let out = [];
            for line in state.service_lines {
                out.push(if state.year >= 2 && state.volume_index < 1 && line.service_line == "warehousing" { 1.03 } else { 1 });
            }
            out
        }"#,
    ),
    ("every_field.rhai", EVERY_FIELD),
    ("oem.rhai", OEM_GROWTH),
    (
        "scale.rhai",
        r#"fn on_period(state) { let t = `${state.volume_index}`; [if t == "1.000" { 2 } else { 1 }, 1, 1, 1] }"#,
    ),
    (
        "reversed.rhai",
        "fn on_period(state) { let f = if 1 > state.volume_index && state.month != 3 { 1.1 } else { 1 }; [f, f, 1, 1] }",
    ),
    (
        "helper.rhai",
        "fn up(s) { s.volume_index * 2 }\nfn on_period(state) { if state.volume_index < 1 { [up(state), 1, 1, 1] } else { [1, 1, 1, 1] } }",
    ),
    (
        "revenue.rhai",
        "fn on_period(state) { state.service_lines.map(|l| if l.revenue > 10050 { 1.01 } else { 1 }) }",
    ),
    (
        "closure.rhai",
        "fn on_period(state) { let f = |x| state.volume_index * x; if state.volume_index < 1 { [f.call(2), 1, 1, 1] } else { [1, 1, 1, 1] } }",
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn memoized_months_equal_months_run(
        paths in proptest::collection::vec(proptest::collection::vec(990i64..1010, 1..6), 1..6),
        months in 1u32..40,
    ) {
        for (name, src) in MEMO_RULES {
            let memoized = ScriptGrowthRule::load(host(), name, src).unwrap();
            let plain = ScriptGrowthRule::load(host(), name, src).unwrap().with_memo(false);
            for vols in &paths {
                let states = path_states(months, vols);
                prop_assert_eq!(batch(&memoized, &states).unwrap(), batch(&plain, &states).unwrap(), "{}", name);
            }
        }
    }
}

#[test]
fn memo_runs_a_rule_once_per_distinct_input() {
    // The OEM rule reads the year and the line names; the recovery rule compares the
    // index with 1 from year 2. A path's months are looked up before any of them runs, so
    // the first path runs all 36; every month of the nine others is reused.
    let oem = ScriptGrowthRule::load(host(), "oem.rhai", OEM_GROWTH).unwrap();
    let recovery = ScriptGrowthRule::load(host(), MEMO_RULES[0].0, MEMO_RULES[0].1).unwrap();
    for seed in 0..10 {
        let states = path_states(36, &[990 + seed, 1000, 1010 - seed]);
        batch(&oem, &states).unwrap();
        batch(&recovery, &states).unwrap();
    }
    let nine_reused = kam_script::rules::MemoStats {
        reused: 9 * 36,
        run: 36,
    };
    assert_eq!(oem.memo_stats(), nine_reused);
    assert_eq!(recovery.memo_stats(), nine_reused);
    // Months one at a time: one run per distinct input. OEM: the three years (it computes
    // with the year). Recovery only compares the year with 2 and the index with 1: year 1,
    // then a later year with the index below 1 or not (1.000 is not below).
    let oem = ScriptGrowthRule::load(host(), "oem.rhai", OEM_GROWTH).unwrap();
    let recovery = ScriptGrowthRule::load(host(), MEMO_RULES[0].0, MEMO_RULES[0].1).unwrap();
    for state in path_states(36, &[990, 1000, 1010, 995]) {
        batch(&oem, std::slice::from_ref(&state)).unwrap();
        batch(&recovery, std::slice::from_ref(&state)).unwrap();
    }
    assert_eq!(
        oem.memo_stats(),
        kam_script::rules::MemoStats { reused: 33, run: 3 }
    );
    assert_eq!(
        recovery.memo_stats(),
        kam_script::rules::MemoStats { reused: 33, run: 3 }
    );

    // A rule of the exact revenue gains nothing, and stays correct.
    let revenue = ScriptGrowthRule::load(
        host(),
        "r.rhai",
        "fn on_period(s) { s.service_lines.map(|l| l.revenue / 10000) }",
    )
    .unwrap();
    let states = path_states(36, &[1000]);
    assert_eq!(batch(&revenue, &states).unwrap(), one_by_one(&revenue, &states));
    assert_eq!(revenue.memo_stats().reused, 0);

    let off = ScriptGrowthRule::load(host(), "oem.rhai", OEM_GROWTH)
        .unwrap()
        .with_memo(false);
    batch(&off, &states).unwrap();
    assert_eq!(off.memo_stats(), kam_script::rules::MemoStats::default());
}

#[test]
fn months_that_write_output_are_never_reused() {
    // A stored month would not write its line again, so months that write are not stored.
    let rule = ScriptGrowthRule::load(
        host(),
        "noisy.rhai",
        "fn on_period(s) { debug(s.year); [1, 1, 1, 1] }",
    )
    .unwrap();
    let states = path_states(2, &[1000]);
    batch(&rule, &states).unwrap();
    batch(&rule, &states).unwrap();
    assert_eq!(
        rule.memo_stats(),
        kam_script::rules::MemoStats { reused: 0, run: 4 }
    );
}

#[test]
fn script_growth_factors_must_be_between_0_and_1000() {
    let states = path_states(24, &[1000]);
    for (src, want) in [
        (
            "fn on_period(s) { if s.month == 7 { [1, 1, 1, 1000000000000000000] } else { [1, 1, 1, 1] } }",
            "factor 1000000000000000000 is more than 1000",
        ),
        (
            "fn on_period(s) { if s.month == 7 { [1, -1, 1, 1] } else { [1, 1, 1, 1] } }",
            "factor -1 is negative",
        ),
    ] {
        let rule = ScriptGrowthRule::load(host(), "wild.rhai", src).unwrap();
        let e = batch(&rule, &states).unwrap_err();
        assert_eq!((e.index, &e.error.kind), (7, &RuleErrorKind::BadReturn), "{e}");
        assert_eq!(e.error.rule, "wild.rhai");
        assert!(
            e.error.message.contains("month 7, service line ") && e.error.message.contains(want),
            "{e}"
        );
    }
    // The bounds themselves are allowed.
    let edge = "fn on_period(s) { [0, 1000, 1, 1] }";
    let rule = ScriptGrowthRule::load(host(), "edge.rhai", edge).unwrap();
    assert!(batch(&rule, &states).is_ok());
}
