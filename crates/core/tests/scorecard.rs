//! Scorecards: the shared vectors, property tests and typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use kam_core::Decimal;
use kam_core::Direction::{self, HigherIsBetter, LowerIsBetter};
use kam_core::account::{Account, AccountNode, NodeLevel};
use kam_core::metrics::kpi::otif;
use kam_core::metrics::{KpiLibrary, Observation, ObservationTable};
use kam_core::rules::{FnKpiScoringRule, MeasureInput, RuleError};
use kam_core::scorecard::{
    GradeKind, GradingScheme, HealthModel, Measure, NaPolicy, RollupBasis, Scorecard, ScorecardError,
    ScoringMethod, SiteScore, Template, TrendDirection, band_score, grade, health_score, ratio_score,
    roll_up_scores, trend,
};
use proptest::prelude::*;
use rust_decimal_macros::dec;

// Source: shared/vectors/scorecard.toml [otif]
#[test]
fn vector_otif() {
    assert_eq!(otif(dec!(1080), dec!(1200)).unwrap(), dec!(0.90));
}

// Source: shared/vectors/scorecard.toml [qbr]
const QBR: [(&str, Decimal, Decimal, &str, Decimal, Decimal); 5] = [
    (
        "OTIF %",
        dec!(97.8),
        dec!(98.5),
        "higher",
        dec!(0.30),
        dec!(0.99289),
    ),
    (
        "Inventory accuracy %",
        dec!(99.2),
        dec!(99.5),
        "higher",
        dec!(0.20),
        dec!(0.99698),
    ),
    (
        "Dock-to-stock hours",
        dec!(20),
        dec!(24),
        "lower",
        dec!(0.15),
        dec!(1.10000),
    ),
    (
        "Damage ppm",
        dec!(180),
        dec!(150),
        "lower",
        dec!(0.15),
        dec!(0.83333),
    ),
    (
        "Cost per line",
        dec!(0.66),
        dec!(0.65),
        "lower",
        dec!(0.20),
        dec!(0.98485),
    ),
];
const QBR_CAP: Decimal = dec!(1.10);
const QBR_OVERALL_4DP: Decimal = dec!(0.9842);

fn qbr() -> Scorecard {
    let mut sc = Scorecard::new("QBR");
    for (name, actual, target, dir, weight, _) in QBR {
        sc.measure(name, actual, target, dir.parse().unwrap(), weight)
            .unwrap();
    }
    sc
}

#[test]
fn vector_qbr_measure_scores_and_overall() {
    for (name, actual, target, dir, _, score_5dp) in QBR {
        let s = ratio_score(name, actual, target, dir.parse().unwrap(), QBR_CAP).unwrap();
        assert_eq!(s.round_dp(5), score_5dp, "{name}");
    }
    let mut sc = qbr();
    assert_eq!(sc.overall(QBR_CAP).unwrap().round_dp(4), QBR_OVERALL_4DP);
    let c = sc.contributions().unwrap();
    assert_eq!(c.len(), 5);
    for ((name, _, _, _, weight, score_5dp), c) in QBR.iter().zip(&c) {
        assert_eq!(&c.name, name);
        assert_eq!(c.score.unwrap().round_dp(5), *score_5dp);
        assert_eq!(c.weight, *weight); // the weights already sum to 1
        assert_eq!(c.contribution, c.weight * c.score.unwrap());
    }
    let total: Decimal = c.iter().map(|c| c.contribution).sum();
    assert_eq!(total.round_dp(4), QBR_OVERALL_4DP);
    // Serde round trip of the scorecard itself.
    let json = serde_json::to_string(&sc).unwrap();
    assert_eq!(serde_json::from_str::<Scorecard>(&json).unwrap(), sc);
    let text = toml::to_string(&sc).unwrap();
    assert_eq!(toml::from_str::<Scorecard>(&text).unwrap(), sc);
}

// Source: shared/vectors/scorecard.toml [qbr] note — the band score alternative.
#[test]
fn vector_band_score_alternative() {
    // OTIF 97.8 against target 98.5 with red at 95: (97.8 − 95) / (98.5 − 95) = 0.8.
    assert_eq!(
        band_score("OTIF", dec!(97.8), dec!(98.5), dec!(95), HigherIsBetter, QBR_CAP).unwrap(),
        dec!(0.8)
    );
    // Damage 180 ppm against 150 with red at 500: (180 − 500) / (150 − 500).
    let s = band_score("Damage", dec!(180), dec!(150), dec!(500), LowerIsBetter, QBR_CAP).unwrap();
    assert_eq!(s.round_dp(5), dec!(0.91429));
}

#[test]
fn rule_scoring_is_an_alternative_method() {
    // A rule that gives 1 on target and 0 otherwise, returning 5 for one measure to show the cap.
    let rule = FnKpiScoringRule::new("pass/fail", |m: &MeasureInput| -> Result<Decimal, RuleError> {
        let ok = match m.direction {
            Direction::HigherIsBetter => m.actual >= m.target,
            Direction::LowerIsBetter => m.actual <= m.target,
        };
        Ok(if m.name == "boost" {
            dec!(5)
        } else if ok {
            dec!(1)
        } else {
            dec!(0)
        })
    });
    let mut sc = Scorecard::new("rule");
    for (name, actual) in [("a", dec!(99)), ("b", dec!(90)), ("boost", dec!(1))] {
        sc.add(Measure {
            name: name.into(),
            actual: Some(actual),
            target: dec!(95),
            direction: HigherIsBetter,
            red: None,
            weight: dec!(1),
            method: ScoringMethod::Rule,
        })
        .unwrap();
    }
    let (overall, c) = sc.evaluate(dec!(1.1), Some(&rule)).unwrap();
    assert_eq!(
        c.iter().map(|c| c.score.unwrap()).collect::<Vec<_>>(),
        vec![dec!(1), dec!(0), dec!(1.1)]
    );
    assert_eq!(overall, dec!(2.1) / dec!(3));
    assert!(matches!(
        sc.evaluate(dec!(1.1), None),
        Err(ScorecardError::NoScoringRule(_))
    ));
    assert!(matches!(
        sc.overall(dec!(1.1)),
        Err(ScorecardError::NoScoringRule(_))
    ));
}

#[test]
fn typed_errors() {
    let mut sc = Scorecard::new("x");
    assert!(matches!(
        sc.measure("w0", dec!(1), dec!(1), HigherIsBetter, dec!(0)),
        Err(ScorecardError::NonPositiveWeight { .. })
    ));
    assert!(matches!(
        sc.measure("wneg", dec!(1), dec!(1), HigherIsBetter, dec!(-1)),
        Err(ScorecardError::NonPositiveWeight { .. })
    ));
    assert!(matches!(
        health_score(&[(dec!(0), Some(dec!(50)))]),
        Err(ScorecardError::NonPositiveWeight { .. })
    ));
    assert!(matches!(
        health_score(&[(dec!(1), None)]),
        Err(ScorecardError::AllNotApplicable(_))
    ));
    assert!(matches!(sc.overall(dec!(1.1)), Err(ScorecardError::Empty(_))));
    sc.measure("a", dec!(1), dec!(1), HigherIsBetter, dec!(1))
        .unwrap();
    assert!(matches!(sc.overall(dec!(0)), Err(ScorecardError::InvalidCap(_))));
    assert!(matches!(
        sc.measure("a", dec!(1), dec!(1), HigherIsBetter, dec!(1)),
        Err(ScorecardError::Duplicate { .. })
    ));
    // Bands overlapping or leaving a gap.
    assert!(matches!(
        grade(dec!(0.5), &[("R", dec!(0.9)), ("G", dec!(0.8))]),
        Err(ScorecardError::BandsOverlap { .. })
    ));
    let gap = GradingScheme::new(
        GradeKind::Letter,
        serde_json::from_str(
            r#"[{"name":"B","upper":{"value":"0.8","inclusive":false}},{"name":"A","lower":{"value":"0.85","inclusive":true}}]"#,
        )
        .unwrap(),
    );
    assert!(matches!(gap, Err(ScorecardError::BandsGap { .. })));
    // Unknown KPI in a template.
    let mut t = Template::ebr();
    t.groups[0].measures[0].kpi = "net_promoter".into();
    let e = t.validate(&KpiLibrary::contract_logistics()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "template \"EBR\", group \"Executive\": unknown KPI \"net_promoter\""
    );
}

#[test]
fn analyst_api_helpers() {
    // health_score: Σ w·s / Σ w over non-N/A.
    assert_eq!(
        health_score(&[
            (dec!(0.5), Some(dec!(0.8))),
            (dec!(0.3), None),
            (dec!(0.2), Some(dec!(0.3)))
        ])
        .unwrap(),
        dec!(0.46) / dec!(0.7)
    );
    // grade: ascending bands with inclusive up_to.
    let bands = [("Red", dec!(0.85)), ("Amber", dec!(0.95)), ("Green", dec!(2))];
    assert_eq!(grade(dec!(0.95), &bands).unwrap(), "Amber");
    assert_eq!(grade(dec!(0.9501), &bands).unwrap(), "Green");
    assert_eq!(grade(dec!(-3), &bands).unwrap(), "Red");
    assert_eq!(
        kam_core::metrics::kpi::perfect_order_rate(&[dec!(0.97), dec!(0.99)]).unwrap(),
        dec!(0.9603)
    );
}

fn account() -> Account {
    Account {
        id: "oem".into(),
        name: "OEM".into(),
        nodes: vec![
            AccountNode::new("global", "Global", NodeLevel::Global, None),
            AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
            AccountNode::new("apac", "APAC", NodeLevel::Region, Some("global")),
            AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("emea")),
            AccountNode::new("bremen", "Bremen", NodeLevel::Site, Some("emea")),
            AccountNode::new("pune", "Pune", NodeLevel::Site, Some("apac")),
        ],
        service_lines: vec![],
        buying_centres: vec![],
    }
}

#[test]
fn template_from_kpi_data_with_trend_and_grade() {
    let lib = KpiLibrary::contract_logistics();
    let h = account().hierarchy().unwrap();
    let mut t = ObservationTable::new(&lib, &h, vec!["q1".into(), "q2".into()]).unwrap();
    for (p, on_time, damaged, cts) in [("q1", 965, 30, 96), ("q2", 985, 10, 90)] {
        t.record(
            "leipzig",
            "otif_order_request",
            p,
            Observation::ratio(on_time.into(), dec!(1000)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "otif_line_commit",
            p,
            Observation::ratio(on_time.into(), dec!(1000)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "order_accuracy",
            p,
            Observation::ratio(dec!(996), dec!(1000)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "damage_free_rate",
            p,
            Observation::ratio(Decimal::from(100_000 - damaged), dec!(100000)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "margin_pct",
            p,
            Observation::ratio(Decimal::from(100 - cts), dec!(100)),
        )
        .unwrap();
    }
    let r = t.roll_up().unwrap();
    let ebr = Template::ebr();
    let q1 = ebr.score_node(&lib, &r, "global", "q1", None).unwrap();
    let q2 = ebr.score_node(&lib, &r, "global", "q2", None).unwrap();
    // q2: OTIF request 98.5 → band (98.5−95)/(98−95) capped 1.1; margin 10 % → (10−3)/(8−3) = 1.4 → 1.1;
    // perfect order 98.5 × 99.6 × 99.99 % = 98.09… % → capped 1.1. Overall 1.1, grade "5".
    assert_eq!(q2.overall, dec!(1.1));
    assert_eq!(q2.grade, "5");
    assert!(q1.overall < q2.overall);
    let tr = trend(&q2, &q1).unwrap();
    assert_eq!(tr.direction, TrendDirection::Improved);
    assert_eq!(tr.delta, q2.overall - q1.overall);
    // q1 margin 4 % → (4−3)/(8−3) = 0.2.
    let margin_q1 = q1.measures.iter().find(|m| m.kpi == "margin_pct").unwrap();
    assert_eq!(margin_q1.score, Some(dec!(0.2)));
    // QBR on the same data: the measures without data are N/A and redistribute.
    let qbr = Template::qbr()
        .score_node(&lib, &r, "leipzig", "q2", None)
        .unwrap();
    let applicable: Vec<_> = qbr
        .measures
        .iter()
        .filter(|m| m.score.is_some())
        .map(|m| m.kpi.as_str())
        .collect();
    assert_eq!(applicable, vec!["order_accuracy"]);
    assert_eq!(qbr.measures.iter().map(|m| m.weight).sum::<Decimal>(), dec!(1));
    let json = serde_json::to_string(&qbr).unwrap();
    assert_eq!(
        serde_json::from_str::<kam_core::scorecard::ScoreSheet>(&json).unwrap(),
        qbr
    );
}

#[test]
fn roll_up_by_revenue_or_volume() {
    let h = account().hierarchy().unwrap();
    let sites = vec![
        SiteScore {
            site: "leipzig".into(),
            score: Some(dec!(0.9)),
            revenue: dec!(3000000),
            volume: dec!(100),
        },
        SiteScore {
            site: "bremen".into(),
            score: Some(dec!(1.0)),
            revenue: dec!(1000000),
            volume: dec!(300),
        },
        SiteScore {
            site: "pune".into(),
            score: None,
            revenue: dec!(500000),
            volume: dec!(50),
        },
    ];
    let by_rev = roll_up_scores(&h, &sites, RollupBasis::Revenue).unwrap();
    let get =
        |v: &[kam_core::scorecard::NodeScore], id: &str| v.iter().find(|n| n.node == id).unwrap().clone();
    assert_eq!(get(&by_rev, "emea").score, Some(dec!(0.925)));
    assert_eq!(get(&by_rev, "global").score, Some(dec!(0.925)));
    assert_eq!(get(&by_rev, "apac").score, None);
    let by_vol = roll_up_scores(&h, &sites, RollupBasis::Volume).unwrap();
    assert_eq!(get(&by_vol, "global").score, Some(dec!(0.975)));
    let bad = vec![SiteScore {
        site: "emea".into(),
        score: Some(dec!(1)),
        revenue: dec!(1),
        volume: dec!(1),
    }];
    assert!(matches!(
        roll_up_scores(&h, &bad, RollupBasis::Revenue),
        Err(ScorecardError::NotASite(_))
    ));
    let neg = vec![SiteScore {
        site: "pune".into(),
        score: Some(dec!(1)),
        revenue: dec!(-1),
        volume: dec!(1),
    }];
    assert!(matches!(
        roll_up_scores(&h, &neg, RollupBasis::Revenue),
        Err(ScorecardError::NegativeBasis { .. })
    ));
}

#[test]
fn health_model_policies() {
    let mut model = HealthModel {
        measures: vec![
            ("adoption".into(), dec!(3)),
            ("support".into(), dec!(1)),
            ("sentiment".into(), dec!(1)),
        ],
        na_policy: NaPolicy::Redistribute,
        min_coverage: dec!(0.5),
    };
    let values: BTreeMap<String, Decimal> = [
        ("adoption".to_owned(), dec!(80)),
        ("support".to_owned(), dec!(40)),
    ]
    .into();
    let h = model.score(&values).unwrap();
    assert_eq!(h.score, dec!(70));
    assert_eq!(h.coverage, dec!(0.8));
    model.na_policy = NaPolicy::ScoreZero;
    assert_eq!(model.score(&values).unwrap().score, dec!(56));
    model.na_policy = NaPolicy::Fail;
    assert!(matches!(
        model.score(&values),
        Err(ScorecardError::NotApplicable(_))
    ));
    model.na_policy = NaPolicy::Redistribute;
    let thin: BTreeMap<String, Decimal> = [("support".to_owned(), dec!(40))].into();
    assert!(model.score(&thin).is_err()); // 20 % coverage < 50 %
}

fn dec_in(lo: i64, hi: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    (lo..hi).prop_map(move |m| Decimal::new(m, scale))
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(HigherIsBetter), Just(LowerIsBetter)]
}

fn measures() -> impl Strategy<Value = Vec<(Decimal, Decimal, Direction, Decimal)>> {
    prop::collection::vec(
        (
            dec_in(0, 20_000, 2),
            dec_in(1, 20_000, 2),
            direction(),
            dec_in(1, 1000, 2),
        ),
        1..8,
    )
}

fn card(ms: &[(Decimal, Decimal, Direction, Decimal)], skip: Option<usize>, na: Option<usize>) -> Scorecard {
    let mut sc = Scorecard::new("p");
    for (i, (a, t, d, w)) in ms.iter().enumerate() {
        let name = format!("m{i}");
        if Some(i) == skip {
            continue;
        }
        if Some(i) == na {
            sc.measure_na(&name, *t, *d, *w).unwrap();
        } else {
            sc.measure(&name, *a, *t, *d, *w).unwrap();
        }
    }
    sc
}

proptest! {
    #[test]
    fn a_score_never_exceeds_the_cap(
        actual in dec_in(-10_000, 100_000, 2), target in dec_in(1, 100_000, 2),
        gap in dec_in(1, 50_000, 2), d in direction(), cap in dec_in(1, 300, 2),
        ms in measures(),
    ) {
        let r = ratio_score("m", actual, target, d, cap).unwrap();
        prop_assert!(r >= Decimal::ZERO && r <= cap);
        let red = match d { HigherIsBetter => target - gap, LowerIsBetter => target + gap };
        let b = band_score("m", actual, target, red, d, cap).unwrap();
        prop_assert!(b >= Decimal::ZERO && b <= cap);
        let mut sc = card(&ms, None, None);
        let overall = sc.overall(cap).unwrap();
        prop_assert!(overall <= cap);
        for c in sc.contributions().unwrap() {
            prop_assert!(c.score.unwrap() <= cap);
        }
    }

    #[test]
    fn weights_normalize(ms in measures(), k in 1i64..1000) {
        let mut sc = card(&ms, None, None);
        let overall = sc.overall(dec!(1.2)).unwrap();
        let c = sc.contributions().unwrap();
        let eps = dec!(0.0000000000000000001);
        let wsum: Decimal = c.iter().map(|c| c.weight).sum();
        prop_assert!((wsum - Decimal::ONE).abs() < eps);
        let csum: Decimal = c.iter().map(|c| c.contribution).sum();
        prop_assert!((csum - overall).abs() < eps);
        // Scaling every weight by k changes nothing.
        let scaled: Vec<_> = ms.iter().map(|(a, t, d, w)| (*a, *t, *d, *w * Decimal::from(k))).collect();
        let o2 = card(&scaled, None, None).overall(dec!(1.2)).unwrap();
        prop_assert!((o2 - overall).abs() < eps);
    }

    #[test]
    fn redistributing_an_na_weight_equals_scoring_without_it(ms in measures(), pick in 0usize..8) {
        prop_assume!(ms.len() >= 2);
        let i = pick % ms.len();
        let with_na = card(&ms, None, Some(i)).overall(dec!(1.1)).unwrap();
        let without = card(&ms, Some(i), None).overall(dec!(1.1)).unwrap();
        prop_assert_eq!(with_na, without);
        // Same through health_score.
        let items: Vec<_> = ms.iter().enumerate().map(|(j, (_, _, _, w))| (*w, (j != i).then_some(Decimal::from(j as i64)))).collect();
        let rest: Vec<_> = items.iter().filter(|x| x.1.is_some()).cloned().collect();
        prop_assert_eq!(health_score(&items).unwrap(), health_score(&rest).unwrap());
    }
}
