//! kam-sim end to end: vectors, determinism across threads and shards, typed errors,
//! growth rules and sensitivity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use kam_core::growth::Pipeline;
use kam_core::rules::{
    FnGrowthRule, GrowthRule, GrowthState, PeriodError, PeriodFactors, RuleError, RuleErrorKind, RuleHost,
};
use kam_sim::scenario::{Scenario, ScenarioError, parse_scenario};
use kam_sim::{ModelError, RunOptions, Shard, SimError, Summary, run, simulate_pipeline, tornado};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const BENCH: &str = include_str!("../../../scenarios/bench-36m.toml");

fn bench() -> Scenario {
    parse_scenario(BENCH, "scenarios/bench-36m.toml").unwrap()
}

const SMALL: &str = r#"
name = "small"
horizon_months = 24
service_lines = ["warehousing", "transport"]
regions = ["emea", "apac"]

[volume_index]
volatility = "0.03"
shocks = [{ month = 6, change = "-0.08" }]

[[base_book]]
service_line = "warehousing"
site = "Leipzig"
region = "emea"
monthly_revenue = "400000"
monthly_loss_hazard = "0.004"
annual_escalation = "0.03"
volume_exposure = "0.8"
margin_pct = "11"

[[base_book]]
service_line = "transport"
site = "Pune"
region = "apac"
monthly_revenue = "150000"
monthly_loss_hazard = "0.01"
margin_pct = "6"

[[opportunity]]
name = "Leipzig inbound"
service_line = "warehousing"
region = "emea"
win_probability = "0.6"
value = { kind = "pert", min = "900000", mode = "1200000", max = "1600000" }
start_month = 3
slippage = { kind = "uniform", min = 0, max = 3 }
ramp_up_months = 4
margin_pct = "9"

[[opportunity]]
name = "Pune aftermarket"
service_line = "transport"
region = "apac"
win_probability = "0.3"
value = { kind = "lognormal", mean = "800000", sd = "200000" }
start_month = 6
margin_pct = "7"

[[opportunity]]
name = "Tilburg returns"
service_line = "warehousing"
region = "emea"
win_probability = "0.8"
value = { kind = "triangular", min = "400000", mode = "500000", max = "650000" }
start_month = 0
slippage = { kind = "discrete", months = [0, 3], probabilities = ["0.7", "0.3"] }

[[correlation_group]]
name = "platform"
deals = ["Leipzig inbound", "Tilburg returns"]

[[target]]
year = 1
revenue = "6500000"

[[target]]
year = 2
revenue = "7500000"
"#;

fn small() -> Scenario {
    parse_scenario(SMALL, "small.toml").unwrap()
}

// ---------------------------------------------------------------- vectors

#[test]
fn pipeline_vector_exact_and_monte_carlo() {
    // Source: shared/vectors/growth.toml [pipeline]
    let mut p = Pipeline::new();
    p.deal("a", dec!(1200000), dec!(0.6)).unwrap();
    p.deal("b", dec!(800000), dec!(0.3)).unwrap();
    p.deal("c", dec!(500000), dec!(0.8)).unwrap();
    let exact = p.exact().unwrap();
    assert_eq!(exact.mean().unwrap(), dec!(1360000));
    assert_eq!(exact.prob_at_least(dec!(1500000)).unwrap(), dec!(0.516));

    let n = 100_000u64;
    let mc = simulate_pipeline(&p, n, 42).unwrap();
    assert_eq!(mc.len(), 100_000);
    // sd of the total = sqrt(Σ v² p (1 − p)) ≈ 721,110; 4 standard errors ≈ 9,121.
    let diff = (mc.mean().unwrap() - dec!(1360000)).abs();
    assert!(diff < dec!(9121), "Monte Carlo mean off by {diff}");
    // P(≥ 1.5M): 4 standard errors of a proportion near 0.5 at n = 100,000 ≈ 0.0063.
    let pd = (mc.prob_at_least(dec!(1500000)).unwrap() - dec!(0.516)).abs();
    assert!(pd < dec!(0.0063), "Monte Carlo probability off by {pd}");
    // The support is the same 8 totals, so central quantiles agree with the exact ones
    // wherever F does not jump within sampling error of q.
    assert_eq!(
        mc.quantile(dec!(0.5)).unwrap(),
        exact.quantile(dec!(0.5)).unwrap()
    );
    assert_eq!(
        mc.quantile(dec!(0.9)).unwrap(),
        exact.quantile(dec!(0.9)).unwrap()
    );
    assert_eq!(mc.quantile(dec!(0)).unwrap(), dec!(0));
    assert!(matches!(
        mc.quantile(dec!(1.5)),
        Err(SimError::Model(ModelError::Probability { .. }))
    ));
    // Same seed, same draws.
    assert_eq!(
        simulate_pipeline(&p, 1000, 7).unwrap(),
        simulate_pipeline(&p, 1000, 7).unwrap()
    );
}

#[test]
fn scenario_pipeline_exact_beside_monte_carlo() {
    // Source: shared/vectors/growth.toml [pipeline], as a scenario with fixed values.
    let toml = r#"
name = "vector"
horizon_months = 12
service_lines = ["w"]
regions = ["emea"]
[[opportunity]]
name = "a"
service_line = "w"
region = "emea"
win_probability = "0.6"
value = { kind = "fixed", value = "1200000" }
start_month = 0
[[opportunity]]
name = "b"
service_line = "w"
region = "emea"
win_probability = "0.3"
value = { kind = "fixed", value = "800000" }
start_month = 0
[[opportunity]]
name = "c"
service_line = "w"
region = "emea"
win_probability = "0.8"
value = { kind = "fixed", value = "500000" }
start_month = 0
"#;
    let s = parse_scenario(toml, "vector.toml").unwrap();
    let r = run(&s, &RunOptions::new(40_000, 3)).unwrap().results().unwrap();
    let exact = r.pipeline.exact.clone().unwrap();
    assert_eq!(exact.mean, dec!(1360000));
    assert_eq!(exact.p50, dec!(1700000));
    assert_eq!(exact.outcomes, 8);
    assert_eq!(r.pipeline.weighted_annual_value, dec!(1360000));
    let diff = (r.pipeline.won_annual_value.mean - exact.mean).abs();
    assert!(diff < dec!(14500), "MC mean off by {diff}"); // 4 standard errors at 40,000 paths
    assert_eq!(r.pipeline.won_annual_value.p50, exact.p50);
    // No ramp, no slippage, start 0: year-1 revenue is exactly the won annual value.
    assert_eq!(r.years[0].revenue.mean, r.pipeline.won_annual_value.mean);
}

#[test]
fn scenario_exact_pipeline_mean_is_exact() {
    // 15 deals at p = 0.37, values 1000 + 37i: mean 0.37 × 18,885 = 6,987.45 exactly (the
    // sum over outcomes with rounded probabilities gave 6987.4500000000000000000000009).
    let mut toml = String::from(
        "name = \"fifteen\"\nhorizon_months = 12\nservice_lines = [\"w\"]\nregions = [\"emea\"]\n",
    );
    for i in 0..15 {
        toml.push_str(&format!(
            "[[opportunity]]\nname = \"d{i}\"\nservice_line = \"w\"\nregion = \"emea\"\n\
             win_probability = \"0.37\"\nvalue = {{ kind = \"fixed\", value = \"{}\" }}\nstart_month = 0\n",
            1000 + 37 * i
        ));
    }
    let s = parse_scenario(&toml, "fifteen.toml").unwrap();
    let r = run(&s, &RunOptions::new(100, 1)).unwrap().results().unwrap();
    let exact = r.pipeline.exact.clone().unwrap();
    assert_eq!(exact.mean.to_string(), "6987.45");
    assert_eq!(r.pipeline.weighted_annual_value, exact.mean);
}

#[test]
fn base_book_vector_and_roll_forward_in_the_simulation() {
    // Source: shared/vectors/growth.toml [base_book]
    assert_eq!(
        kam_core::growth::roll_forward(dec!(10000000), dec!(0.05), dec!(0.03)).unwrap(),
        dec!(9785000.00)
    );
    // No attrition, no volatility: year 2 bills exactly 12 × monthly × 1.03.
    let toml = r#"
name = "book"
horizon_months = 24
service_lines = ["w"]
regions = ["emea"]
[[base_book]]
service_line = "w"
site = "Leipzig"
region = "emea"
monthly_revenue = "1000000"
annual_escalation = "0.03"
margin_pct = "10"
"#;
    let s = parse_scenario(toml, "book.toml").unwrap();
    let r = run(&s, &RunOptions::new(100, 1)).unwrap().results().unwrap();
    assert_eq!(r.years[0].revenue.p50, dec!(12000000));
    assert_eq!(r.years[1].revenue.mean, dec!(12360000));
    assert_eq!(r.years[1].revenue.p10, dec!(12360000));
    assert_eq!(r.years[1].margin.p90, dec!(1236000));

    // With a monthly hazard h the expected year-2 revenue is Σ_{t=12}^{23} m·1.03·(1−h)^t.
    let mut s = s;
    s.base_book[0].monthly_loss_hazard = dec!(0.01);
    let r = run(&s, &RunOptions::new(20_000, 5)).unwrap().results().unwrap();
    let expected: f64 = (12..24).map(|t| 1_000_000.0 * 1.03 * 0.99f64.powi(t)).sum();
    let mean: f64 = r.years[1].revenue.mean.to_string().parse().unwrap();
    // Revenue is 12.36M × a survival indicator mix; sd ≲ 5.4M, so 4 se at 20k ≈ 153k.
    assert!((mean - expected).abs() < 153_000.0, "mean {mean} vs {expected}");
}

// ---------------------------------------------------------------- determinism

#[test]
fn json_is_byte_identical_for_one_and_two_threads() {
    let s = bench();
    let one = run(&s, &RunOptions::new(3000, 42).threads(1)).unwrap();
    let two = run(&s, &RunOptions::new(3000, 42).threads(2)).unwrap();
    assert_eq!(one, two);
    let (j1, j2) = (one.to_json().unwrap(), two.to_json().unwrap());
    assert_eq!(j1, j2);
    assert!(j1.starts_with("{\n  \"scenario\": \"bench-36m\""));
    // With a growth rule through the trait object too.
    let rule = Arc::new(FnGrowthRule::new("cut", |st: &GrowthState| {
        Ok(vec![
            if st.volume_index < Decimal::ONE {
                dec!(0.97)
            } else {
                Decimal::ONE
            };
            st.service_lines.len()
        ])
    }));
    let r1 = run(&s, &RunOptions::new(1000, 42).threads(1).rule(rule.clone())).unwrap();
    let r2 = run(&s, &RunOptions::new(1000, 42).threads(2).rule(rule)).unwrap();
    assert_eq!(r1.to_json().unwrap(), r2.to_json().unwrap());
    // A different seed gives different results.
    let other = run(&s, &RunOptions::new(3000, 43).threads(2)).unwrap();
    assert_ne!(other.to_json().unwrap(), j1);
}

#[test]
fn shards_merge_to_the_single_run() {
    let s = small();
    let whole = run(&s, &RunOptions::new(5000, 9)).unwrap();
    let mut parts: Vec<Summary> = (1..=3)
        .map(|i| {
            run(
                &s,
                &RunOptions::new(5000, 9)
                    .threads(1)
                    .shard(Shard::new(i, 3).unwrap()),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(parts.iter().map(Summary::paths).sum::<u64>(), 5000);
    parts.reverse(); // order does not matter
    // Through the shard file format, as `kam simulate merge` does.
    let files: Vec<String> = parts.iter().map(|p| p.to_shard_json().unwrap()).collect();
    let read: Vec<Summary> = files
        .iter()
        .map(|f| Summary::from_shard_json(f).unwrap())
        .collect();
    let merged = Summary::merge(read).unwrap();
    assert_eq!(merged, whole);
    assert_eq!(merged.to_json().unwrap(), whole.to_json().unwrap());

    // A gap or a foreign shard is refused.
    let a = run(&s, &RunOptions::new(5000, 9).shard("1/3".parse().unwrap())).unwrap();
    let c = run(&s, &RunOptions::new(5000, 9).shard("3/3".parse().unwrap())).unwrap();
    assert!(matches!(
        Summary::merge(vec![a.clone(), c]),
        Err(SimError::Merge(_))
    ));
    let foreign = run(&s, &RunOptions::new(5000, 10).shard("2/3".parse().unwrap())).unwrap();
    assert!(matches!(
        Summary::merge(vec![a, foreign]),
        Err(SimError::Merge(_))
    ));
    assert!(matches!("4/3".parse::<Shard>(), Err(SimError::Options(_))));
    assert!(matches!("x".parse::<Shard>(), Err(SimError::Options(_))));
}

// ---------------------------------------------------------------- results

#[test]
fn results_are_consistent() {
    let s = small();
    let r = run(&s, &RunOptions::new(4000, 11)).unwrap().results().unwrap();
    assert_eq!(r.years.len(), 2);
    assert_eq!(r.fan_chart.len(), 24);
    for b in &r.fan_chart {
        assert!(b.p10 <= b.p50 && b.p50 <= b.p90, "month {}", b.month);
    }
    for y in &r.years {
        assert!(y.revenue.p10 <= y.revenue.p50 && y.revenue.p50 <= y.revenue.p90);
        let p = y.prob_reach_target.unwrap();
        assert!(p > Decimal::ZERO && p < Decimal::ONE, "year {} P = {p}", y.year);
    }
    // The volume cut from month 6 shows against the same scenario without it (same
    // seed, so the same draws).
    let mut no_cut = s.clone();
    no_cut.volume_index.shocks.clear();
    let r2 = run(&no_cut, &RunOptions::new(4000, 11))
        .unwrap()
        .results()
        .unwrap();
    assert_eq!(r2.fan_chart[5], r.fan_chart[5]);
    assert!(r.fan_chart[7].p50 < r2.fan_chart[7].p50);
    let share: Decimal = r.by_service_line.iter().map(|c| c.revenue_share).sum();
    assert!((share - Decimal::ONE).abs() < dec!(0.00001), "{share}");
    let region_rev: Decimal = r.by_region.iter().map(|c| c.revenue[0]).sum();
    assert!(
        (region_rev - r.years[0].revenue.mean).abs() < dec!(1),
        "{region_rev}"
    );
    // The grouped deals win together with a shared draw: P(both) = min(p) = 0.6,
    // and the exact pipeline reflects it.
    let exact = r.pipeline.exact.clone().unwrap();
    assert_eq!(exact.mean, r.pipeline.weighted_annual_value);
    let text = r.to_string();
    assert!(
        text.contains("P(reach)") && text.contains("warehousing"),
        "{text}"
    );
    let back: kam_sim::SimResults = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn scenario_round_trips_json_and_toml() {
    let s = small();
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), s);
    let toml_s = toml::to_string(&s).unwrap();
    assert_eq!(parse_scenario(&toml_s, "rt.toml").unwrap(), s);
}

// ---------------------------------------------------------------- rules

#[test]
fn growth_rule_scales_service_lines() {
    let s = small();
    let plain = run(&s, &RunOptions::new(2000, 5)).unwrap().results().unwrap();
    // +10 % on warehousing from year 2, through the trait object.
    let rule = FnGrowthRule::new("warehousing uplift", |st: &GrowthState| {
        Ok(st
            .service_lines
            .iter()
            .map(|l| {
                if st.year >= 2 && l.service_line == "warehousing" {
                    dec!(1.1)
                } else {
                    Decimal::ONE
                }
            })
            .collect())
    });
    let opts = RunOptions::new(2000, 5).rule(Arc::new(rule));
    let ruled = run(&s, &opts).unwrap().results().unwrap();
    assert_eq!(ruled.rule.as_deref(), Some("warehousing uplift"));
    assert_eq!(ruled.years[0], plain.years[0]);
    let w = |r: &kam_sim::SimResults| r.by_service_line[0].revenue[1];
    let ratio = w(&ruled) / w(&plain);
    assert!((ratio - dec!(1.1)).abs() < dec!(0.000001), "{ratio}");
    assert_eq!(ruled.by_service_line[1].revenue, plain.by_service_line[1].revenue);

    // A rule that fails or returns the wrong shape is an error naming path and month.
    let bad = FnGrowthRule::new("short", |_: &GrowthState| Ok(vec![Decimal::ONE]));
    let e = run(&s, &RunOptions::new(10, 5).rule(Arc::new(bad))).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::RuleShape {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
    let failing = FnGrowthRule::new("fails", |st: &GrowthState| {
        if st.month == 13 {
            Err(RuleError::new(
                "fails",
                kam_core::rules::RuleHost::Native,
                kam_core::rules::RuleErrorKind::Failed,
                "no",
            ))
        } else {
            Ok(vec![Decimal::ONE; st.service_lines.len()])
        }
    });
    let e = run(&s, &RunOptions::new(10, 5).threads(1).rule(Arc::new(failing))).unwrap_err();
    assert!(matches!(e, SimError::Rule { month: 13, .. }), "{e}");
}

/// A rule written with its own batch method (the engine calls `on_periods` once per path):
/// zero factors in the months of the `zero_months` bit set, `periods` says for how many
/// months it returns factors (to prove the engine checks the shape), `fail_at` a month
/// it refuses.
struct Batched {
    zero_months: u64,
    periods: fn(usize) -> usize,
    fail_at: Option<u32>,
}

impl GrowthRule for Batched {
    fn name(&self) -> &str {
        "batched"
    }
    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        if Some(state.month) == self.fail_at {
            return Err(RuleError::new(
                "batched",
                RuleHost::Native,
                RuleErrorKind::Failed,
                "refused",
            ));
        }
        let zero = self.zero_months >> state.month & 1 == 1;
        Ok(vec![
            if zero { Decimal::ZERO } else { Decimal::ONE };
            state.service_lines.len()
        ])
    }
    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        let n = (self.periods)(states.len());
        for (index, state) in states.iter().cycle().take(n).enumerate() {
            let f = self
                .on_period(state)
                .map_err(|error| PeriodError { index, error })?;
            out.push(&f);
        }
        Ok(())
    }
}

fn batched(zero_months: u64) -> Batched {
    Batched {
        zero_months,
        periods: |n| n,
        fail_at: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Month t's factors scale month t only: zeroing a random set of months empties
    /// exactly those months of the fan chart and leaves every other month as without a
    /// rule, whether the rule batches itself or goes month by month.
    #[test]
    fn factors_apply_to_their_own_month(zero_months in 0u64..(1 << 24)) {
        let s = small();
        let plain = run(&s, &RunOptions::new(200, 9)).unwrap().results().unwrap();
        let per_month = FnGrowthRule::new("zero", move |st: &GrowthState| {
            let zero = zero_months >> st.month & 1 == 1;
            Ok(vec![if zero { Decimal::ZERO } else { Decimal::ONE }; st.service_lines.len()])
        });
        let by_month = run(&s, &RunOptions::new(200, 9).rule(Arc::new(per_month))).unwrap().results().unwrap();
        let by_batch = run(&s, &RunOptions::new(200, 9).rule(Arc::new(batched(zero_months))))
            .unwrap()
            .results()
            .unwrap();
        prop_assert_eq!(&by_batch.fan_chart, &by_month.fan_chart);
        for (band, base) in by_month.fan_chart.iter().zip(&plain.fan_chart) {
            if zero_months >> band.month & 1 == 1 {
                prop_assert_eq!(band.p90, Decimal::ZERO, "month {}", band.month);
            } else {
                prop_assert_eq!(band, base);
            }
        }
    }
}

#[test]
fn batch_errors_name_the_month() {
    let s = small();
    let failing = Batched {
        fail_at: Some(17),
        ..batched(0)
    };
    let e = run(&s, &RunOptions::new(10, 5).threads(1).rule(Arc::new(failing))).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::Rule {
                path: 0,
                month: 17,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("month 17"), "{e}");

    // Factors for too few months: the first month without any is named.
    let short = Batched {
        periods: |n| n - 4,
        ..batched(0)
    };
    let e = run(&s, &RunOptions::new(10, 5).threads(1).rule(Arc::new(short))).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::RuleShape {
                month: 20,
                got: 0,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
    // Too many: the batch as a whole is refused.
    let long = Batched {
        periods: |n| n + 1,
        ..batched(0)
    };
    let e = run(&s, &RunOptions::new(10, 5).threads(1).rule(Arc::new(long))).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::RuleBatch {
                got: 25,
                expected: 24,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn tornado_ranks_inputs() {
    let t = tornado(&small(), &RunOptions::new(1500, 3)).unwrap();
    assert_eq!(t.bars.len(), 8);
    assert!(t.bars.windows(2).all(|w| w[0].swing >= w[1].swing));
    let bar = |name: &str| t.bars.iter().find(|b| b.input == name).unwrap();
    assert!(bar("win probability").p50_high > bar("win probability").p50_low);
    assert!(bar("base-book loss hazard").p50_high < bar("base-book loss hazard").p50_low);
    assert!(bar("deal values").p50_high > bar("deal values").p50_low);
    assert!(t.to_string().contains("win probability"));
}

#[test]
fn tornado_progress_counts_every_run() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let seen = Arc::new(AtomicU64::new(0));
    let s2 = seen.clone();
    let opts = RunOptions::new(400, 3).progress(Arc::new(move |done, total| {
        assert_eq!(total, 400 * kam_sim::TORNADO_RUNS);
        assert!(done <= total);
        s2.fetch_max(done, Ordering::Relaxed);
    }));
    let with_progress = tornado(&small(), &opts).unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 400 * kam_sim::TORNADO_RUNS);
    assert_eq!(
        with_progress,
        tornado(&small(), &RunOptions::new(400, 3)).unwrap()
    );
}

#[test]
fn progress_reports_every_path() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let seen = Arc::new(AtomicU64::new(0));
    let s2 = seen.clone();
    let opts = RunOptions::new(3000, 1).progress(Arc::new(move |done, total| {
        assert_eq!(total, 3000);
        s2.fetch_max(done, Ordering::Relaxed);
    }));
    run(&small(), &opts).unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 3000);
}

// ---------------------------------------------------------------- typed errors

fn invalid(text: &str) -> (usize, ModelError) {
    match parse_scenario(text, "bad.toml").unwrap_err() {
        ScenarioError::Invalid {
            file, line, source, ..
        } => {
            assert_eq!(file, "bad.toml");
            (line, source)
        }
        other => panic!("expected a validation error, got {other}"),
    }
}

#[test]
fn bad_input_gets_typed_errors_with_file_line_and_field() {
    let (line, e) = invalid(&SMALL.replace("win_probability = \"0.3\"", "win_probability = \"1.3\""));
    assert!(
        matches!(&e, ModelError::Probability { field, value } if field == "opportunity[1].win_probability" && *value == dec!(1.3))
    );
    assert_eq!(
        SMALL.lines().nth(line - 1).unwrap().trim(),
        "win_probability = \"1.3\"".replace("1.3", "0.3")
    );

    let (line, e) = invalid(&SMALL.replace(
        "min = \"900000\", mode = \"1200000\"",
        "min = \"1300000\", mode = \"1200000\"",
    ));
    assert!(
        matches!(&e, ModelError::DistributionOrder { field, .. } if field == "opportunity[0].value"),
        "{e}"
    );
    assert!(
        SMALL
            .lines()
            .nth(line - 1)
            .unwrap()
            .starts_with("value = { kind = \"pert\"")
    );

    let (line, e) = invalid(&SMALL.replace("monthly_revenue = \"150000\"", "monthly_revenue = \"-150000\""));
    assert!(
        matches!(&e, ModelError::Negative { field, .. } if field == "base_book[1].monthly_revenue"),
        "{e}"
    );
    assert!(
        SMALL
            .lines()
            .nth(line - 1)
            .unwrap()
            .starts_with("monthly_revenue = \"150000\"")
    );

    let (line, e) = invalid(&SMALL.replace("horizon_months = 24", "horizon_months = 0"));
    assert_eq!(e, ModelError::ZeroHorizon);
    assert_eq!(line, 3);

    let (_, e) = invalid(&SMALL.replace(
        "service_line = \"transport\"\nsite",
        "service_line = \"cross-dock\"\nsite",
    ));
    assert!(
        matches!(&e, ModelError::UnknownServiceLine { field, name } if field == "base_book[1].service_line" && name == "cross-dock"),
        "{e}"
    );

    let (line, e) = invalid(&SMALL.replace(
        "deals = [\"Leipzig inbound\", \"Tilburg returns\"]",
        "deals = [\"Leipzig inbound\", \"Tilburg outbound\"]",
    ));
    assert!(
        matches!(&e, ModelError::UnknownDeal { deal, group, .. } if deal == "Tilburg outbound" && group == "platform"),
        "{e}"
    );
    assert!(SMALL.lines().nth(line - 1).unwrap().starts_with("deals = "));

    // The message names file, line, column and field.
    let err = parse_scenario(
        &SMALL.replace("horizon_months = 24", "horizon_months = 0"),
        "bad.toml",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad.toml:3:1: horizon_months: the horizon must be at least one month"
    );

    // Programmatic scenarios are checked too.
    let mut s = small();
    s.opportunities[2].value = kam_sim::dist::ValueDistribution::Triangular {
        min: dec!(3),
        mode: dec!(2),
        max: dec!(1),
    };
    assert!(matches!(
        run(&s, &RunOptions::new(10, 1)),
        Err(SimError::Model(ModelError::DistributionOrder { .. }))
    ));
    assert!(matches!(
        run(&small(), &RunOptions::new(0, 1)),
        Err(SimError::Options(_))
    ));
}

#[test]
fn toml_type_errors_name_line_column_and_field() {
    let text = SMALL.replace("start_month = 6", "start_month = \"june\"");
    let err = parse_scenario(&text, "bad.toml").unwrap_err();
    match &err {
        ScenarioError::Parse {
            file, line, field, ..
        } => {
            assert_eq!(file, "bad.toml");
            assert_eq!(text.lines().nth(line - 1).unwrap(), "start_month = \"june\"");
            assert_eq!(field.as_deref(), Some("opportunity[1].start_month"));
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with("bad.toml:"), "{err}");
    let err = parse_scenario(
        &SMALL.replace("margin_pct = \"6\"", "margn_pct = \"6\""),
        "bad.toml",
    )
    .unwrap_err();
    assert!(matches!(err, ScenarioError::Parse { .. }), "{err}");
    assert!(err.to_string().contains("margn_pct"), "{err}");
}

#[test]
fn bench_scenario_has_the_promised_size() {
    let s = bench();
    assert_eq!(s.opportunities.len(), 200);
    assert_eq!(s.base_book.len(), 50);
    assert_eq!(s.horizon_months, 36);
}

// ---------------------------------------------------------------- delivery projects

/// `SMALL` with "Leipzig inbound" linked to a project (durations in weeks) that starts
/// in month 0: design, then a WMS upgrade shared with a second project for "Tilburg
/// returns", then go-live.
fn linked() -> String {
    format!(
        "{SMALL}\n{}",
        r#"
[[project]]
name = "leipzig"
deal = "Leipzig inbound"
start_month = "0"
go_live = "go-live"
shared = ["wms"]
tasks = [
  { id = "design", optimistic = "2", most_likely = "4", pessimistic = "8" },
  { id = "wms", optimistic = "4", most_likely = "6", pessimistic = "20", after = ["design"] },
  { id = "go-live", optimistic = "0", most_likely = "0", pessimistic = "0", after = ["wms"], milestone = true },
]

[[project]]
name = "tilburg"
deal = "Tilburg returns"
start_month = "1"
go_live = "live"
shared = ["wms"]
tasks = [
  { id = "wms", optimistic = "4", most_likely = "6", pessimistic = "20" },
  { id = "live", optimistic = "0", most_likely = "0", pessimistic = "0", after = ["wms"], milestone = true },
]
"#
    )
}

#[test]
fn linked_projects_are_deterministic_for_any_thread_count_and_shard() {
    let s = parse_scenario(&linked(), "linked.toml").unwrap();
    let one = run(&s, &RunOptions::new(3_000, 11).threads(1)).unwrap();
    let two = run(&s, &RunOptions::new(3_000, 11).threads(2)).unwrap();
    assert_eq!(one, two);
    let parts = (1..=3)
        .map(|i| run(&s, &RunOptions::new(3_000, 11).shard(Shard::new(i, 3).unwrap())).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(Summary::merge(parts).unwrap(), one);
    // The go-lives replace the free slippage: the result differs from the unlinked run.
    assert_ne!(
        one,
        run(&small(), &RunOptions::new(3_000, 11).threads(1)).unwrap()
    );
}

#[test]
fn a_project_of_a_deal_that_never_wins_shifts_no_other_draw() {
    // Delivery draws come from their own stream: linking a project to a deal that never
    // wins leaves every path exactly as without the project.
    let never = SMALL.replace("win_probability = \"0.3\"", "win_probability = \"0\"");
    let mut text = never.clone();
    text.push_str(
        r#"
[[project]]
name = "pune"
deal = "Pune aftermarket"
go_live = "live"
tasks = [{ id = "live", optimistic = "1", most_likely = "2", pessimistic = "30" }]
"#,
    );
    let with = parse_scenario(&text, "x.toml").unwrap();
    let without = parse_scenario(&never, "x.toml").unwrap();
    let a = run(&with, &RunOptions::new(2_000, 5)).unwrap().results().unwrap();
    let b = run(&without, &RunOptions::new(2_000, 5))
        .unwrap()
        .results()
        .unwrap();
    assert_eq!(a.years, b.years);
    assert_eq!(a.fan_chart, b.fan_chart);
}

#[test]
fn longer_pessimistic_durations_lower_the_year_one_p50_and_the_tornado_shows_delivery_risk() {
    let s = parse_scenario(&linked(), "linked.toml").unwrap();
    let p50 = |s: &Scenario| {
        run(s, &RunOptions::new(4_000, 3))
            .unwrap()
            .results()
            .unwrap()
            .years[0]
            .revenue
            .p50
    };
    let mut late = s.clone();
    kam_sim::stretch_pessimistic(&mut late, dec!(3)).unwrap();
    assert!(p50(&late) < p50(&s), "{} !< {}", p50(&late), p50(&s));

    let t = tornado(&s, &RunOptions::new(1_000, 3)).unwrap();
    let bar = t.bars.iter().find(|b| b.input == "delivery risk").unwrap();
    assert_eq!(bar.p50_low, t.base_p50);
    assert!(bar.p50_high < bar.p50_low, "{bar:?}");
    assert_eq!(kam_sim::tornado_runs(&s), kam_sim::TORNADO_RUNS + 1);
    // Without projects there is no such bar.
    let t = tornado(&small(), &RunOptions::new(200, 3)).unwrap();
    assert!(t.bars.iter().all(|b| b.input != "delivery risk"));
}

#[test]
fn bad_projects_are_errors_at_their_line_naming_the_task() {
    let text = linked();
    let cases = [
        (
            "after = [\"design\"] },",
            "after = [\"nowhere\"] },",
            "unknown task \"nowhere\"",
        ),
        (
            "{ id = \"design\", optimistic = \"2\", most_likely = \"4\"",
            "{ id = \"design\", optimistic = \"5\", most_likely = \"4\"",
            "\"design\"",
        ),
        (
            "{ id = \"design\", optimistic = \"2\"",
            "{ id = \"design\", optimistic = \"-2\"",
            "must not be negative",
        ),
        (
            "{ id = \"design\", optimistic = \"2\", most_likely = \"4\", pessimistic = \"8\" }",
            "{ id = \"design\", optimistic = \"2\", most_likely = \"4\", pessimistic = \"8\", after = [\"go-live\"] }",
            "cycle",
        ),
    ];
    for (from, to, says) in cases {
        assert!(text.contains(from), "{from}");
        let e = parse_scenario(&text.replacen(from, to, 1), "linked.toml").unwrap_err();
        let ScenarioError::Invalid { line, .. } = &e else {
            panic!("{e}")
        };
        let want = text
            .lines()
            .position(|l| l.contains(from.lines().next().unwrap()))
            .unwrap()
            + 1;
        assert_eq!(*line, want, "{e}");
        let msg = e.to_string();
        assert!(msg.contains(says) && msg.contains("project[0].tasks["), "{msg}");
    }
    let e = parse_scenario(
        &text.replace("deal = \"Leipzig inbound\"", "deal = \"Nowhere\""),
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown deal \"Nowhere\""), "{e}");
    let e = parse_scenario(
        &text.replacen("pessimistic = \"20\"", "pessimistic = \"21\"", 1),
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("shared task \"wms\" has other durations"), "{e}");
}
