//! Alerts to resolution (issue #18): one alert per problem at every level, routed to an
//! owner, linked to its action plan, escalated by policy; a six-period scenario from red
//! to verified; the sample's figures; bad alerts.toml and actions.toml input located at
//! file:line:column.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use kam_account::plugins::Plugins;
use kam_account::views::{self, AlertState};
use kam_account::{Account, Source};
use kam_core::metrics::ActionState;

const ACCOUNT: &str = r#"id = "acme"
name = "Acme Motors"
service_lines = ["warehousing"]

[[nodes]]
id = "global"
name = "Acme global"
level = "global"

[[nodes]]
id = "emea"
name = "EMEA"
level = "region"
parent = "global"

[[nodes]]
id = "de"
name = "Germany"
level = "country"
parent = "emea"

[[nodes]]
id = "leipzig"
name = "Leipzig plant"
level = "site"
parent = "de"

[[nodes]]
id = "bremen"
name = "Bremen DC"
level = "site"
parent = "de"
"#;

const STAKEHOLDERS: &str = r#"[[our_people]]
id = "ad"
name = "Julia Brenner"
role = "global account director"

[[our_people]]
id = "am-emea"
name = "Matthias Roth"
role = "regional account manager EMEA"

[[our_people]]
id = "ops-emea"
name = "Olga Berger"
role = "operations director EMEA"
"#;

const ALERTS: &str = r#"grace_periods = 1
verify_periods = 2
fallback = "ad"

[families]
service = ["otif_order_commit", "damage_ppm"]

[[route]]
kpis = ["service"]
level = "site"
owner = "ops-emea"

[[route]]
nodes = ["emea"]
owner = "am-emea"

[sla_hours]
S2 = 48

[[escalate]]
min_severity = "S2"
severity = "S2"
"#;

/// On-time orders out of 1000 at Leipzig, month by month (Bremen stays at 995).
const LEIPZIG: [u32; 6] = [995, 900, 910, 995, 996, 997];

/// The account as it stands at the end of month `k` (1-based): data through that month,
/// and actions.toml as the team keeps it.
fn month(k: usize, actions: &str) -> Account {
    let mut csv = String::from("node,period,kpi,numerator,denominator\n");
    for (i, v) in LEIPZIG.iter().enumerate().take(k) {
        let p = format!("2026-{:02}", i + 1);
        csv.push_str(&format!("leipzig,{p},otif_order_commit,{v},1000\n"));
        csv.push_str(&format!("bremen,{p},otif_order_commit,995,1000\n"));
    }
    let last_day = ["31", "28", "31", "30", "31", "30"][k - 1];
    let files: BTreeMap<String, String> = [
        ("kam.toml", format!("as_of = \"2026-{k:02}-{last_day}\"\n")),
        ("account.toml", ACCOUNT.to_owned()),
        ("stakeholders.toml", STAKEHOLDERS.to_owned()),
        ("alerts.toml", ALERTS.to_owned()),
        ("kpi_observations.csv", csv),
        ("actions.toml", actions.to_owned()),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b))
    .collect();
    Account::load(Source::Memory(files)).unwrap()
}

fn plan(state: &str) -> String {
    format!(
        r#"[[action]]
id = "AP-1"
title = "Recover Leipzig OTIF"
node = "leipzig"
kpi = "otif_order_commit"
owner = "ops-emea"
due = "2026-05-31"
state = "{state}"
"#
    )
}

#[test]
fn six_periods_from_red_to_verified_with_an_escalation_opened_and_closed() {
    let id = "leipzig/otif_order_commit/2026-02";
    let esc = format!("esc/{id}");
    let view = |k: usize, actions: &str| views::alerts(&month(k, actions), &Plugins::none()).unwrap();

    // Month 1: all green, nothing raised.
    let v = view(1, "");
    assert!(v.alerts.is_empty() && v.escalations.is_empty(), "{v:#?}");

    // Month 2: Leipzig red. One alert per level, owned; the site's escalation opened by
    // policy and shared by the levels its figure pulls red; no plan yet, within grace.
    let v = view(2, "");
    let a = v.alerts.iter().find(|a| a.id == id).expect("site alert");
    assert_eq!(a.state, AlertState::Owned);
    assert_eq!(a.owner.as_deref(), Some("ops-emea"));
    assert_eq!(a.escalation.as_deref(), Some(esc.as_str()));
    assert!(!a.no_action_plan, "within the grace period");
    let levels: BTreeSet<&str> = v.open().map(|a| a.node.as_str()).collect();
    assert_eq!(levels, BTreeSet::from(["leipzig", "de", "emea", "global"]));
    let owners: BTreeMap<&str, &str> = v
        .open()
        .map(|a| (a.node.as_str(), a.owner.as_deref().unwrap()))
        .collect();
    assert_eq!(
        owners["global"], "ad",
        "nodes = [emea] does not take global: the fallback"
    );
    assert_eq!(owners["emea"], "am-emea");
    assert!(v.open().all(|a| a.escalation.as_deref() == Some(esc.as_str())));
    assert_eq!(v.escalations.len(), 1);
    assert!(v.escalations[0].open);

    // Month 3: still red, no plan: flagged past the grace period.
    let v = view(3, "");
    let a = v.alerts.iter().find(|a| a.id == id).unwrap();
    assert!(a.no_action_plan);
    // …and with the plan opened, acted on (also the levels above).
    let v = view(3, &plan("in_progress"));
    let a = v.alerts.iter().find(|a| a.id == id).unwrap();
    assert_eq!(a.state, AlertState::ActedOn);
    assert_eq!(a.action.as_deref(), Some("AP-1"));
    assert!(
        v.open()
            .all(|a| a.action.as_deref() == Some("AP-1") && !a.no_action_plan)
    );

    // Month 4: green again, and the owner types the plan verified at once. The alert
    // closed and its escalation was resolved, but one green period does not verify the
    // plan: it stays acted on, the plan resolved (claimed), not verified.
    let v = view(4, &plan("verified"));
    let a = v.alerts.iter().find(|a| a.id == id).unwrap();
    assert_eq!(a.closed.as_deref(), Some("2026-04"));
    assert_eq!(a.state, AlertState::ActedOn);
    let ap = v.actions.iter().find(|x| x.id == "AP-1").expect("not verified");
    assert_eq!(ap.status, ActionState::Resolved);
    assert!(ap.contradicted);
    assert_eq!(ap.on_target, 1);
    let e = &v.escalations[0];
    assert!(!e.open && e.resolved.is_some(), "{e:#?}");

    // Month 5: two green periods: verified by the data, the alert resolved.
    let v = view(5, &plan("verified"));
    let a = v.alerts.iter().find(|a| a.id == id).unwrap();
    assert_eq!(a.state, AlertState::Resolved);
    assert!(v.actions.iter().all(|x| x.id != "AP-1"));
    assert_eq!(v.open().count(), 0);
    // Month 6: stays resolved; the alert's id never changed.
    let v = view(6, &plan("verified"));
    assert_eq!(
        v.alerts.iter().find(|a| a.id == id).unwrap().state,
        AlertState::Resolved
    );
}

#[test]
fn the_sample_one_alert_per_problem_owned_flagged_and_judged_by_the_data() {
    let account = Account::sample().unwrap();
    let v = views::alerts(&account, &Plugins::none()).unwrap();
    let mut keys = BTreeSet::new();
    for a in v.open() {
        assert!(
            keys.insert((a.node.clone(), a.kpi.clone())),
            "two open alerts for {a:?}"
        );
        assert!(a.owner.is_some(), "{} has no owner", a.id);
    }
    // Tianjin's cost-to-serve: four reasons, one alert.
    let t = v
        .open()
        .find(|a| a.id.starts_with("tianjin/cost_to_serve_pct/"))
        .unwrap();
    assert_eq!(t.reasons.len(), 4);
    assert!(
        v.open()
            .any(|a| matches!(a.node.as_str(), "global" | "emea" | "americas" | "apac" | "china"))
    );
    // Puebla's line stoppages: red, no plan — flagged, and linked to the file's S1.
    let p = v
        .open()
        .find(|a| a.id.starts_with("puebla/line_stoppages/"))
        .unwrap();
    assert!(p.no_action_plan);
    assert_eq!(p.escalation.as_deref(), Some("ESC-0412"));
    // AP-2026-022 is typed verified while Tianjin's cost-to-serve is red: not resolved.
    let ap = v.actions.iter().find(|a| a.id == "AP-2026-022").unwrap();
    assert_eq!(ap.state, ActionState::Verified);
    assert_eq!(ap.status, ActionState::Resolved);
    assert!(ap.contradicted);
    assert_eq!(t.action.as_deref(), Some("AP-2026-022"));
}

fn load_err(file: &str, text: &str) -> String {
    let mut f: BTreeMap<String, String> = [
        ("kam.toml", "as_of = \"2026-06-30\"\n"),
        ("account.toml", ACCOUNT),
        ("stakeholders.toml", STAKEHOLDERS),
        ("alerts.toml", ALERTS),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    f.insert(file.to_owned(), text.to_owned());
    Account::load(Source::Memory(f)).unwrap_err().to_string()
}

#[test]
fn bad_input_is_an_error_at_file_line_column() {
    let e = load_err(
        "alerts.toml",
        &ALERTS.replace("owner = \"am-emea\"", "owner = \"nobody\""),
    );
    assert!(
        e.starts_with("alerts.toml:15:9: field `owner`: unknown owner \"nobody\""),
        "{e}"
    );
    let e = load_err(
        "alerts.toml",
        &ALERTS.replace("service = [\"otif_order_commit\"", "service = [\"otif\""),
    );
    assert!(
        e.starts_with("alerts.toml:6:12: field `families`: family service: unknown KPI \"otif\""),
        "{e}"
    );
    let e = load_err(
        "alerts.toml",
        &ALERTS.replace("kpis = [\"service\"]", "kpis = [\"servise\"]"),
    );
    assert!(
        e.starts_with("alerts.toml:9:9: field `kpis`: unknown KPI \"servise\""),
        "{e}"
    );
    let e = load_err(
        "alerts.toml",
        &ALERTS.replace("nodes = [\"emea\"]", "nodes = [\"asia\"]"),
    );
    assert!(
        e.starts_with("alerts.toml:14:10: field `nodes`: unknown account node \"asia\""),
        "{e}"
    );
    let e = load_err(
        "alerts.toml",
        &ALERTS.replace("grace_periods = 1", "grace_periods = -1"),
    );
    assert!(
        e.starts_with("alerts.toml:1:17: field `grace_periods`: -1 periods"),
        "{e}"
    );
    let e = load_err("alerts.toml", &ALERTS.replace("S2 = 48", "S2 = 0"));
    assert!(e.starts_with("alerts.toml:18:6: field `S2`"), "{e}");
    let e = load_err(
        "actions.toml",
        "[[escalation]]\nid = \"E\"\ntitle = \"t\"\nseverity = \"S1\"\nopened = \"2026-06-01T06:40:00\"\n",
    );
    assert!(
        e.starts_with(
            "actions.toml:5:10: field `opened`: \"2026-06-01T06:40:00\" has no time zone: add its UTC offset"
        ),
        "{e}"
    );
}
