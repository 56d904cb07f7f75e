//! Plan validation and diff on a generated plan with 5,000 objectives (target ≤ 50 ms each).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "support/account.rs"]
mod support;

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use kam::core::Decimal;
use kam::core::account::{Account, AccountNode, BuyingCentre, NodeLevel, ServiceLine};
use kam::core::money::{Currency, Money};
use kam::core::plan::{
    Action, Goal, Measure, Objective, Period, Plan, Priority, Status, Target, TargetValue, ValidationContext,
    WhitespaceCell,
};

const REGIONS: usize = 5;
const COUNTRIES_PER_REGION: usize = 4;
const SITES_PER_COUNTRY: usize = 5;
const GOALS: usize = 50;
const OBJECTIVES_PER_GOAL: usize = 100;
const ACTIONS_PER_OBJECTIVE: usize = 2;

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + Days::new(n)
}

fn account() -> Account {
    let nodes = support::tree(REGIONS, COUNTRIES_PER_REGION, SITES_PER_COUNTRY);
    let buying_centres = support::ids_at(&nodes, NodeLevel::Country)
        .into_iter()
        .map(|country| BuyingCentre {
            id: format!("bc-{country}"),
            name: country.clone(),
            node: country,
            service_lines: ServiceLine::STANDARD.to_vec(),
        })
        .collect();
    Account {
        id: "oem".into(),
        name: "OEM".into(),
        nodes,
        service_lines: ServiceLine::STANDARD.to_vec(),
        buying_centres,
    }
}

fn eur(x: i64) -> Money {
    Money::new(Decimal::from(x), Currency::from_code("EUR").unwrap())
}

fn plan(account: &Account) -> Plan {
    let mut p = Plan::new("oem-2027", "oem", "Generated plan");
    p.last_reviewed = Some(day(30));
    p.vision = "Lead partner".into();
    let sites: Vec<&AccountNode> = account
        .nodes
        .iter()
        .filter(|n| n.level == NodeLevel::Site)
        .collect();
    let mut k = 0usize;
    for g in 0..GOALS {
        let mut objectives = Vec::with_capacity(OBJECTIVES_PER_GOAL);
        for _ in 0..OBJECTIVES_PER_GOAL {
            let node = &sites[k % sites.len()].id;
            let actions = (0..ACTIONS_PER_OBJECTIVE)
                .map(|a| Action {
                    id: format!("a{k}-{a}"),
                    title: format!("action {a} of objective {k}"),
                    owner: Some(format!("owner{}", k % 37)),
                    due: Some(day(60 + (k % 200) as u64)),
                    status: if k.is_multiple_of(5) {
                        Status::Done
                    } else {
                        Status::InProgress
                    },
                    priority: Priority::Medium,
                    updated: Some(day(20)),
                    measure: None,
                })
                .collect();
            objectives.push(Objective {
                id: format!("o{k}"),
                title: format!("objective {k}"),
                node: node.clone(),
                owner: (!k.is_multiple_of(97)).then(|| format!("owner{}", k % 41)),
                due: Some(day(300)),
                status: Status::InProgress,
                priority: Priority::High,
                measure: Some(Measure {
                    kpi: format!("kpi{}", k % 20),
                    target: Decimal::new(985, 1),
                    current: Some(Decimal::new(970 + (k % 20) as i64, 1)),
                    node: None,
                    period: None,
                }),
                stakeholders: vec![format!("s{}", k % 1000), format!("s{}", (k * 7) % 1000)],
                actions,
            });
            k += 1;
        }
        p.goals.push(Goal {
            id: format!("g{g}"),
            title: format!("goal {g}"),
            supports: vec![],
            objectives,
        });
    }
    // Monthly revenue targets per site, and annual ones per region and for the account.
    let mut t = 0usize;
    for s in &sites {
        for m in 0..12u32 {
            let start = NaiveDate::from_ymd_opt(2027, m + 1, 1).unwrap();
            let end = NaiveDate::from_ymd_opt(2027 + i32::from(m == 11), (m + 1) % 12 + 1, 1).unwrap()
                - Days::new(1);
            p.targets.push(Target {
                id: format!("t{t}"),
                node: s.id.clone(),
                period: Period::new(start, end),
                value: TargetValue::Revenue(eur(100_000)),
            });
            t += 1;
        }
    }
    let year = Period::new(day(0), day(364));
    for n in account.nodes.iter().filter(|n| n.level <= NodeLevel::Region) {
        p.targets.push(Target {
            id: format!("t{t}"),
            node: n.id.clone(),
            period: year,
            value: TargetValue::Revenue(eur(if n.level == NodeLevel::Global {
                50_000_000
            } else {
                10_000_000
            })),
        });
        t += 1;
    }
    for c in &account.buying_centres {
        for line in ServiceLine::STANDARD {
            p.whitespace.push(WhitespaceCell {
                buying_centre: c.id.clone(),
                offering: line,
                potential: eur(1_000_000),
                current: eur(300_000),
                won: eur(100_000),
            });
        }
    }
    p
}

fn changed(p: &Plan) -> Plan {
    let mut q = p.clone();
    for (i, g) in q.goals.iter_mut().enumerate() {
        for (j, o) in g.objectives.iter_mut().enumerate() {
            if (i + j).is_multiple_of(10) {
                o.status = Status::Done;
                if let Some(m) = o.measure.as_mut() {
                    m.current = Some(Decimal::new(990, 1));
                }
                o.stakeholders.push("s-new".into());
            }
            if let Some(a) = o.actions.first_mut()
                && j.is_multiple_of(7)
            {
                a.status = Status::Done;
            }
        }
        g.objectives.truncate(95);
    }
    q.goals[0].objectives.push(Objective {
        id: "o-new".into(),
        actions: vec![],
        ..p.goals[0].objectives[0].clone()
    });
    q.targets.truncate(q.targets.len() - 3);
    q.whitespace[0].won = eur(200_000);
    q
}

fn bench(c: &mut Criterion) {
    let account = account();
    let p = plan(&account);
    let q = changed(&p);
    let ctx = ValidationContext::new(day(59))
        .with_account(&account)
        .unwrap()
        .with_stakeholders((0..1000).map(|i| format!("s{i}")))
        .with_kpis((0..20).map(|i| format!("kpi{i}")));
    assert_eq!(p.objectives().count(), 5_000);
    let findings = p.validate(&ctx);
    assert!(!findings.is_empty());
    let diff = p.diff(&q).unwrap();
    assert!(diff.objectives.len() > 250);
    eprintln!(
        "plan: {} objectives, {} actions, {} targets, {} whitespace cells; {} findings; diff {} items",
        p.objectives().count(),
        p.actions().count(),
        p.targets.len(),
        p.whitespace.len(),
        findings.len(),
        diff.len()
    );

    let mut group = c.benchmark_group("plan_5000_objectives");
    group.sample_size(20);
    group.bench_function("validate", |b| {
        b.iter(|| black_box(black_box(&p).validate(black_box(&ctx))))
    });
    group.bench_function("diff", |b| {
        b.iter(|| black_box(black_box(&p).diff(black_box(&q)).unwrap()))
    });
    group.bench_function("diff_identical", |b| {
        b.iter(|| black_box(black_box(&p).diff(black_box(&p)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
