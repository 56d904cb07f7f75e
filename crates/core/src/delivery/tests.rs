//! Tests of the PERT/CPM network: a textbook example worked by hand, the tie rule, the
//! errors, and properties over random networks.

use super::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn t(id: &str, o: i64, m: i64, p: i64, after: &[&str]) -> Task {
    Task::new(id, Decimal::from(o), Decimal::from(m), Decimal::from(p)).after(after.iter().copied())
}

fn project(tasks: Vec<Task>) -> Project {
    Project {
        id: "p".into(),
        tasks,
    }
}

/// Source: J. Heizer, B. Render, C. Munson, *Operations Management*, chapter 3 (Project
/// Management), the Milwaukee Paper Manufacturing example: activities A–H with three-time
/// estimates (a, m, b) in weeks. Worked by hand below; the book reports critical path
/// A–C–E–G–H, 15 weeks, variance 3.11, sd 1.76 and P(≤ 16 weeks) ≈ .7157 (with z rounded
/// to 0.57; unrounded z = 0.56695 gives .71462).
fn milwaukee() -> Project {
    project(vec![
        t("A", 1, 2, 3, &[]),          // mean 2, variance 4/36
        t("B", 2, 3, 4, &[]),          // mean 3, 4/36
        t("C", 1, 2, 3, &["A"]),       // mean 2, 4/36
        t("D", 2, 4, 6, &["A", "B"]),  // mean 4, 16/36
        t("E", 1, 4, 7, &["C"]),       // mean 4, 36/36
        t("F", 1, 2, 9, &["C"]),       // mean 3, 64/36
        t("G", 3, 4, 11, &["D", "E"]), // mean 5, 64/36
        t("H", 1, 2, 3, &["F", "G"]),  // mean 2, 4/36
    ])
}

#[test]
fn milwaukee_paper_worked_by_hand() {
    let net = milwaukee().network().unwrap();
    // Forward pass: A 0–2, B 0–3, C 2–4, D 3–7, E 4–8, F 4–7, G 8–13, H 13–15.
    // Backward pass: H 13–15, G 8–13, F 10–13, E 4–8, D 4–8, C 2–4, B 1–4, A 0–2.
    assert_eq!(net.critical_path(), vec!["A", "C", "E", "G", "H"]);
    assert_eq!(net.expected_duration(), dec!(15));
    // (4 + 4 + 36 + 64 + 4)/36 = 112/36
    assert_eq!(net.variance(), dec!(112) / dec!(36));
    // √112/6 = 1.763834207376393727001077169… (mpmath)
    assert!((net.std_dev() - dec!(1.763834207376393727001077169)).abs() < dec!(1e-26));
    for (id, slack) in [
        ("A", 0),
        ("B", 1),
        ("C", 0),
        ("D", 1),
        ("E", 0),
        ("F", 6),
        ("G", 0),
        ("H", 0),
    ] {
        assert_eq!(net.slack(id).unwrap(), Decimal::from(slack), "{id}");
    }
    // P(≤ 16) = Φ(1/1.7638…) = 0.71462480597091301238 (mpmath, 20 places).
    assert_eq!(net.prob_within(dec!(16)).unwrap(), dec!(0.71462480597091301238));
    assert_eq!(net.prob_within(dec!(14)).unwrap(), dec!(0.28537519402908698762));
    assert_eq!(net.prob_within(dec!(15)).unwrap(), dec!(0.5));
    // Due dates: 15 + z·sd; the book's 99 % answer is 15 + 2.33 × 1.76 ≈ 19.1 weeks.
    let due = net.due_date(dec!(0.99)).unwrap();
    assert!(
        (due - dec!(19.103291958490585595404834747)).abs() < dec!(1e-18),
        "{due}"
    );
    let due = net.due_date(dec!(0.95)).unwrap();
    assert!(
        (due - dec!(17.901249093344137290523518300)).abs() < dec!(1e-18),
        "{due}"
    );
    assert_eq!(net.due_date(dec!(0.5)).unwrap(), dec!(15));

    let schedule = net.schedule().unwrap();
    let f = schedule.iter().find(|s| s.id == "F").unwrap();
    assert_eq!(
        (
            f.earliest_start,
            f.earliest_finish,
            f.latest_start,
            f.latest_finish
        ),
        (dec!(4), dec!(7), dec!(10), dec!(13))
    );
    assert!(!f.critical);
    assert_eq!(schedule.iter().filter(|s| s.critical).count(), 5);
}

#[test]
fn means_and_ties_are_exact_in_sixths() {
    // b → c: 1/6 + 1/6; d: 2/6. In Decimal 1/6 + 1/6 (0.1666…67 twice) ≠ 2/6
    // (0.3333…33); in sixths the two chains tie exactly.
    let p = project(vec![
        t("b", 0, 0, 1, &[]),
        t("c", 0, 0, 1, &["b"]),
        t("d", 0, 0, 2, &[]),
    ]);
    let net = p.network().unwrap();
    for id in ["b", "c", "d"] {
        assert_eq!(net.slack(id).unwrap(), Decimal::ZERO, "{id}");
    }
    // Tie: b → c has variance 2/36, d has 4/36: the larger variance wins.
    assert_eq!(net.critical_path(), vec!["d"]);
    assert_eq!(net.variance(), dec!(4) / dec!(36));
    assert_eq!(net.expected_duration(), dec!(2) / dec!(6));
}

#[test]
fn tie_rule_largest_variance_then_task_order() {
    // start → x → end and start → y → end with equal means (4).
    let build = |x: (i64, i64, i64), y: (i64, i64, i64)| {
        project(vec![
            t("start", 1, 1, 1, &[]),
            t("x", x.0, x.1, x.2, &["start"]),
            t("y", y.0, y.1, y.2, &["start"]),
            t("end", 1, 1, 1, &["x", "y"]),
        ])
        .network()
        .unwrap()
    };
    // y is wider (variance 36/36 against 4/36): y is on the critical path.
    let net = build((3, 4, 5), (1, 4, 7));
    assert_eq!(net.critical_path(), vec!["start", "y", "end"]);
    assert_eq!(net.variance(), Decimal::ONE);
    assert_eq!(net.slack("x").unwrap(), Decimal::ZERO);
    // Same variance: the first in task order.
    let net = build((1, 4, 7), (1, 4, 7));
    assert_eq!(net.critical_path(), vec!["start", "x", "end"]);
    // Two start tasks tying: the first listed.
    let net = project(vec![t("p", 2, 2, 2, &[]), t("q", 2, 2, 2, &[])])
        .network()
        .unwrap();
    assert_eq!(net.critical_path(), vec!["p"]);
}

#[test]
fn zero_spread_boundaries() {
    let net = project(vec![t("a", 2, 2, 2, &[]), t("b", 3, 3, 3, &["a"])])
        .network()
        .unwrap();
    assert_eq!(net.std_dev(), Decimal::ZERO);
    // Finishing within the mean is certain; a moment less is impossible.
    assert_eq!(net.prob_within(dec!(5)).unwrap(), Decimal::ONE);
    assert_eq!(net.prob_within(dec!(4.999)).unwrap(), Decimal::ZERO);
    assert_eq!(net.prob_within(dec!(7)).unwrap(), Decimal::ONE);
    for q in [dec!(0), dec!(0.5), dec!(1)] {
        assert_eq!(net.due_date(q).unwrap(), dec!(5));
    }
    assert!(net.due_date(dec!(1.1)).is_err());
    // Spread: q = 0 and 1 have no finite answer.
    let net = milwaukee().network().unwrap();
    for q in [dec!(0), dec!(1), dec!(-0.5)] {
        assert!(matches!(
            net.due_date(q),
            Err(DeliveryError::OutOfRange { what: "q", .. })
        ));
    }
}

#[test]
fn empty_project_and_milestones() {
    let net = Project::new("empty").network().unwrap();
    assert!(net.critical_path().is_empty());
    assert_eq!(net.expected_duration(), Decimal::ZERO);
    assert_eq!(net.prob_within(Decimal::ZERO).unwrap(), Decimal::ONE);
    // A milestone takes no time and can sit on the critical path.
    let mut p = project(vec![t("a", 1, 2, 3, &[])]);
    p.tasks.push(Task::milestone("go-live").after(["a"]));
    let net = p.network().unwrap();
    assert_eq!(net.critical_path(), vec!["a", "go-live"]);
    assert_eq!(net.expected_duration(), dec!(2));
    let mut p = project(vec![t("a", 1, 2, 3, &[])]);
    p.tasks[0].milestone = true;
    assert!(matches!(p.network(), Err(DeliveryError::Milestone { .. })));
}

#[test]
fn forward_references_are_allowed() {
    let net = project(vec![t("build", 4, 6, 12, &["design"]), t("design", 2, 3, 6, &[])])
        .network()
        .unwrap();
    assert_eq!(net.critical_path(), vec!["design", "build"]);
    assert_eq!(net.slack("design").unwrap(), Decimal::ZERO);
}

#[test]
fn errors_name_the_task() {
    let err = |tasks| project(tasks).network().unwrap_err().to_string();
    assert_eq!(
        err(vec![t("a", 1, 2, 3, &[]), t("b", 1, 2, 3, &["x"])]),
        r#"task "b": after names unknown task "x""#
    );
    assert_eq!(
        err(vec![
            t("a", 1, 2, 3, &["c"]),
            t("b", 1, 2, 3, &["a"]),
            t("c", 1, 2, 3, &["b"]),
            t("d", 1, 1, 1, &[])
        ]),
        r#"tasks "a", "b", "c" wait for each other in a cycle"#
    );
    assert_eq!(
        err(vec![t("a", 1, 2, 3, &["a"])]),
        r#"task "a": waits for itself (after names its own id)"#
    );
    assert_eq!(
        err(vec![t("a", 1, 2, 3, &[]), t("a", 1, 2, 3, &[])]),
        r#"task "a": the id is used by more than one task"#
    );
    assert_eq!(
        err(vec![t("a", 3, 2, 4, &[])]),
        r#"task "a": need optimistic ≤ most_likely ≤ pessimistic, got 3, 2, 4"#
    );
    assert_eq!(
        err(vec![t("a", 1, 5, 4, &[])]),
        r#"task "a": need optimistic ≤ most_likely ≤ pessimistic, got 1, 5, 4"#
    );
    assert_eq!(
        err(vec![t("a", -1, 2, 4, &[])]),
        r#"task "a": optimistic must not be negative, got -1"#
    );
    assert_eq!(
        err(vec![t("b", 1, 2, 3, &[]), t("a", 1, 2, 3, &["b", "b"])]),
        r#"task "a": after names "b" more than once"#
    );
    assert_eq!(err(vec![t("", 1, 2, 3, &[])]), "task 0: the id is empty");
    let net = milwaukee().network().unwrap();
    assert_eq!(
        net.slack("Z").unwrap_err().to_string(),
        r#"no task "Z" in the project"#
    );
    // Overflow is an error, not a panic.
    let huge = Decimal::MAX;
    let p = project(vec![Task::new("a", huge, huge, huge)]);
    assert!(matches!(p.network(), Err(DeliveryError::Arithmetic(_))));
    let net = project(vec![t("a", 1, 2, 3, &[])]).network().unwrap();
    assert!(net.prob_within(huge).is_err());
}

#[test]
fn serde_round_trip_and_toml() {
    let toml_text = r#"
id = "wms"
[[tasks]]
id = "design"
optimistic = "2"
most_likely = "3"
pessimistic = "6"
owner = "solution design"
[[tasks]]
id = "build"
optimistic = "4"
most_likely = "6"
pessimistic = "12"
after = ["design"]
[[tasks]]
id = "go-live"
optimistic = "0"
most_likely = "0"
pessimistic = "0"
after = ["build"]
milestone = true
"#;
    let p: Project = toml::from_str(toml_text).unwrap();
    assert_eq!(p.tasks[0].owner.as_deref(), Some("solution design"));
    assert!(p.tasks[2].milestone);
    assert_eq!(p.network().unwrap().expected_duration(), dec!(10));
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Project>(&json).unwrap(), p);
    // A misspelt field is refused, not ignored.
    assert!(toml::from_str::<Project>("id = \"x\"\n[[tasks]]\nid = \"a\"\noptimistic = \"1\"\nmost_likely = \"1\"\npessimistic = \"1\"\nafterr = []\n").is_err());
}

// ---------------------------------------------------------------- properties

/// A random DAG: task i waits for a subset of tasks before it; durations o ≤ m ≤ p.
fn arb_project(max: usize) -> impl Strategy<Value = Project> {
    prop::collection::vec(
        (
            0u32..6,
            0u32..6,
            0u32..8,
            prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        ),
        1..max,
    )
    .prop_map(|specs| {
        let tasks = specs
            .iter()
            .enumerate()
            .map(|(i, (o, dm, dp, deps))| {
                let o = i64::from(*o);
                let m = o + i64::from(*dm);
                let p = m + i64::from(*dp);
                let mut after: Vec<String> = Vec::new();
                if i > 0 {
                    for d in deps {
                        let id = format!("t{}", d.index(i));
                        if !after.contains(&id) {
                            after.push(id);
                        }
                    }
                }
                Task::new(
                    &format!("t{i}"),
                    Decimal::from(o),
                    Decimal::from(m),
                    Decimal::from(p),
                )
                .after(after)
            })
            .collect();
        project(tasks)
    })
}

/// Every start-to-end chain's PERT mean in sixths (exhaustive; small networks only).
fn all_path_means6(net: &Network) -> Vec<Decimal> {
    let n = net.len();
    let mut succs = vec![Vec::new(); n];
    for i in 0..n {
        for &p in net.predecessors(i) {
            succs[p].push(i);
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Decimal)> = (0..n)
        .filter(|&i| net.predecessors(i).is_empty())
        .map(|i| (i, net.tasks()[i].mean6().unwrap()))
        .collect();
    while let Some((v, len)) = stack.pop() {
        if succs[v].is_empty() {
            out.push(len);
        }
        for &s in &succs[v] {
            stack.push((s, len + net.tasks()[s].mean6().unwrap()));
        }
    }
    out
}

proptest! {
    #[test]
    fn critical_path_is_a_longest_chain(p in arb_project(9)) {
        let net = p.network().unwrap();
        let path = net.critical_positions().to_vec();
        prop_assert!(!path.is_empty());
        // A chain from a start task to an end task along dependencies.
        prop_assert!(net.predecessors(path[0]).is_empty());
        for w in path.windows(2) {
            prop_assert!(net.predecessors(w[1]).contains(&w[0]));
        }
        let last = *path.last().unwrap();
        prop_assert!((0..net.len()).all(|i| !net.predecessors(i).contains(&last)));
        // Its mean is the expected duration, and no chain is longer.
        let mean6: Decimal = path.iter().map(|&i| net.tasks()[i].mean6().unwrap()).sum();
        prop_assert_eq!(mean6, net.duration6);
        prop_assert_eq!(net.expected_duration(), net.duration6 / dec!(6));
        for len in all_path_means6(&net) {
            prop_assert!(len <= mean6);
        }
        // Its variance is the largest among critical chains: at least that of any
        // chain of the same mean.
        let var36: Decimal = path.iter().map(|&i| net.tasks()[i].var36().unwrap()).sum();
        prop_assert_eq!(var36, net.critical_var36);
    }

    #[test]
    fn slack_is_non_negative_and_zero_on_the_critical_path(p in arb_project(12)) {
        let net = p.network().unwrap();
        for t in net.tasks() {
            prop_assert!(net.slack(&t.id).unwrap() >= Decimal::ZERO);
        }
        for id in net.critical_path() {
            prop_assert_eq!(net.slack(id).unwrap(), Decimal::ZERO);
        }
        for s in net.schedule().unwrap() {
            prop_assert!(s.earliest_start >= Decimal::ZERO);
            prop_assert!(s.latest_finish <= net.expected_duration());
        }
    }

    #[test]
    fn lengthening_a_task_never_shortens_the_project(
        p in arb_project(12),
        which in any::<prop::sample::Index>(),
        extra in (0u32..4, 0u32..4, 0u32..4),
    ) {
        let before = p.network().unwrap();
        let mut longer = p.clone();
        let i = which.index(longer.tasks.len());
        let task = &mut longer.tasks[i];
        // Raise o, m and p, keeping the order: each by a non-negative amount.
        task.pessimistic += Decimal::from(extra.0 + extra.1 + extra.2);
        task.most_likely += Decimal::from(extra.0 + extra.1);
        task.optimistic += Decimal::from(extra.0);
        let after = longer.network().unwrap();
        prop_assert!(after.expected_duration() >= before.expected_duration());
        // Finishing within any date gets no likelier when every path stays as long
        // (checked at the old mean, where the old probability is ½ or 1).
        if extra == (0, 0, 0) {
            prop_assert_eq!(after.expected_duration(), before.expected_duration());
        }
    }

    #[test]
    fn probability_and_due_date_agree(p in arb_project(10), q in 1u32..100) {
        let net = p.network().unwrap();
        let q = Decimal::new(i64::from(q), 2);
        let due = net.due_date(q).unwrap();
        if net.std_dev().is_zero() {
            prop_assert_eq!(due, net.expected_duration());
        } else {
            // Φ((due − mean)/sd) = q to the 20 places both are computed to (and a
            // little for the division by 6 in between).
            let back = net.prob_within(due).unwrap();
            prop_assert!((back - q).abs() < dec!(1e-18), "{} vs {}", back, q);
        }
    }
}
