//! Metrics: roll-up by the KPI's own rule, RAG evaluation, de-duplicated alerts (built-in
//! and user rules), action plan verification and escalations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::Decimal;
use kam_core::account::{Account, AccountNode, Hierarchy, NodeLevel};
use kam_core::metrics::kpi::{CountBasis, DateBasis};
use kam_core::metrics::{
    ActionError, ActionPlan, ActionState, AlertKind, AlertPolicy, AlertRegister, BuiltInAlert,
    EscalationBook, Kpi, KpiLibrary, MetricsError, Observation, ObservationTable, Rung, Severity, SlaPolicy,
    Status, evaluate,
};
use kam_core::rules::{AlertDecision, AlertInput, FnAlertRule, RuleError};
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn account() -> Account {
    let mut nodes = vec![
        AccountNode::new("global", "Global", NodeLevel::Global, None),
        AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
        AccountNode::new("apac", "APAC", NodeLevel::Region, Some("global")),
        AccountNode::new("de", "Germany", NodeLevel::Country, Some("emea")),
    ];
    for (s, parent) in [
        ("s0", "de"),
        ("s1", "de"),
        ("s2", "emea"),
        ("s3", "apac"),
        ("s4", "apac"),
    ] {
        nodes.push(AccountNode::new(s, s, NodeLevel::Site, Some(parent)));
    }
    Account {
        id: "oem".into(),
        name: "OEM".into(),
        nodes,
        service_lines: vec![],
        buying_centres: vec![],
    }
}

fn hierarchy() -> Hierarchy {
    account().hierarchy().unwrap()
}

fn periods(n: usize) -> Vec<String> {
    (1..=n).map(|p| format!("p{p}")).collect()
}

const OTIF: &str = "otif_order_commit";

#[test]
fn typed_errors_for_counts() {
    let mut t = ObservationTable::new(&KpiLibrary::contract_logistics(), &hierarchy(), periods(1)).unwrap();
    let e = t
        .record("s0", OTIF, "p1", Observation::ratio(dec!(1201), dec!(1200)))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "s0/otif_order_commit/p1 observation: part 1201 exceeds total 1200"
    );
    let e = t
        .record(
            "s0",
            "cost_to_serve_pct",
            "p1",
            Observation::ratio(dec!(-1), dec!(1200)),
        )
        .unwrap_err();
    assert!(matches!(e, MetricsError::NegativeCount { .. }));
    assert!(matches!(
        kam_core::metrics::kpi::otif(dec!(5), dec!(-5)),
        Err(MetricsError::NegativeCount { .. })
    ));
}

#[test]
fn status_boundaries_are_inclusive_as_stated() {
    // OTIF target 98 (green inclusive), red 95 (red inclusive).
    let lib = KpiLibrary::contract_logistics();
    let mut t = ObservationTable::new(&lib, &hierarchy(), periods(1)).unwrap();
    for (s, on_time) in [("s0", 980), ("s1", 979), ("s2", 951), ("s3", 950), ("s4", 900)] {
        t.record(
            s,
            OTIF,
            "p1",
            Observation::ratio(Decimal::from(on_time), dec!(1000)),
        )
        .unwrap();
    }
    // Lower is better: damage ppm target 150, red 500.
    for (s, damaged) in [("s0", 150), ("s1", 151), ("s2", 499), ("s3", 500)] {
        t.record(
            s,
            "damage_ppm",
            "p1",
            Observation::ratio(Decimal::from(damaged), dec!(1000000)),
        )
        .unwrap();
    }
    let r = t.roll_up().unwrap();
    let mut reg = AlertRegister::default();
    let e = evaluate(&r, &AlertPolicy::default(), &[], &mut reg, "p1").unwrap();
    let st = |n, k| e.status(n, k, "p1").unwrap();
    assert_eq!(
        [
            st("s0", OTIF),
            st("s1", OTIF),
            st("s2", OTIF),
            st("s3", OTIF),
            st("s4", OTIF)
        ],
        [
            Status::Green,
            Status::Amber,
            Status::Amber,
            Status::Red,
            Status::Red
        ]
    );
    let dp = "damage_ppm";
    assert_eq!(
        [
            st("s0", dp),
            st("s1", dp),
            st("s2", dp),
            st("s3", dp),
            st("s4", dp)
        ],
        [
            Status::Green,
            Status::Amber,
            Status::Amber,
            Status::Red,
            Status::NoData
        ]
    );
    // Evaluating the same period twice is refused.
    assert!(matches!(
        evaluate(&r, &AlertPolicy::default(), &[], &mut reg, "p1"),
        Err(MetricsError::AlreadyEvaluated { .. })
    ));
}

#[test]
fn cost_to_serve_margin_and_adverse_trend_alerts() {
    let lib = KpiLibrary::contract_logistics();
    let mut t = ObservationTable::new(&lib, &hierarchy(), periods(5)).unwrap();
    // Cost-to-serve 94, 96, 97, 93, 96 % of revenue; margin 6, 4, 3, 7, 4 %.
    for (p, cts, margin) in [
        ("p1", 94, 6),
        ("p2", 96, 4),
        ("p3", 97, 3),
        ("p4", 93, 7),
        ("p5", 96, 4),
    ] {
        t.record(
            "s3",
            "cost_to_serve_pct",
            p,
            Observation::ratio(Decimal::from(cts * 1000), dec!(100000)),
        )
        .unwrap();
        t.record(
            "s3",
            "margin_pct",
            p,
            Observation::ratio(Decimal::from(margin * 1000), dec!(100000)),
        )
        .unwrap();
    }
    // Dock-to-stock worsening three periods in a row (20 → 22 → 25 → 30), then better.
    for (p, hours) in [("p1", 20), ("p2", 22), ("p3", 25), ("p4", 30), ("p5", 21)] {
        t.record(
            "s0",
            "dock_to_stock_hours",
            p,
            Observation::weighted(Decimal::from(hours), dec!(40)).unwrap(),
        )
        .unwrap();
    }
    let r = t.roll_up().unwrap();
    let mut reg = AlertRegister::default();
    evaluate(&r, &AlertPolicy::default(), &[], &mut reg, "p5").unwrap();
    let of = |node: &str, kind: AlertKind| -> Vec<(String, Option<String>)> {
        reg.alerts()
            .iter()
            .filter(|a| &*a.node == node && a.kind == kind)
            .map(|a| (a.opened.to_string(), a.closed.as_deref().map(str::to_owned)))
            .collect()
    };
    // Over 95 %: p2–p3 (one problem), again p5 (a new one).
    assert_eq!(
        of("s3", AlertKind::CostToServeOverLimit),
        vec![("p2".to_owned(), Some("p4".to_owned())), ("p5".to_owned(), None)]
    );
    // Under 5 %: same shape.
    assert_eq!(
        of("s3", AlertKind::MarginUnderFloor),
        vec![("p2".to_owned(), Some("p4".to_owned())), ("p5".to_owned(), None)]
    );
    // Three adverse moves in a row complete in p4; p5 improves and closes it.
    assert_eq!(
        of("s0", AlertKind::ConsecutiveAdverse),
        vec![("p4".to_owned(), Some("p5".to_owned()))]
    );
    // The roll-up nodes carry the same single-site problems.
    assert_eq!(of("global", AlertKind::CostToServeOverLimit).len(), 2);
    let a = reg
        .alerts()
        .iter()
        .find(|a| a.kind == AlertKind::CostToServeOverLimit)
        .unwrap();
    assert_eq!(a.periods_active, 2);
    assert_eq!(a.value, Some(dec!(96)));
    let json = serde_json::to_string(&reg).unwrap();
    assert_eq!(serde_json::from_str::<AlertRegister>(&json).unwrap(), reg);
    let text = toml::to_string(&reg).unwrap();
    assert_eq!(toml::from_str::<AlertRegister>(&text).unwrap(), reg);
}

#[test]
fn user_alert_rules_run_beside_the_built_ins() {
    let lib = KpiLibrary::contract_logistics();
    let mut t = ObservationTable::new(&lib, &hierarchy(), periods(3)).unwrap();
    for (p, on_time) in [("p1", 990), ("p2", 970), ("p3", 960)] {
        t.record(
            "s4",
            OTIF,
            p,
            Observation::ratio(Decimal::from(on_time), dec!(1000)),
        )
        .unwrap();
    }
    // "Dropped more than 1.5 points from the best of the window."
    let rule = FnAlertRule::new(
        "drop from best",
        |i: &AlertInput| -> Result<AlertDecision, RuleError> {
            let best = i.history.iter().max().copied().unwrap_or_default();
            let now = i.history.last().copied().unwrap_or_default();
            let raise = i.direction == kam_core::Direction::HigherIsBetter && best - now > dec!(1.5);
            Ok(AlertDecision {
                raise,
                message: format!("{} fell {} from best", i.kpi, best - now),
            })
        },
    );
    let r = t.roll_up().unwrap();
    let mut reg = AlertRegister::default();
    let policy = AlertPolicy {
        alerts: vec![BuiltInAlert::ThresholdBreach { at: Status::Amber }],
        rule_history: 3,
    };
    evaluate(&r, &policy, &[&rule], &mut reg, "p3").unwrap();
    let rule_alerts: Vec<_> = reg
        .alerts()
        .iter()
        .filter(|a| a.kind == AlertKind::Rule("drop from best".into()) && &*a.node == "s4")
        .collect();
    assert_eq!(rule_alerts.len(), 1);
    assert_eq!(&*rule_alerts[0].opened, "p2");
    assert_eq!(rule_alerts[0].message, "otif_order_commit fell 2 from best");
    assert!(rule_alerts[0].is_open());
    let breach: Vec<_> = reg
        .alerts()
        .iter()
        .filter(|a| a.kind == AlertKind::ThresholdBreach && &*a.node == "s4")
        .collect();
    assert_eq!(breach.len(), 1);
    // A rule returning the wrong number of decisions is a typed error and leaves the register alone.
    let broken = FnAlertRule::new("broken", |_: &AlertInput| -> Result<AlertDecision, RuleError> {
        Err(RuleError::new(
            "broken",
            kam_core::rules::RuleHost::Native,
            kam_core::rules::RuleErrorKind::Failed,
            "no",
        ))
    });
    let before = AlertRegister::default();
    let mut reg2 = before.clone();
    assert!(matches!(
        evaluate(&r, &policy, &[&broken], &mut reg2, "p3"),
        Err(MetricsError::Rule(_))
    ));
    assert_eq!(reg2, before);
}

#[test]
fn action_plan_verified_only_on_evidence() {
    let lib = KpiLibrary::contract_logistics();
    let kpi = Kpi::otif(CountBasis::Order, DateBasis::Commit);
    let mut t = ObservationTable::new(&lib, &hierarchy(), periods(4)).unwrap();
    for (p, on_time) in [("p1", 940), ("p2", 985), ("p3", 970), ("p4", 990)] {
        t.record(
            "s1",
            OTIF,
            p,
            Observation::ratio(Decimal::from(on_time), dec!(1000)),
        )
        .unwrap();
    }
    let r = t.roll_up().unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    let at = |d| -> NaiveDateTime { day(d).and_hms_opt(8, 0, 0).unwrap() };
    let mut a = ActionPlan::new("act-1", "OTIF recovery", "s1", OTIF, "RAM Bremen", day(30)).unwrap();
    a.start(at(1), "RAM Bremen", "").unwrap();
    a.resolve(at(2), "RAM Bremen", "").unwrap();
    // p3 off target after p2 on target: not verifiable with M = 1 at p3, nor M = 2 at p4.
    let hist_p3 = r.history("s1", OTIF, "p3").unwrap();
    assert!(matches!(
        a.verify(at(3), "GAD", &kpi, &hist_p3, 1),
        Err(ActionError::NotBackOnTarget { .. })
    ));
    let hist_p4 = r.history("s1", OTIF, "p4").unwrap();
    assert!(matches!(
        a.verify(at(4), "GAD", &kpi, &hist_p4, 2),
        Err(ActionError::NotBackOnTarget { .. })
    ));
    a.verify(at(4), "GAD", &kpi, &hist_p4, 1).unwrap();
    assert_eq!(a.state, ActionState::Verified);
    let e = a.start(at(5), "x", "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "action \"act-1\": cannot go from verified to in progress"
    );
}

#[test]
fn several_concurrent_escalations_per_account() {
    let t = |h: i64| {
        NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + chrono::Duration::hours(h)
    };
    let mut b = EscalationBook::new(SlaPolicy::default()).unwrap();
    b.open("line-stop", "oem", Some("s0"), "Line stop", Severity::S1, t(0))
        .unwrap();
    b.open("billing", "oem", None, "Invoice dispute", Severity::S3, t(0))
        .unwrap();
    b.open("damage", "oem", Some("s3"), "Damage spike", Severity::S2, t(2))
        .unwrap();
    let ev = b.tick(t(30)).unwrap();
    // S1: 4 h/rung → top by 12 h, top SLA missed at 16 h. S2: 24 h → GAD at 26 h. S3: not yet.
    assert_eq!(b.get("line-stop").unwrap().rung, Rung::CustomerExecutiveSponsor);
    assert_eq!(b.get("damage").unwrap().rung, Rung::GlobalAccountDirector);
    assert_eq!(b.get("billing").unwrap().rung, Rung::RegionalAccountManager);
    assert_eq!(ev.len(), 5);
    assert_eq!(b.open_for("oem").count(), 3);
}

// ---------------------------------------------------------------- properties

fn site_obs() -> impl Strategy<Value = Vec<(u32, u32)>> {
    // (on time, total) per site s0..s4.
    prop::collection::vec(
        (0u32..5000, 0u32..5000).prop_map(|(a, b)| (a.min(b), a.max(b))),
        5,
    )
}

proptest! {
    #[test]
    fn aggregation_of_a_ratio_kpi_is_the_ratio_of_sums(obs in site_obs(), cost in prop::collection::vec((0u32..100_000, 1u32..50_000), 5)) {
        let lib = KpiLibrary::contract_logistics().with(Kpi::cost_per_line(dec!(0.65), dec!(0.75)).unwrap()).unwrap();
        let mut t = ObservationTable::new(&lib, &hierarchy(), periods(1)).unwrap();
        for (i, ((on, total), (c, lines))) in obs.iter().zip(&cost).enumerate() {
            let s = format!("s{i}");
            t.record(&s, OTIF, "p1", Observation::ratio(Decimal::from(*on), Decimal::from(*total))).unwrap();
            t.record(&s, "cost_per_line", "p1", Observation::ratio(Decimal::new(i64::from(*c), 2), Decimal::from(*lines))).unwrap();
        }
        let r = t.roll_up().unwrap();
        for (node, sites) in [("global", vec![0, 1, 2, 3, 4]), ("emea", vec![0, 1, 2]), ("de", vec![0, 1]), ("apac", vec![3, 4])] {
            let on: u32 = sites.iter().map(|&i| obs[i].0).sum();
            let total: u32 = sites.iter().map(|&i| obs[i].1).sum();
            let expected = (total > 0).then(|| Decimal::from(on) * dec!(100) / Decimal::from(total));
            prop_assert_eq!(r.value(node, OTIF, "p1").unwrap(), expected);
            let c: Decimal = sites.iter().map(|&i| Decimal::new(i64::from(cost[i].0), 2)).sum();
            let l: u32 = sites.iter().map(|&i| cost[i].1).sum();
            prop_assert_eq!(r.value(node, "cost_per_line", "p1").unwrap(), Some(c / Decimal::from(l)));
        }
    }

    #[test]
    fn an_alert_is_never_raised_twice_for_the_same_open_problem(
        series in prop::collection::vec(prop::collection::vec(prop::option::weighted(0.9, 900u32..1000), 8), 5)
    ) {
        let lib = KpiLibrary::contract_logistics();
        let ps = periods(8);
        let mut t = ObservationTable::new(&lib, &hierarchy(), ps.clone()).unwrap();
        for (i, site) in series.iter().enumerate() {
            for (p, v) in site.iter().enumerate() {
                if let Some(v) = v {
                    t.record(&format!("s{i}"), OTIF, &ps[p], Observation::ratio(Decimal::from(*v), dec!(1000))).unwrap();
                    // A second KPI alerting in other periods, so new alerts of several KPIs
                    // interleave and their ids must follow (period, KPI, node, kind) order.
                    let shifted = 1900 - *v;
                    t.record(&format!("s{i}"), "pick_accuracy", &ps[p], Observation::ratio(Decimal::from(shifted), dec!(1000))).unwrap();
                }
            }
        }
        let r = t.roll_up().unwrap();
        let policy = AlertPolicy::default();
        // Period by period...
        let mut reg = AlertRegister::default();
        for p in &ps {
            evaluate(&r, &policy, &[], &mut reg, p).unwrap();
            let mut keys = std::collections::HashSet::new();
            for a in reg.open() {
                prop_assert!(keys.insert((a.node.clone(), a.kpi.clone(), a.kind.clone())), "two open alerts for {:?}", a);
            }
        }
        // ...gives the same register as one run over all periods.
        let mut all = AlertRegister::default();
        evaluate(&r, &policy, &[], &mut all, "p8").unwrap();
        prop_assert_eq!(&all, &reg);
        // One threshold-breach alert per red episode (maximal run of red; no-data periods
        // neither open nor close).
        for (i, site) in series.iter().enumerate() {
            let mut episodes = 0;
            let mut open = false;
            for v in site.iter().flatten() {
                let red = *v <= 950;
                if red && !open { episodes += 1; }
                open = red;
            }
            let node = format!("s{i}");
            let raised = all
                .alerts()
                .iter()
                .filter(|a| *a.node == *node && &*a.kpi == OTIF && a.kind == AlertKind::ThresholdBreach)
                .count();
            prop_assert_eq!(raised, episodes);
        }
    }

    #[test]
    fn an_action_cannot_be_verified_while_its_kpi_is_off_target(
        recent in prop::collection::vec(prop::option::weighted(0.9, 900u32..1000), 0..8), m in 1usize..4
    ) {
        let kpi = Kpi::otif(CountBasis::Order, DateBasis::Commit);
        let values: Vec<Option<Decimal>> = recent.iter().map(|v| v.map(|v| Decimal::new(i64::from(v), 1))).collect();
        let t0 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let mut a = ActionPlan::new("a", "t", "s0", OTIF, "o", t0.date()).unwrap();
        a.start(t0, "o", "").unwrap();
        a.resolve(t0, "o", "").unwrap();
        let on_target = values.len() >= m && values[values.len() - m..].iter().all(|v| v.is_some_and(|v| v >= dec!(98)));
        let result = a.verify(t0, "gad", &kpi, &values, m);
        prop_assert_eq!(result.is_ok(), on_target);
        prop_assert_eq!(a.state == ActionState::Verified, on_target);
    }
}
