//! kam-account's integration tests: loading, linking and `kam check` on a minimal
//! account held in memory. Every check across files has a test that trips it with one
//! edit of the minimal account, which itself trips none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use kam_account::check::{self, CODES, Finding};
use kam_account::{Account, AccountError, Source, views};
use rust_decimal_macros::dec;

const KAM: &str = r#"as_of = "2026-11-20"
growth_start = "2027-01"
"#;

const ACCOUNT: &str = r#"id = "acme"
name = "Acme Motors"
service_lines = ["warehousing", "aftermarket"]

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
id = "bremen"
name = "Bremen aftermarket DC"
level = "site"
parent = "de"

[[buying_centres]]
id = "emea-logistics"
name = "EMEA logistics"
node = "emea"
service_lines = ["warehousing", "aftermarket"]
"#;

const STAKEHOLDERS: &str = r#"[[people]]
id = "brandt"
name = "Thomas Brandt"
title = "VP Logistics"
region = "emea"
function = "logistics"
buying_role = "decision_maker"
power = "high"
support = "supporter"
last_contact = "2026-11-01"
buying_centres = ["emea-logistics"]

[[people]]
id = "okafor"
name = "Ngozi Okafor"
title = "Category Manager"
region = "emea"
function = "procurement"
buying_role = "evaluator"
power = "medium"
support = "mentor"
last_contact = "2026-11-10"

[[our_people]]
id = "ad"
name = "Julia Brenner"
role = "global account director"

[[our_people]]
id = "am-emea"
name = "Matthias Roth"
role = "regional account manager EMEA"

[[coverage]]
ours = "ad"
theirs = "brandt"
level = "trusted_advisor"

[[coverage]]
ours = "am-emea"
theirs = "okafor"
level = "problem_solver"
"#;

const PLAN: &str = r#"id = "acme-fy2027"
account = "acme"
name = "Acme plan"
last_reviewed = "2026-10-14"
vision = "Lead partner"
regional_managers = { emea = "am-emea" }

[[goals]]
id = "g-base"
title = "Protect the base"

[[goals.objectives]]
id = "o-otif"
title = "OTIF above target"
node = "emea"
owner = "am-emea"
due = "2027-03-31"
status = "in_progress"
priority = "high"
measure = { kpi = "otif_order_commit", target = "98.5" }

[[goals.objectives.actions]]
id = "a-otif-1"
title = "Root-cause review"
owner = "ad"
due = "2027-01-31"
status = "in_progress"
priority = "high"
updated = "2026-11-10"

[[targets]]
id = "rev-2027-emea"
node = "emea"
period = { start = "2027-01-01", end = "2027-12-31" }
value = { revenue = { amount = "1200000", currency = "EUR" } }

[[targets]]
id = "rev-2027-global"
node = "global"
period = { start = "2027-01-01", end = "2027-12-31" }
value = { revenue = { amount = "1200000", currency = "EUR" } }

[[whitespace]]
buying_centre = "emea-logistics"
offering = "aftermarket"
potential = { amount = "2000000", currency = "EUR" }
current = { amount = "1000000", currency = "EUR" }
won = { amount = "0", currency = "EUR" }
"#;

const PRICING: &str = r#"node = "bremen"
service_line = "aftermarket"
period = "2026-10"

[volumes]
pick_line = "100000"

[baseline]
currency = "EUR"
rounding = { mode = "half_up", level = "line" }

[[baseline.activities]]
activity = "pick_line"
unit = "line"
schedule = { type = "flat", rate = "0.70" }

[proposal]
currency = "EUR"
rounding = { mode = "half_up", level = "line" }

[[proposal.activities]]
activity = "pick_line"
unit = "line"
schedule = { type = "flat", rate = "0.68" }

[cost_model]
currency = "EUR"

[[cost_model.activities]]
activity = "pick_line"
variable_per_unit = "0.50"
dedicated_fixed = "5000"
allocated_overhead = "1000"
"#;

const NEGOTIATION: &str = r#"price_issue = "price_per_pick_line"
min_margin_pct = "8"
seller_power = "0.5"
levels_per_range = 3

[[space.issues]]
name = "price_per_pick_line"
kind = "unit_price"
domain = { type = "range", min = "0.60", max = "0.70" }

[[space.issues]]
name = "term_years"
kind = "contract_term"
domain = { type = "options", values = ["3", "5"] }

[space.seller]
name = "Us"
reservation_utility = "0.3"
criteria = [
    { issue = "price_per_pick_line", weight = "0.7", value = { shape = "linear", worst = "0.60", best = "0.70" } },
    { issue = "term_years", weight = "0.3", value = { shape = "linear", worst = "3", best = "5" } },
]

[space.buyer]
name = "Them"
reservation_utility = "0.3"
criteria = [
    { issue = "price_per_pick_line", weight = "0.8", value = { shape = "linear", worst = "0.70", best = "0.60" } },
    { issue = "term_years", weight = "0.2", value = { shape = "linear", worst = "5", best = "3" } },
]
"#;

const GROWTH: &str = r#"name = "acme"
currency = "EUR"
horizon_months = 12
service_lines = ["warehousing", "aftermarket"]
regions = ["emea"]

[volume_index]
drift = "0"
volatility = "0.01"

[[base_book]]
service_line = "aftermarket"
site = "Bremen"
region = "emea"
monthly_revenue = "100000"
monthly_loss_hazard = "0.001"
annual_escalation = "0.02"
volume_exposure = "0.5"
margin_pct = "6"

[[opportunity]]
name = "Bremen extension"
service_line = "warehousing"
region = "emea"
win_probability = "0.5"
value = { kind = "fixed", value = "120000" }
start_month = 2
ramp_up_months = 1
margin_pct = "8"
volume_exposure = "0.5"
"#;

const OBSERVATIONS: &str = "node,period,kpi,numerator,denominator
bremen,2026-10,otif_order_commit,990,1000
bremen,2026-11,otif_order_commit,992,1000
bremen,2026-10,damage_ppm,10,100000
bremen,2026-11,damage_ppm,12,100000
";

const SCORECARD: &str = r#"name = "Acme QBR"
review = "qbr"
cap = "1.10"
na_policy = "redistribute"

[[groups]]
name = "Service"
weight = "1"
measures = [
    { kpi = "otif_order_commit", weight = "1", method = "linear_band" },
]

[grading]
kind = "rag"
bands = [
    { name = "Red", upper = { value = "0.85", inclusive = false } },
    { name = "Amber", lower = { value = "0.85", inclusive = true }, upper = { value = "0.95", inclusive = false } },
    { name = "Green", lower = { value = "0.95", inclusive = true } },
]
"#;

const ACTIONS: &str = r#"[[action]]
id = "AP-1"
title = "Damage review"
node = "bremen"
kpi = "damage_ppm"
owner = "am-emea"
due = "2026-12-15"
state = "open"

[[escalation]]
id = "ESC-1"
node = "bremen"
title = "Late trucks"
severity = "S3"
opened = "2026-11-14T09:00:00+01:00"
"#;

const DELIVERY: &str = r#"[[people]]
id = "am-emea"
function = "account_management"
capacity_days_per_month = "20"

[[people]]
id = "ad"
function = "management"
capacity_days_per_month = "2"

[[project]]
id = "bremen-ext"
name = "Bremen extension"
deal = "Bremen extension"
objectives = ["o-otif"]
owner = "am-emea"
start = "2027-01-04"
committed = "2027-06-30"
go_live = "go-live"
task = [
  { id = "design", optimistic = "1", most_likely = "2", pessimistic = "3", owner = "am-emea", effort_days = "3" },
  { id = "setup", optimistic = "2", most_likely = "3", pessimistic = "5", after = ["design"], owner = "am-emea", effort_days = "4" },
  { id = "go-live", milestone = true, after = ["setup"] },
]

[[assignment]]
person = "am-emea"
escalation = "ESC-1"
days_per_month = "1"
from = "2027-08-16"
until = "2027-09-30"

[[assignment]]
person = "am-emea"
objective = "o-otif"
days_per_month = "2"
from = "2027-01-01"
until = "2027-03-31"
role = "consulted"
"#;

fn files() -> BTreeMap<String, String> {
    [
        ("kam.toml", KAM),
        ("account.toml", ACCOUNT),
        ("stakeholders.toml", STAKEHOLDERS),
        ("plan.toml", PLAN),
        ("pricing.toml", PRICING),
        ("negotiation.toml", NEGOTIATION),
        ("growth.toml", GROWTH),
        ("kpi_observations.csv", OBSERVATIONS),
        ("scorecard.toml", SCORECARD),
        ("actions.toml", ACTIONS),
        ("delivery.toml", DELIVERY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn load(files: BTreeMap<String, String>) -> Account {
    Account::load(Source::Memory(files)).unwrap()
}

/// The findings of the checks across files (the plan's own findings left out).
fn cross(account: &Account) -> Vec<Finding> {
    check::check(account)
        .unwrap()
        .into_iter()
        .filter(|f| CODES.iter().any(|(c, _)| *c == f.code))
        .collect()
}

/// The minimal account with `from` replaced by `to` in `file` (`from` must be there).
fn edited(file: &str, from: &str, to: &str) -> Account {
    let mut f = files();
    let text = f.get_mut(file).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    *text = text.replacen(from, to, 1);
    load(f)
}

/// The edit trips `code`, naming `file`; the minimal account does not trip it.
fn trips(code: &str, file: &str, from: &str, to: &str) -> Finding {
    assert!(
        CODES.iter().any(|(c, _)| *c == code),
        "{code} is not a declared code"
    );
    assert!(
        !cross(&load(files())).iter().any(|f| f.code == code),
        "the minimal account trips {code}"
    );
    let found = cross(&edited(file, from, to));
    let hit = found.iter().find(|f| f.code == code).cloned();
    let hit = hit.unwrap_or_else(|| panic!("{code} not tripped; got {found:#?}"));
    assert_eq!(hit.file, file, "{hit:?}");
    assert!(hit.line >= 1);
    hit
}

#[test]
fn the_minimal_account_loads_and_trips_no_check_across_files() {
    let a = load(files());
    assert_eq!(cross(&a), Vec::<Finding>::new());
    // Linked: the growth target came from the plan, the measure tracks the KPI.
    assert_eq!(a.growth_targets.len(), 1);
    assert_eq!(a.growth_targets[0].revenue, dec!(1200000));
    assert_eq!(
        a.growth_targets[0].plan_target.as_deref(),
        Some("rev-2027-global")
    );
    assert_eq!(a.growth.as_ref().unwrap().targets[0].revenue, dec!(1200000));
    assert_eq!(
        check::observed(&a, "otif_order_commit", "emea", None),
        Some(dec!(99.2))
    );
}

#[test]
fn every_declared_code_has_a_test_here() {
    let me = include_str!("account.rs");
    for (code, _) in CODES {
        assert!(
            me.contains(&format!("\"{code}\"")),
            "{code} has no trip test in this file"
        );
    }
}

#[test]
fn region_unmapped_also_when_every_person_leaves() {
    let mut f = files();
    let s = f.get_mut("stakeholders.toml").unwrap();
    *s = s.replace("region = \"emea\"", "region = \"global\"");
    let found = cross(&load(f));
    let emea: Vec<_> = found.iter().filter(|x| x.code == "region-unmapped").collect();
    assert!(
        emea.iter().any(|x| x.message.starts_with("region emea")),
        "{found:#?}"
    );
    assert!(
        emea.iter().any(|x| x.message.starts_with("country de")),
        "{found:#?}"
    );
    assert!(emea.iter().all(|x| x.file == "stakeholders.toml"));
}

#[test]
fn region_uncovered() {
    let mut f = files();
    let s = f.get_mut("stakeholders.toml").unwrap();
    let cut = s.find("[[coverage]]").unwrap();
    s.truncate(cut);
    let found = cross(&load(f));
    assert!(found.iter().any(|x| x.code == "region-uncovered"), "{found:#?}");
    trips(
        "region-uncovered",
        "stakeholders.toml",
        "[[coverage]]\nours = \"ad\"\ntheirs = \"brandt\"\nlevel = \"trusted_advisor\"\n\n[[coverage]]\nours = \"am-emea\"\ntheirs = \"okafor\"\nlevel = \"problem_solver\"\n",
        "",
    );
}

#[test]
fn region_single_threaded() {
    trips(
        "region-single-threaded",
        "stakeholders.toml",
        "ours = \"am-emea\"\ntheirs = \"okafor\"",
        "ours = \"ad\"\ntheirs = \"okafor\"",
    );
}

#[test]
fn proposal_below_floor() {
    let f = trips(
        "proposal-below-floor",
        "pricing.toml",
        "variable_per_unit = \"0.50\"",
        "variable_per_unit = \"0.60\"",
    );
    assert!(f.message.contains("8 % floor"), "{f:?}");
    assert_eq!(
        f.line,
        PRICING.lines().position(|l| l == "[proposal]").unwrap() + 1
    );
}

#[test]
fn proposal_rate_below_walk_away() {
    // Full cost 0.50 + 6,000 / 100,000 = 0.56 a line; at 8 % the walk-away is 0.6087.
    let f = trips(
        "proposal-rate-below-walk-away",
        "pricing.toml",
        "schedule = { type = \"flat\", rate = \"0.68\" }",
        "schedule = { type = \"flat\", rate = \"0.60\" }",
    );
    assert!(f.message.contains("0.6087"), "{f:?}");
}

#[test]
fn growth_target_differs_from_the_plan_and_the_plan_wins() {
    let f = trips(
        "growth-target-differs",
        "growth.toml",
        "[[opportunity]]",
        "[[target]]\nyear = 1\nrevenue = \"1300000\"\n\n[[opportunity]]",
    );
    assert!(f.message.contains("rev-2027-global"), "{f:?}");
    let a = edited(
        "growth.toml",
        "[[opportunity]]",
        "[[target]]\nyear = 1\nrevenue = \"1300000\"\n\n[[opportunity]]",
    );
    assert_eq!(a.growth.unwrap().targets[0].revenue, dec!(1200000));
}

#[test]
fn growth_target_duplicate() {
    trips(
        "growth-target-duplicate",
        "growth.toml",
        "[[opportunity]]",
        "[[target]]\nyear = 1\nrevenue = \"1200000\"\n\n[[opportunity]]",
    );
}

#[test]
fn a_growth_target_the_plan_lacks_is_used_as_typed() {
    let a = edited(
        "plan.toml",
        "id = \"rev-2027-global\"\nnode = \"global\"",
        "id = \"rev-2027-global\"\nnode = \"emea\"",
    );
    assert!(a.growth_targets.is_empty());
    let mut f = files();
    f.get_mut("plan.toml").unwrap().push_str("");
    let g = f.get_mut("growth.toml").unwrap();
    *g = g.replace(
        "[[opportunity]]",
        "[[target]]\nyear = 1\nrevenue = \"7\"\n\n[[opportunity]]",
    );
    let p = f.get_mut("plan.toml").unwrap();
    *p = p.replace(
        "id = \"rev-2027-global\"\nnode = \"global\"",
        "id = \"rev-2027-global\"\nnode = \"emea\"",
    );
    let a = load(f);
    assert_eq!(a.growth_targets[0].plan_target, None);
    assert_eq!(a.growth.unwrap().targets[0].revenue, dec!(7));
}

#[test]
fn revenue_targets_mismatch() {
    trips(
        "revenue-targets-mismatch",
        "plan.toml",
        "value = { revenue = { amount = \"1200000\", currency = \"EUR\" } }\n\n[[targets]]\nid = \"rev-2027-global\"",
        "value = { revenue = { amount = \"1100000\", currency = \"EUR\" } }\n\n[[targets]]\nid = \"rev-2027-global\"",
    );
}

#[test]
fn measure_drift() {
    let f = trips(
        "measure-drift",
        "plan.toml",
        "target = \"98.5\" }",
        "target = \"98.5\", current = \"97.0\" }",
    );
    assert!(f.message.contains("99.20"), "{f:?}");
    // Within the tolerance (0.05 by default) it is not a finding.
    let a = edited(
        "plan.toml",
        "target = \"98.5\" }",
        "target = \"98.5\", current = \"99.22\" }",
    );
    assert!(!cross(&a).iter().any(|f| f.code == "measure-drift"));
}

#[test]
fn measure_untracked() {
    trips(
        "measure-untracked",
        "plan.toml",
        "kpi = \"otif_order_commit\", target",
        "kpi = \"order_accuracy\", target",
    );
}

#[test]
fn action_closed_while_red() {
    // 9,000 ppm damage at bremen is red whatever the standard thresholds.
    let mut f = files();
    let o = f.get_mut("kpi_observations.csv").unwrap();
    *o = o.replace(
        "bremen,2026-11,damage_ppm,12,100000",
        "bremen,2026-11,damage_ppm,900,100000",
    );
    let base = load(f.clone());
    assert!(!cross(&base).iter().any(|x| x.code == "action-closed-while-red"));
    let a = f.get_mut("actions.toml").unwrap();
    *a = a.replace("state = \"open\"", "state = \"verified\"");
    let found = cross(&load(f));
    let hit = found
        .iter()
        .find(|x| x.code == "action-closed-while-red")
        .expect("tripped");
    assert_eq!(hit.file, "actions.toml");
    assert_eq!(hit.severity, check::FindingSeverity::Error);
}

#[test]
fn red_kpi_without_action() {
    let mut f = files();
    let o = f.get_mut("kpi_observations.csv").unwrap();
    *o = o.replace(
        "bremen,2026-11,otif_order_commit,992,1000",
        "bremen,2026-11,otif_order_commit,900,1000",
    );
    let found = cross(&load(f.clone()));
    let hit = found
        .iter()
        .find(|x| x.code == "red-kpi-without-action")
        .expect("tripped");
    assert_eq!(hit.file, "kpi_observations.csv");
    assert_eq!(hit.line, 3);
    assert!(
        hit.message.contains("at bremen"),
        "one problem, reported at its site: {found:#?}"
    );
    assert_eq!(
        found
            .iter()
            .filter(|x| x.code == "red-kpi-without-action")
            .count(),
        1
    );
    // An open plan for it (at the site) answers it.
    let a = f.get_mut("actions.toml").unwrap();
    *a = a.replace("kpi = \"damage_ppm\"", "kpi = \"otif_order_commit\"");
    assert!(!cross(&load(f)).iter().any(|x| x.code == "red-kpi-without-action"));
}

#[test]
fn owner_unknown_in_the_plan_and_the_action_plans() {
    let f = trips(
        "owner-unknown",
        "plan.toml",
        "owner = \"am-emea\"",
        "owner = \"someone\"",
    );
    assert!(f.message.contains("objective o-otif"), "{f:?}");
    trips(
        "owner-unknown",
        "actions.toml",
        "owner = \"am-emea\"",
        "owner = \"Ana (site)\"",
    );
}

#[test]
fn key_player_stale_with_a_configurable_limit() {
    let f = trips(
        "key-player-stale",
        "stakeholders.toml",
        "last_contact = \"2026-11-01\"",
        "last_contact = \"2026-01-01\"",
    );
    assert!(f.message.contains("brandt"), "{f:?}");
    let mut files = files();
    *files.get_mut("kam.toml").unwrap() = format!("{KAM}[check]\ncontact_days = 400\n");
    let s = files.get_mut("stakeholders.toml").unwrap();
    *s = s.replace("last_contact = \"2026-11-01\"", "last_contact = \"2026-01-01\"");
    assert!(!cross(&load(files)).iter().any(|x| x.code == "key-player-stale"));
}

#[test]
fn key_player_enemy() {
    trips(
        "key-player-enemy",
        "stakeholders.toml",
        "support = \"supporter\"",
        "support = \"enemy\"",
    );
}

#[test]
fn deal_unknown_region_and_service_line() {
    // growth.toml itself refuses a deal outside its `regions`; the list is checked
    // against account.toml.
    trips(
        "deal-unknown-region",
        "growth.toml",
        "regions = [\"emea\"]",
        "regions = [\"emea\", \"mars\"]",
    );
    trips(
        "deal-unknown-service-line",
        "growth.toml",
        "service_lines = [\"warehousing\", \"aftermarket\"]\nregions",
        "service_lines = [\"warehousing\", \"aftermarket\", \"rail\"]\nregions",
    );
}

#[test]
fn deal_unknown_service_line_of_a_deal() {
    let a = edited(
        "account.toml",
        "service_lines = [\"warehousing\", \"aftermarket\"]",
        "service_lines = [\"aftermarket\"]",
    );
    let found = cross(&a);
    let hit = found
        .iter()
        .find(|f| f.code == "deal-unknown-service-line" && f.message.contains("Bremen extension"))
        .expect("tripped for the deal");
    assert_eq!(hit.file, "growth.toml");
}

#[test]
fn base_book_unknown_site() {
    trips(
        "base-book-unknown-site",
        "growth.toml",
        "site = \"Bremen\"",
        "site = \"Atlantis\"",
    );
}

#[test]
fn reference_unknown_everywhere_it_can_point() {
    trips(
        "reference-unknown",
        "stakeholders.toml",
        "buying_centres = [\"emea-logistics\"]",
        "buying_centres = [\"nowhere\"]",
    );
    trips(
        "reference-unknown",
        "pricing.toml",
        "node = \"bremen\"",
        "node = \"hamburg\"",
    );
    trips(
        "reference-unknown",
        "actions.toml",
        "node = \"bremen\"\nkpi",
        "node = \"hamburg\"\nkpi",
    );
    trips(
        "reference-unknown",
        "actions.toml",
        "kpi = \"damage_ppm\"",
        "kpi = \"happiness\"",
    );
    trips(
        "reference-unknown",
        "plan.toml",
        "regional_managers = { emea = \"am-emea\" }",
        "regional_managers = { emea = \"am-emea\", asia = \"am-emea\" }",
    );
}

#[test]
fn whitespace_unpriceable() {
    trips(
        "whitespace-unpriceable",
        "plan.toml",
        "offering = \"aftermarket\"",
        "offering = \"warehousing\"",
    );
}

#[test]
fn scorecard_kpi_no_data() {
    trips(
        "scorecard-kpi-no-data",
        "scorecard.toml",
        "{ kpi = \"otif_order_commit\"",
        "{ kpi = \"order_accuracy\"",
    );
}

#[test]
fn region_without_manager() {
    trips(
        "region-without-manager",
        "plan.toml",
        "regional_managers = { emea = \"am-emea\" }",
        "regional_managers = {}",
    );
}

#[test]
fn findings_serialize_with_exactly_the_documented_fields() {
    let a = edited(
        "pricing.toml",
        "variable_per_unit = \"0.50\"",
        "variable_per_unit = \"0.60\"",
    );
    let json = serde_json::to_value(check::check(&a).unwrap()).unwrap();
    for f in json.as_array().unwrap() {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec!["code", "severity", "file", "line", "message"];
        if f.get("path").is_some() {
            want.push("path");
        }
        let mut got = keys.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }
}

#[test]
fn bad_input_is_an_error_at_its_place_never_a_panic() {
    let mut f = files();
    let o = f.get_mut("kpi_observations.csv").unwrap();
    *o = o.replace("bremen,2026-11,damage_ppm", "nowhere,2026-11,damage_ppm");
    let e = Account::load(Source::Memory(f)).unwrap_err().to_string();
    assert!(e.starts_with("kpi_observations.csv:5:1: field `node`"), "{e}");

    let mut f = files();
    f.insert("plan.toml".into(), "id = 3\n".into());
    let e = Account::load(Source::Memory(f)).unwrap_err().to_string();
    assert!(e.starts_with("plan.toml:1:"), "{e}");

    let mut f = files();
    f.remove("kam.toml");
    let e = Account::load(Source::Memory(f)).unwrap_err();
    assert!(matches!(e, AccountError::Missing { .. }), "{e}");

    let mut f = files();
    f.remove("pricing.toml");
    let a = load(f);
    let e = views::price(&a, None, &kam_account::plugins::Plugins::none()).unwrap_err();
    assert_eq!(e.to_string(), "pricing.toml: not found (pricing needs it)");
}

#[test]
fn computed_kpis_come_from_the_cost_model_and_volumes() {
    let mut f = files();
    f.insert(
        "kpis.toml".into(),
        "[[computed]]\nkpi = \"cost_to_serve_pct\"\nfrom = \"cost_to_serve\"\n".into(),
    );
    let a = load(f.clone());
    // cost: 100,000 × 0.50 + 5,000 + 1,000 = 56,000 on 70,000 billed = 80 %.
    assert_eq!(
        check::observed(&a, "cost_to_serve_pct", "bremen", Some("2026-10")),
        Some(dec!(80))
    );
    // Typed and computed for the same cell: an error naming both places.
    let o = f.get_mut("kpi_observations.csv").unwrap();
    o.push_str("bremen,2026-10,cost_to_serve_pct,1,2\n");
    let e = Account::load(Source::Memory(f)).unwrap_err().to_string();
    assert!(e.starts_with("kpis.toml:1:1: field `computed`"), "{e}");
    assert!(e.contains("kpi_observations.csv:6"), "{e}");
}

#[test]
fn the_sample_loads_links_and_keeps_its_documented_findings() {
    let a = Account::sample().unwrap();
    let targets: Vec<_> = a.growth_targets.iter().map(|t| (t.year, t.revenue)).collect();
    assert_eq!(
        targets,
        vec![(1, dec!(105100000)), (2, dec!(113500000)), (3, dec!(122000000))]
    );
    let found = check::check(&a).unwrap();
    for code in [
        "proposal-below-floor",
        "action-closed-while-red",
        "red-kpi-without-action",
        "measure-drift",
        "owner-unknown",
        "region-single-threaded",
        "key-player-enemy",
    ] {
        assert!(
            found.iter().any(|f| f.code == code),
            "sample lost its {code} finding"
        );
    }
    assert!(
        !found
            .iter()
            .any(|f| f.code == "growth-target-differs" || f.code == "region-unmapped")
    );
}

// ---------------------------------------------------------------- delivery

#[test]
fn a_delivery_project_is_linked_to_its_growth_deal() {
    let a = load(files());
    let g = a.growth.as_ref().unwrap();
    assert_eq!(g.projects.len(), 1);
    let p = &g.projects[0];
    assert_eq!(
        (p.name.as_str(), p.deal.as_str()),
        ("bremen-ext", "Bremen extension")
    );
    // 2027-01-04 is 3/31 of a month after growth_start 2027-01.
    assert_eq!(p.start_month, dec!(3) / dec!(31));
    let r = views::delivery(&a, 2_000, 1).unwrap();
    assert!(r.projects[0].feeds_growth && !r.projects[0].late);
    assert_eq!(r.projects[0].critical_path, ["design", "setup", "go-live"]);
}

#[test]
fn project_deal_unknown() {
    let f = trips(
        "project-deal-unknown",
        "delivery.toml",
        "deal = \"Bremen extension\"",
        "deal = \"Nowhere\"",
    );
    assert!(f.message.contains("bremen-ext"), "{f:?}");
}

#[test]
fn project_objective_unknown() {
    trips(
        "project-objective-unknown",
        "delivery.toml",
        "objectives = [\"o-otif\"]",
        "objectives = [\"o-nope\"]",
    );
}

#[test]
fn delivery_person_unknown() {
    trips(
        "delivery-person-unknown",
        "delivery.toml",
        "id = \"ad\"",
        "id = \"temp\"",
    );
}

#[test]
fn critical_task_unowned() {
    let f = trips(
        "critical-task-unowned",
        "delivery.toml",
        "owner = \"am-emea\", effort_days = \"4\"",
        "effort_days = \"4\"",
    );
    assert!(f.message.contains("setup"), "{f:?}");
}

#[test]
fn person_overloaded() {
    let f = trips(
        "person-overloaded",
        "delivery.toml",
        "capacity_days_per_month = \"20\"",
        "capacity_days_per_month = \"1\"",
    );
    assert!(f.message.contains("am-emea in 2027-01"), "{f:?}");
}

#[test]
fn project_late() {
    let f = trips(
        "project-late",
        "delivery.toml",
        "committed = \"2027-06-30\"",
        "committed = \"2027-01-20\"",
    );
    assert!(f.message.contains("bremen-ext"), "{f:?}");
}

#[test]
fn assignment_target_unknown() {
    let f = trips(
        "assignment-target-unknown",
        "delivery.toml",
        "escalation = \"ESC-1\"",
        "escalation = \"ESC-9\"",
    );
    assert!(
        f.message.contains("ESC-9") && f.message.contains("actions.toml"),
        "{f:?}"
    );
    let f = trips(
        "assignment-target-unknown",
        "delivery.toml",
        "objective = \"o-otif\"",
        "objective = \"o-gone\"",
    );
    assert!(
        f.message.contains("o-gone") && f.message.contains("plan.toml"),
        "{f:?}"
    );
}

/// Assignments load their person (prorated by calendar day) and put them in the
/// objective's RACI; the objective's owner in plan.toml is accountable.
#[test]
fn assignments_load_people_and_fill_the_objectives_raci() {
    let a = load(files());
    let r = views::delivery(&a, 1_000, 7).unwrap();
    let am = r.load.iter().find(|p| p.person == "am-emea").unwrap();
    let months: Vec<(&str, rust_decimal::Decimal)> = am
        .months
        .iter()
        .filter(|m| m.month.as_str() >= "2027-08")
        .map(|m| (m.month.as_str(), m.days))
        .collect();
    // 16 of August's 31 days at 1 a month, then all of September (no task then).
    assert_eq!(months, [("2027-08", dec!(0.52)), ("2027-09", dec!(1))]);
    let raci = r.objectives.iter().find(|o| o.objective == "o-otif").unwrap();
    assert_eq!(raci.projects, ["bremen-ext"]);
    assert!(raci.title.is_some());
    let plan_owner = a.plan.as_ref().unwrap().goals[0].objectives[0].owner.clone();
    assert!(plan_owner.is_some());
    assert_eq!(raci.raci.accountable, plan_owner);
    // am-emea owns the project's tasks: responsible; the consulted assignment does not
    // list them a second time.
    assert!(raci.raci.responsible.contains(&"am-emea".to_owned()), "{raci:?}");
    assert!(!raci.raci.consulted.contains(&"am-emea".to_owned()), "{raci:?}");
    // An assignment alone can overload: 25 days a month against a capacity of 20.
    let mut f = files();
    let d = f.get_mut("delivery.toml").unwrap();
    *d = d.replacen("days_per_month = \"1\"", "days_per_month = \"25\"", 1);
    let r = views::delivery(&load(f), 1_000, 7).unwrap();
    let over = r
        .overloads
        .iter()
        .find(|o| o.person == "am-emea" && o.month == "2027-09")
        .unwrap();
    assert_eq!(over.assignments, ["escalation ESC-1"]);
    assert!(over.projects.is_empty());
    // ad owns the objective's plan action: responsible, and an informed assignment does
    // not demote them.
    assert!(raci.raci.responsible.contains(&"ad".to_owned()), "{raci:?}");
    let mut f = files();
    let d = f.get_mut("delivery.toml").unwrap();
    *d = d.replacen("person = \"am-emea\"\nobjective", "person = \"ad\"\nobjective", 1);
    *d = d.replacen("role = \"consulted\"", "role = \"informed\"", 1);
    let r = views::delivery(&load(f), 1_000, 7).unwrap();
    let raci = &r
        .objectives
        .iter()
        .find(|o| o.objective == "o-otif")
        .unwrap()
        .raci;
    assert!(
        raci.responsible.contains(&"ad".to_owned()) && raci.informed.is_empty(),
        "{raci:?}"
    );
}

/// Bad assignments are errors at delivery.toml:line:col.
#[test]
fn bad_assignments_are_errors_at_their_place() {
    let line_of = |needle: &str| DELIVERY.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases = [
        (
            "person = \"am-emea\"",
            "person = \"temp\"",
            "not one of [[people]]",
        ),
        ("days_per_month = \"1\"", "days_per_month = \"0\"", "more than 0"),
        ("until = \"2027-09-30\"", "until = \"2027-08-01\"", "before from"),
        (
            "escalation = \"ESC-1\"",
            "escalation = \"ESC-1\"\nobjective = \"o-otif\"",
            "not both",
        ),
    ];
    for (from, to, says) in cases {
        let mut f = files();
        let d = f.get_mut("delivery.toml").unwrap();
        *d = d.replacen(from, to, 1);
        let e = Account::load(Source::Memory(f)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("delivery.toml:{}:", line_of(from))), "{e}");
        assert!(e.contains(says), "{e}");
    }
}

/// Bad delivery input is an error at delivery.toml:line:col naming the task.
#[test]
fn bad_delivery_input_is_an_error_at_its_place_naming_the_task() {
    let setup_line = DELIVERY
        .lines()
        .position(|l| l.contains("id = \"setup\""))
        .unwrap()
        + 1;
    let cases = [
        (
            "after = [\"design\"]",
            "after = [\"nowhere\"]",
            "unknown task \"nowhere\"",
        ),
        (
            "owner = \"am-emea\", effort_days = \"4\"",
            "owner = \"bob\", effort_days = \"4\"",
            "\"bob\"",
        ),
        (
            "optimistic = \"2\", most_likely = \"3\"",
            "optimistic = \"4\", most_likely = \"3\"",
            "optimistic ≤ most_likely",
        ),
        (
            "optimistic = \"2\", most_likely = \"3\"",
            "optimistic = \"-2\", most_likely = \"3\"",
            "must not be negative",
        ),
        ("after = [\"design\"]", "after = [\"go-live\"]", "cycle"),
    ];
    for (from, to, says) in cases {
        let mut f = files();
        let d = f.get_mut("delivery.toml").unwrap();
        assert!(d.contains(from), "{from}");
        *d = d.replacen(from, to, 1);
        let e = Account::load(Source::Memory(f)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("delivery.toml:{setup_line}:")), "{e}");
        assert!(e.contains(says), "{e}");
        assert!(
            e.contains("\"setup\"") || e.contains("\"go-live\""),
            "names the task: {e}"
        );
    }
}

/// The sample's late project (Leipzig NX): `kam delivery` shows it late and its owner
/// overloaded, and making its pessimistic durations 3× longer lowers the simulated
/// year-1 revenue P50.
#[test]
fn the_samples_late_project_moves_the_growth_forecast() {
    let a = Account::sample().unwrap();
    let r = views::delivery(&a, 10_000, 42).unwrap();
    let late: Vec<_> = r
        .projects
        .iter()
        .filter(|p| p.late)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(late, ["leipzig-nx"]);
    let owner = r.projects[0].raci.accountable.clone().unwrap();
    assert!(r.overloads.iter().any(|o| o.person == owner), "{:?}", r.overloads);
    assert_eq!(a.growth.as_ref().unwrap().projects.len(), 3);
    // One WMS release shared by the two NX projects.
    let shared: Vec<_> = a
        .growth
        .as_ref()
        .unwrap()
        .projects
        .iter()
        .filter(|p| !p.shared.is_empty())
        .collect();
    assert_eq!(shared.len(), 2);

    let plugins = kam_account::plugins::Plugins::none();
    let y1 = |a: &Account| {
        views::growth(a, 20_000, 7, &plugins).unwrap().years[0]
            .revenue
            .p50
    };
    let before = y1(&a);
    // The same account with the late project's pessimistic durations tripled, edited in
    // its delivery.toml.
    let mut files: BTreeMap<String, String> = a.texts().clone();
    let text = files.get_mut("delivery.toml").unwrap();
    let (head, rest) = text.split_once("id = \"leipzig-nx\"").unwrap();
    let (project, tail) = rest.split_once("[[project]]").unwrap();
    let mut tripled = String::new();
    for piece in project
        .split("pessimistic = \"")
        .enumerate()
        .map(|(i, s)| (i, s.to_owned()))
    {
        match piece {
            (0, s) => tripled.push_str(&s),
            (_, s) => {
                let (n, after) = s.split_once('"').unwrap();
                let n: rust_decimal::Decimal = n.parse().unwrap();
                tripled.push_str(&format!("pessimistic = \"{}\"{after}", n * dec!(3)));
            }
        }
    }
    *text = format!("{head}id = \"leipzig-nx\"{tripled}[[project]]{tail}");
    let stretched = Account::load(Source::Memory(files)).unwrap();
    let after = y1(&stretched);
    assert!(after < before, "year-1 P50 {after} not below {before}");
    let r = views::delivery(&stretched, 10_000, 42).unwrap();
    assert!(r.projects[0].late && r.projects[0].p90 > r.projects[0].committed);
}

// ---- The stakeholder map from a CRM export (kam.toml `[import.*]`) ----

/// kam.toml importing contacts, relations and coverage with CRM-style headers.
const KAM_IMPORT: &str = r#"as_of = "2026-11-20"
growth_start = "2027-01"

[import.people]
file = "crm/contacts.csv"
id = "Contact ID"
name = "Full Name"
buying_role = "Role"
support = "Attitude"
values = { "Champion" = "mentor" }

[import.relations]
file = "crm/relations.csv"
kind = "Type"
weight = "Strength"

[import.coverage]
file = "crm/coverage.csv"
"#;

const CONTACTS: &str = "Contact ID,Full Name,title,region,function,Role,power,Attitude,last_contact
# a CRM export: comments and blank lines are skipped

weber,Anna Weber,EVP Production,emea,production,Decision Maker,high,Neutral,2026-10-01
lang,Maria Lang,Planner,emea,supply_chain,User,low,Champion,
";

const RELATIONS: &str = "Type,from,to,Strength
reports to,lang,weber,
Influences,okafor,weber,0.4
";

const COVERAGE: &str = "ours,theirs,level
am-emea,weber,Credible Source
";

fn import_files() -> BTreeMap<String, String> {
    let mut f = files();
    f.insert("kam.toml".into(), KAM_IMPORT.into());
    f.insert("crm/contacts.csv".into(), CONTACTS.into());
    f.insert("crm/relations.csv".into(), RELATIONS.into());
    f.insert("crm/coverage.csv".into(), COVERAGE.into());
    f
}

/// The import files with `from` replaced by `to` in `file`.
fn import_edited(file: &str, from: &str, to: &str) -> BTreeMap<String, String> {
    let mut f = import_files();
    let text = f.get_mut(file).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    *text = text.replacen(from, to, 1);
    f
}

/// The error loading, or else analysing, the stakeholder map.
fn import_error(files: BTreeMap<String, String>) -> String {
    match Account::load(Source::Memory(files)) {
        Err(e) => e.to_string(),
        Ok(a) => views::stakeholders(&a).map(|_| ()).unwrap_err().to_string(),
    }
}

#[test]
fn a_crm_export_joins_stakeholders_toml_in_one_map() {
    let a = load(import_files());
    let map = a.stakeholders.as_ref().unwrap();
    let ids: Vec<&str> = map.people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["brandt", "okafor", "weber", "lang"],
        "TOML first, then the export"
    );
    let lang = &map.people[3];
    assert_eq!(
        lang.support,
        kam_core::stakeholders::Support::Mentor,
        "mapped CRM word"
    );
    assert_eq!(lang.last_contact, None);
    assert_eq!(lang.title, "Planner");
    assert_eq!(
        map.people[2].buying_role,
        kam_core::stakeholders::BuyingRole::DecisionMaker
    );
    assert_eq!(map.relations.len(), 2);
    assert_eq!(map.coverage.len(), 3);
    let report = views::stakeholders(&a).unwrap();
    assert_eq!(report.people, 4);
    // Findings about an imported person point at its row in the export.
    let place = a.person_place("weber");
    assert_eq!(
        (place.file.as_str(), place.line, place.column),
        ("crm/contacts.csv", 4, 1)
    );
    let place = a.person_place("okafor");
    assert_eq!((place.file.as_str(), place.line), ("stakeholders.toml", 14));
}

#[test]
fn crm_import_errors_name_file_line_column_and_field() {
    let cases: [(&str, &str, &str, &str); 11] = [
        // An unknown person in a relation (found by the graph, placed at the row).
        (
            "crm/relations.csv",
            "okafor,weber",
            "okafor,webber",
            "crm/relations.csv:3:3: field `to`",
        ),
        // A weight ≤ 0.
        (
            "crm/relations.csv",
            "weber,0.4",
            "weber,0",
            "crm/relations.csv:3:4: field `weight`",
        ),
        (
            "crm/relations.csv",
            "weber,0.4",
            "weber,-0.2",
            "crm/relations.csv:3:4: field `weight`",
        ),
        // A row with the wrong number of fields.
        (
            "crm/relations.csv",
            "weber,0.4",
            "weber",
            "crm/relations.csv:3:4:",
        ),
        (
            "crm/coverage.csv",
            "Credible Source",
            "Credible Source,extra",
            "crm/coverage.csv:2:4:",
        ),
        // A mapped column the header does not have.
        (
            "crm/contacts.csv",
            "Attitude",
            "Stance",
            "crm/contacts.csv:1:1: field `support`",
        ),
        // A value the CRM words do not map.
        (
            "crm/contacts.csv",
            "Neutral",
            "Lukewarm",
            "crm/contacts.csv:4:8: field `support`",
        ),
        // A date that is not one.
        (
            "crm/contacts.csv",
            "2026-10-01",
            "01.10.2026",
            "crm/contacts.csv:4:9: field `last_contact`",
        ),
        // Duplicate id within the export.
        (
            "crm/contacts.csv",
            "lang,Maria",
            "weber,Maria",
            "crm/contacts.csv:5:1: field `id`",
        ),
        // A person both in stakeholders.toml and the export.
        (
            "crm/contacts.csv",
            "lang,Maria",
            "okafor,Maria",
            "crm/contacts.csv:5:1: field `id`",
        ),
        // A mapping field kam does not know.
        (
            "kam.toml",
            "support = \"Attitude\"",
            "supprt = \"Attitude\"",
            "kam.toml:9:1: field `supprt`",
        ),
    ];
    for (file, from, to, want) in cases {
        let err = import_error(import_edited(file, from, to));
        assert!(
            err.starts_with(want),
            "{file}: {from:?} → {to:?}\n  got:  {err}\n  want: {want}"
        );
    }
    let both = import_error(import_edited("crm/contacts.csv", "lang,Maria", "okafor,Maria"));
    assert!(both.contains("first at stakeholders.toml:14"), "{both}");
    // The whole messages of the mapping and header errors.
    let cases = [
        (
            "crm/contacts.csv",
            "Attitude",
            "Stance",
            "crm/contacts.csv:1:1: field `support`: no column \"Attitude\" in the header (mapped in kam.toml \
             [import.people]); the columns are: \"Contact ID\", \"Full Name\", \"title\", \"region\", \
             \"function\", \"Role\", \"power\", \"Stance\", \"last_contact\"",
        ),
        (
            "crm/coverage.csv",
            "ours,theirs,level",
            "ours,theirs,grade",
            "crm/coverage.csv:1:1: field `level`: no column \"level\" in the header (kam's own name; map it in \
             kam.toml [import.coverage]); the columns are: \"ours\", \"theirs\", \"grade\"",
        ),
        (
            "kam.toml",
            "support = \"Attitude\"",
            "supprt = \"Attitude\"",
            "kam.toml:9:1: field `supprt`: [import.people] has no field \"supprt\": its fields are id, name, title, \
             region, function, buying_role, power, support, last_contact, buying_centres (plus file, sheet, values)",
        ),
        (
            "crm/relations.csv",
            "weber,0.4",
            "weber",
            "crm/relations.csv:3:4: the row has 3 fields, the header has 4",
        ),
    ];
    for (file, from, to, want) in cases {
        let err = import_error(import_edited(file, from, to));
        assert_eq!(err, want, "{file}: {from:?} → {to:?}");
    }
}

#[test]
fn a_reports_to_cycle_across_toml_and_export_is_placed_at_its_row() {
    let f = import_edited(
        "crm/relations.csv",
        "Influences,okafor,weber,0.4",
        "reports_to,weber,lang,",
    );
    let err = import_error(f);
    assert!(err.starts_with("crm/relations.csv:"), "{err}");
    assert!(err.contains("reports-to cycle"), "{err}");
    // The same cycle written in stakeholders.toml is placed there, at the relation.
    let mut f = files();
    let text = f.get_mut("stakeholders.toml").unwrap();
    text.push_str(
        "\n[[relations]]\nkind = \"reports_to\"\nfrom = \"brandt\"\nto = \"okafor\"\n\n\
         [[relations]]\nkind = \"reports_to\"\nfrom = \"okafor\"\nto = \"brandt\"\n",
    );
    let err = import_error(f);
    assert!(
        err.starts_with("stakeholders.toml:46:1: field `relations[0].from`"),
        "{err}"
    );
    assert!(err.contains("brandt → okafor → brandt"), "{err}");
}

#[test]
fn an_unknown_person_in_stakeholders_toml_is_placed_at_its_relation() {
    let mut f = files();
    let text = f.get_mut("stakeholders.toml").unwrap();
    text.push_str(
        "\n[[relations]]\nkind = \"influences\"\nfrom = \"brandt\"\nto = \"nobody\"\nweight = \"0.5\"\n",
    );
    let err = import_error(f);
    assert!(
        err.starts_with("stakeholders.toml:47:1: field `relations[0].to`"),
        "{err}"
    );
}

mod map_forms {
    //! The same stakeholder map read three ways — the toml crate, kam's fast reader of
    //! stakeholders.toml, and a CSV export — gives the same records.
    use super::*;
    use kam_core::stakeholders::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,6}"
    }

    fn text() -> impl Strategy<Value = String> {
        // Commas, quotes and backslashes: what CSV quoting and TOML escapes must carry.
        "[A-Za-z ,.\"\\\\é-]{1,12}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    fn map() -> impl Strategy<Value = StakeholderMap> {
        (1usize..12, 1usize..4).prop_flat_map(|(n, m)| {
            let person = (
                text(),
                text(),
                0usize..4,
                0usize..3,
                0usize..5,
                proptest::option::of(0u32..300),
                proptest::collection::vec(id(), 0..3),
            );
            (
                proptest::collection::vec(person, n),
                proptest::collection::vec(text(), m),
                proptest::collection::vec((0..n, 0..n, 0usize..3, 1i64..=100), 0..20),
                proptest::collection::vec((0..m, 0..n, 0usize..4), 0..10),
            )
                .prop_map(move |(people, ours, relations, coverage)| {
                    let mut map = StakeholderMap::default();
                    for (i, (name, title, role, power, support, contact, centres)) in
                        people.into_iter().enumerate()
                    {
                        let mut p = Person::new(
                            &format!("p{i}"),
                            &name,
                            "emea",
                            "logistics",
                            BuyingRole::ALL[role],
                            [PoliticalPower::Low, PoliticalPower::Medium, PoliticalPower::High][power],
                            [
                                Support::Enemy,
                                Support::NonSupporter,
                                Support::Neutral,
                                Support::Supporter,
                                Support::Mentor,
                            ][support],
                        );
                        p.title = title;
                        p.last_contact = contact.and_then(|d| {
                            chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
                                .and_then(|s| s.checked_add_days(chrono::Days::new(u64::from(d))))
                        });
                        p.buying_centres = centres;
                        map.people.push(p);
                    }
                    for (j, name) in ours.into_iter().enumerate() {
                        map.our_people
                            .push(OurPerson::new(&format!("o{j}"), &name, "account manager"));
                    }
                    for (a, b, kind, w) in relations {
                        let (from, to) = (format!("p{a}"), format!("p{b}"));
                        map.relations.push(match kind {
                            0 => Relation::ReportsTo { from, to },
                            1 => Relation::Influences {
                                from,
                                to,
                                weight: rust_decimal::Decimal::new(w, 2),
                            },
                            _ => Relation::ConflictsWith { from, to },
                        });
                    }
                    let levels = [
                        RelationshipLevel::Vendor,
                        RelationshipLevel::CredibleSource,
                        RelationshipLevel::ProblemSolver,
                        RelationshipLevel::TrustedAdvisor,
                    ];
                    for (o, t, l) in coverage {
                        map.coverage
                            .push(Coverage::new(&format!("o{o}"), &format!("p{t}"), levels[l]));
                    }
                    map
                })
        })
    }

    fn csv_field(s: &str) -> String {
        if s.contains([',', '"', '\n']) || s.starts_with('#') {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }

    fn word<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
    }

    /// The map as a CRM export with CRM words ("Decision Maker") and the kam.toml
    /// that maps it.
    fn as_export(map: &StakeholderMap) -> BTreeMap<String, String> {
        let crm = |w: String| {
            w.split('_')
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut people = String::from(
            "Contact ID,Full Name,Job Title,region,function,buying_role,power,support,last_contact,buying_centres\n",
        );
        for p in &map.people {
            let row = [
                csv_field(&p.id),
                csv_field(&p.name),
                csv_field(&p.title),
                p.region.clone(),
                p.function.clone(),
                crm(word(&p.buying_role)),
                crm(word(&p.power)),
                crm(word(&p.support)),
                p.last_contact.map(|d| d.to_string()).unwrap_or_default(),
                p.buying_centres.join(";"),
            ];
            people.push_str(&row.join(","));
            people.push('\n');
        }
        let mut ours = String::from("id,name,role\n");
        for o in &map.our_people {
            ours.push_str(&format!(
                "{},{},{}\n",
                o.id,
                csv_field(&o.name),
                csv_field(&o.role)
            ));
        }
        let mut relations = String::from("kind,from,to,weight\n");
        for r in &map.relations {
            let (from, to) = r.ends();
            let weight = match r {
                Relation::Influences { weight, .. } => weight.to_string(),
                _ => String::new(),
            };
            relations.push_str(&format!("{},{from},{to},{weight}\n", crm(r.kind().to_owned())));
        }
        let mut coverage = String::from("ours,theirs,level\n");
        for c in &map.coverage {
            coverage.push_str(&format!("{},{},{}\n", c.ours, c.theirs, crm(word(&c.level))));
        }
        let kam = "as_of = \"2026-11-20\"\n\n[import.people]\nfile = \"people.csv\"\nid = \"Contact ID\"\n\
                   name = \"Full Name\"\ntitle = \"Job Title\"\n\n[import.our_people]\nfile = \"ours.csv\"\n\n\
                   [import.relations]\nfile = \"relations.csv\"\n\n[import.coverage]\nfile = \"coverage.csv\"\n";
        [
            ("kam.toml", kam.to_owned()),
            ("people.csv", people),
            ("ours.csv", ours),
            ("relations.csv", relations),
            ("coverage.csv", coverage),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_fast_reader_agrees_with_the_toml_crate(map in map()) {
            let text = toml::to_string(&map).unwrap();
            let slow: StakeholderMap = toml::from_str(&text).unwrap();
            match kam_account::fastmap::parse(&text) {
                Some(fast) => prop_assert_eq!(fast, slow),
                // The toml crate writes a text with a quote as a 'literal string', which
                // the fast reader leaves to it; every other map it reads itself.
                None => prop_assert!(text.contains('\''), "not read fast:\n{text}"),
            }
        }

        #[test]
        fn a_csv_export_loads_as_the_same_map_as_toml(map in map()) {
            let from_csv = Account::load(Source::Memory(as_export(&map))).unwrap();
            let toml_files: BTreeMap<String, String> = [
                ("kam.toml".to_owned(), "as_of = \"2026-11-20\"\n".to_owned()),
                ("stakeholders.toml".to_owned(), toml::to_string(&map).unwrap()),
            ]
            .into_iter()
            .collect();
            let from_toml = Account::load(Source::Memory(toml_files)).unwrap();
            prop_assert_eq!(from_csv.stakeholders.as_ref(), Some(&map));
            prop_assert_eq!(from_toml.stakeholders.as_ref(), Some(&map));
        }
    }
}

#[test]
fn the_ebr_carries_influence_and_paths_in_the_internal_edition_only() {
    use kam_report::Audience;
    let a = Account::sample().unwrap();
    let plugins = kam_account::plugins::Plugins::none();
    let sh = views::stakeholders(&a).unwrap();
    let internal = views::report::ebr(&a, 200, 7, &plugins, Audience::Internal, None).unwrap();
    let coverage = internal
        .internal
        .as_ref()
        .and_then(|i| i.coverage.as_ref())
        .unwrap();
    assert_eq!(coverage.influence.len(), 10, "the top ten of the ranking");
    assert_eq!(coverage.influence[0].rank, 1);
    let top = a
        .stakeholders
        .as_ref()
        .unwrap()
        .people
        .iter()
        .find(|p| p.id == sh.influence[0].person)
        .unwrap();
    assert!(
        coverage.influence[0].person.contains(&top.name),
        "{:?}",
        coverage.influence[0]
    );
    assert_eq!(
        coverage.paths.len(),
        sh.paths.len(),
        "every decision maker and approver"
    );
    assert!(
        coverage.paths.iter().any(|p| p.route.contains("—covers→")),
        "{:?}",
        coverage.paths
    );
    // The customer edition has no internal view at all, so none of our view of their
    // people — and its serialized data names none of the ranking.
    let customer = views::report::ebr(&a, 200, 7, &plugins, Audience::Customer, None).unwrap();
    assert!(customer.internal.is_none());
    let data = serde_json::to_string(&customer).unwrap();
    assert!(
        !data.contains("influence") && !data.contains("—covers→"),
        "{data}"
    );
}

fn pricing_with(from: &str, to: &str) -> Account {
    let mut f = files();
    let p = f.get_mut("pricing.toml").unwrap();
    assert!(p.contains(from), "{from}");
    *p = p.replacen(from, to, 1);
    load(f)
}

#[test]
fn periods_bank_a_shortfall_and_use_it_when_volume_is_above_the_minimum() {
    use kam_account::volumes::VolumeTable;
    let a = pricing_with(
        "schedule = { type = \"flat\", rate = \"0.68\" }",
        "schedule = { type = \"flat\", rate = \"0.68\" }\n\
         minimum = { quantity = \"100000\", banking = { expires_after_periods = 2 } }",
    );
    let t = VolumeTable::from_csv(
        "v.csv",
        "period,activity,quantity\n2026-10,pick_line,90000\n2026-11,pick_line,110000\n2026-12,pick_line,100000\n",
    )
    .unwrap();
    let r = views::price_periods(&a, &t, &kam_account::plugins::Plugins::none()).unwrap();
    // Oct: 90,000 < 100,000 → the minimum is billed, 10,000 × 0.68 = 6,800 banked.
    // Nov: 110,000 × 0.68 = 74,800, less the 6,800 credit (10,000 above the minimum).
    // Dec: exactly the minimum, 68,000. Baseline 0.70 × 300,000 = 210,000.
    let net: Vec<_> = r.periods.iter().map(|p| p.proposal_net).collect();
    assert_eq!(net, [dec!(68000.00), dec!(68000.00), dec!(68000.00)]);
    assert_eq!(
        r.periods[1].adjustments,
        [(
            "pick_line: banked shortfall credit used (minimum commitment)".to_owned(),
            dec!(-6800.00)
        )]
    );
    assert_eq!(r.totals.proposal_net, dec!(204000.00));
    assert_eq!(r.totals.proposal_credits, dec!(6800.00));
    assert_eq!(r.totals.baseline_total, dec!(210000.00));
    assert_eq!(r.banking.len(), 1);
    assert_eq!(r.banking[0].billing.total_due, r.totals.proposal_net);
    // Fixed cost counts once per period: CM2 = 204,000 − 0.50 × 300,000 − 3 × 5,000.
    assert_eq!(r.totals.contribution[1].margin, dec!(39000.00));
}

#[test]
fn cost_to_serve_rows_add_up_to_the_quote_in_minor_units() {
    let a = pricing_with(
        "pick_line = \"100000\"",
        "pick_line = \"90000\"\n\n[[served]]\nnode = \"leipzig\"\nservice_line = \"warehousing\"\n\
         volumes = { pick_line = \"30001\" }\n\n[[served]]\nnode = \"bremen\"\nservice_line = \"warehousing\"\n\
         volumes = { pick_line = \"29999\" }",
    );
    let plugins = kam_account::plugins::Plugins::none();
    let price = views::price(&a, None, &plugins).unwrap();
    for by in [
        views::GroupBy::NodeAndServiceLine,
        views::GroupBy::Node,
        views::GroupBy::ServiceLine,
    ] {
        let r = views::cost_to_serve(&a, None, by, &plugins).unwrap();
        let parts = |c: &views::CostRow| {
            let m = &c.contribution;
            [m.revenue, m.cm1.cost, m.cm2.cost, m.cm3.cost, m.cm3.margin]
        };
        for k in 0..5 {
            let sum: rust_decimal::Decimal =
                r.rows.iter().map(|x| parts(x)[k]).sum::<rust_decimal::Decimal>() + parts(&r.unallocated)[k];
            assert_eq!(sum, parts(&r.total)[k], "{by:?} part {k}");
            // 5,000 fixed × 30,001 / 90,000 does not terminate: kept in cents.
            assert!(r.rows.iter().all(|x| parts(x)[k].scale() <= 2), "{by:?}");
        }
        assert_eq!(r.total.contribution.revenue, price.proposal_net);
        assert_eq!(r.total.contribution.cm3.margin, price.contribution[2].margin);
    }
    let r = views::cost_to_serve(&a, None, views::GroupBy::NodeAndServiceLine, &plugins).unwrap();
    // The remainder 30,000 lines stays at pricing.toml's bremen / aftermarket (listed
    // first); 30,001 lines at 0.68 = 20,400.68 at Leipzig.
    assert_eq!(r.rows[0].service_line.as_deref(), Some("aftermarket"));
    assert_eq!(r.rows[1].contribution.revenue, dec!(20400.68));
    assert_eq!(
        views::cost_to_serve(&a, None, views::GroupBy::Node, &plugins)
            .unwrap()
            .rows
            .len(),
        2
    );

    // A split that claims more than [volumes] has: an error at the split.
    let a = pricing_with(
        "pick_line = \"100000\"",
        "pick_line = \"100000\"\n\n[[served]]\nnode = \"leipzig\"\nservice_line = \"warehousing\"\n\
         volumes = { pick_line = \"100001\" }",
    );
    let e = views::cost_to_serve(&a, None, views::GroupBy::Node, &plugins)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("pricing.toml:9:1: served[0]: pick_line = 100001"),
        "{e}"
    );
}

const LOG: &str = r#"[[offer]]
date = "2026-10-01"
side = "seller"
price = "0.70"

[[offer]]
date = "2026-10-08"
side = "buyer"
price = "0.55"

[[offer]]
date = "2026-10-15"
side = "seller"
price = "0.65"
gives = [{ issue = "term_years", from = "5", to = "3" }]
"#;

#[test]
fn concession_log_replays_and_refuses_at_its_place() {
    let a = load(files());
    let r = views::concessions(&a, "c.toml", LOG).unwrap();
    // Unit cost 0.50 + (5,000 + 1,000) / 100,000 = 0.56; floor 0.56 / 0.92 = 0.6087.
    assert_eq!(r.floor_price, dec!(0.6087));
    let us = &r.sides[0];
    assert_eq!((us.conceded, us.per_offer), (dec!(0.05), Some(dec!(0.05))));
    assert_eq!(us.left_to_floor, Some(dec!(0.0413)));
    // No BATNA in negotiation.toml: no walk-away to measure against, and no guard.
    assert_eq!(us.walk_away, None);
    assert_eq!(r.sides[1].left_to_walk_away, None);
    assert_eq!(r.gap, Some(dec!(0.10)));

    let bad = |from: &str, to: &str| {
        assert!(LOG.contains(from));
        views::concessions(&a, "c.toml", &LOG.replacen(from, to, 1))
            .unwrap_err()
            .to_string()
    };
    let e = bad("date = \"2026-10-15\"", "date = \"2026-10-07\"");
    assert!(
        e.starts_with("c.toml:12:8: field `date`: offer 3 is dated 2026-10-07"),
        "{e}"
    );
    let e = bad("price = \"0.65\"", "price = \"0.60\"");
    assert!(
        e.starts_with("c.toml:14:9: field `price`: round 3: offer 0.60"),
        "{e}"
    );
    assert!(e.contains("floor"), "{e}");
    let e = bad("date = \"2026-10-08\"", "date = \"8 Oct\"");
    assert!(e.starts_with("c.toml:7:8: field `date`"), "{e}");
    let e = bad("side = \"buyer\"", "side = \"customer\"");
    assert!(e.starts_with("c.toml:8:"), "{e}");
}

const COMMERCIAL: &str = r#"
[commercial.indices]
wages = { "2026-09" = "100", "2026-10" = "104" }
energy = { "2026-09" = "100", "2026-10" = "90" }
diesel = { "2026-10" = "1.56" }

[commercial.indexation]
base_period = "2026-09"
fixed_share = "0.5"
basket = [
    { index = "wages", weight = "0.4" },
    { index = "energy", weight = "0.1" },
]

[commercial.fuel]
index = "diesel"
base = "1.45"
step = "0.05"
pct_per_step = "0.5"
ceiling_pct = "1"
activities = ["pick_line"]
"#;

fn with_commercial(from: &str, to: &str) -> Result<views::PriceReport, String> {
    let mut f = files();
    let p = f.get_mut("pricing.toml").unwrap();
    assert!(COMMERCIAL.contains(from), "{from}");
    p.push_str(&COMMERCIAL.replacen(from, to, 1));
    let a = Account::load(Source::Memory(f)).map_err(|e| e.to_string())?;
    views::price(&a, None, &kam_account::plugins::Plugins::none()).map_err(|e| e.to_string())
}

#[test]
fn commercial_clauses_are_explained_lines_and_bad_ones_errors_at_their_place() {
    let r = with_commercial("", "").unwrap();
    // 100,000 lines × 0.68 = 68,000.00. Indexation 2026-10 on 2026-09:
    // 0.5 + 0.4 × 104/100 + 0.1 × 90/100 = 1.006 → +408.00. Fuel 1.56 vs 1.45 is 2.2
    // steps → 3 started × 0.5 % = 1.5 %, capped at 1 % → +680.00.
    assert_eq!(r.adjustments.len(), 2, "{:?}", r.adjustments);
    assert!(
        r.adjustments[0]
            .0
            .starts_with("indexation 2026-10 on 2026-09: factor 1.006"),
        "{:?}",
        r.adjustments
    );
    assert_eq!(r.adjustments[0].1, dec!(408.00));
    assert!(
        r.adjustments[1]
            .0
            .starts_with("fuel surcharge 1 % (diesel 1.56 vs base 1.45"),
        "{:?}",
        r.adjustments
    );
    assert_eq!(r.adjustments[1].1, dec!(680.00));
    assert_eq!(r.proposal_net, dec!(69088.00));

    // pricing.toml has 33 lines before COMMERCIAL, whose first line is empty.
    let e = with_commercial("{ index = \"energy\"", "{ index = \"power\"").unwrap_err();
    assert!(
        e.starts_with("pricing.toml:45:15: field `index`: unknown index \"power\""),
        "{e}"
    );
    let e = with_commercial("weight = \"0.1\"", "weight = \"0\"").unwrap_err();
    assert!(
        e.starts_with("pricing.toml:45:34: field `weight`: weight 0 of index \"energy\" must be > 0"),
        "{e}"
    );
    let e = with_commercial(
        "\"2026-09\" = \"100\", \"2026-10\" = \"104\"",
        "\"2026-10\" = \"104\"",
    )
    .unwrap_err();
    assert!(e.starts_with("pricing.toml:41:15: field `base_period`: index \"wages\" has no value for the base period 2026-09"), "{e}");
    let e = with_commercial("diesel = { \"2026-10\"", "diesel = { \"2026-11\"").unwrap_err();
    assert!(
        e.starts_with(
            "pricing.toml:49:9: field `index`: index \"diesel\" has no value for the priced period 2026-10"
        ),
        "{e}"
    );
    let e = with_commercial("fixed_share = \"0.5\"", "fixed_share = \"0.6\"").unwrap_err();
    assert!(e.starts_with("pricing.toml:42:15: field `fixed_share`"), "{e}");
    assert!(e.contains("must be exactly 1"), "{e}");
    let e = with_commercial("activities = [\"pick_line\"]", "activities = [\"pick_lines\"]").unwrap_err();
    assert!(
        e.starts_with(
            "pricing.toml:54:15: field `activities`: activity \"pick_lines\" is not on the proposal card"
        ),
        "{e}"
    );
    let e = with_commercial("step = \"0.05\"", "step = \"-0.05\"").unwrap_err();
    assert!(e.starts_with("pricing.toml:51:8: field `step`"), "{e}");
}

/// Open book, gainshare and FX on the minimal account's one activity: 100,000 pick
/// lines on the card at 0.68 = 68,000.00; cost 0.50 a line, 5,000 dedicated fixed,
/// 1,000 overhead.
const MODELS: &str = r#"
[commercial.open_book]
activities = ["pick_line"]
fee = { type = "percent_of_cost", pct = "6" }

[commercial.gainshare]
activity = "pick_line"
baseline_unit_cost = "0.60"

[[commercial.gainshare.band]]
from_pct = "0"
to_pct = "5"
provider_pct = "50"

[[commercial.gainshare.band]]
from_pct = "5"
to_pct = "10"
provider_pct = "30"

[[commercial.gainshare.pain]]
from_pct = "0"
provider_pct = "50"
"#;

/// The minimal account with `extra` appended to pricing.toml, priced.
fn priced_with(extra: &str) -> Result<views::PriceReport, String> {
    let mut f = files();
    f.get_mut("pricing.toml").unwrap().push_str(extra);
    let a = Account::load(Source::Memory(f)).map_err(|e| e.to_string())?;
    views::price(&a, None, &kam_account::plugins::Plugins::none()).map_err(|e| e.to_string())
}

/// The adjustment lines without the minimal account's (it has no rules).
fn lines(r: &views::PriceReport) -> Vec<(String, rust_decimal::Decimal)> {
    r.adjustments
        .iter()
        .map(|(l, a)| (l.trim_end_matches(" (pricing.toml [commercial])").to_owned(), *a))
        .collect()
}

#[test]
fn open_book_replaces_the_card_by_cost_and_adds_the_fee() {
    let only_open = &MODELS[..MODELS.find("[commercial.gainshare]").unwrap()];
    let r = priced_with(only_open).unwrap();
    // Direct cost 0.50 × 100,000 + 5,000 = 55,000.00 replaces 68,000.00: −13,000.00;
    // fee 6 % of 55,000.00 = 3,300.00. Net 58,300.00.
    assert_eq!(
        lines(&r),
        [
            (
                "open book pick_line: direct cost 0.50 × 100,000 + 5,000.00 fixed = 55,000.00 replaces the card's 68,000.00"
                    .to_owned(),
                dec!(-13000.00)
            ),
            (
                "management fee (open book): 6 % of the cost passed through 55,000.00".to_owned(),
                dec!(3300.00)
            ),
        ]
    );
    assert_eq!(r.proposal_total, dec!(68000.00));
    assert_eq!(r.proposal_net, dec!(58300.00));
    // CM1–CM3 follow the net: CM3 = 58,300 − 50,000 − 5,000 − 1,000 = 2,300.
    assert_eq!(r.contribution[2].margin, dec!(2300.00));

    let fee = |basis: &str, fee: &str| {
        let text = only_open.replace("fee = { type = \"percent_of_cost\", pct = \"6\" }", fee);
        let text = text.replace(
            "activities = [\"pick_line\"]",
            &format!("activities = [\"pick_line\"]\ncost = \"{basis}\""),
        );
        let r = priced_with(&text).unwrap();
        (r.adjustments[0].1, r.adjustments[1].1, r.proposal_net)
    };
    // Fixed 2,500 a period on the direct cost: 55,000 + 2,500.
    assert_eq!(
        fee("direct", "fee = { type = \"fixed\", amount = \"2500\" }"),
        (dec!(-13000.00), dec!(2500.00), dec!(57500.00))
    );
    // Cost-plus 10 % on the full cost 56,000 (overhead too): 5,600.00 → 61,600.
    assert_eq!(
        fee("full", "fee = { type = \"markup\", pct = \"10\" }"),
        (dec!(-12000.00), dec!(5600.00), dec!(61600.00))
    );
    // Variable cost only, 50,000: 6 % = 3,000 → 53,000.
    assert_eq!(
        fee("variable", "fee = { type = \"percent_of_cost\", pct = \"6\" }"),
        (dec!(-18000.00), dec!(3000.00), dec!(53000.00))
    );
}

#[test]
fn gainshare_bands_share_the_saving_against_the_cost_model() {
    let r = priced_with(MODELS).unwrap();
    // Baseline 0.60 × 100,000 = 60,000; actual direct cost 55,000: saving 5,000
    // (8.33 %). 0–5 % is 3,000 at 50 % = 1,500; 5–10 % the other 2,000 at 30 % = 600.
    // Open book: the customer has the whole saving, so our 2,100.00 is billed.
    let l = lines(&r);
    assert_eq!(l.len(), 3, "{l:?}");
    assert_eq!(
        l[2],
        (
            "gainshare pick_line: direct cost 55,000.00 vs baseline 0.60 × 100,000 = 60,000.00: saving 5,000.00 \
             (8.33 %), 0–5 % at 50/50, 5–10 % at 30/70 → provider's share 2,100.00 billed (open book)"
                .to_owned(),
            dec!(2100.00)
        )
    );
    assert_eq!(r.proposal_net, dec!(60400.00));

    // On the card (no open book) we kept the saving: the customer's 2,900.00 is credited.
    let card = MODELS.replace(
        "[commercial.open_book]\nactivities = [\"pick_line\"]\nfee = { type = \"percent_of_cost\", pct = \"6\" }\n",
        "",
    );
    let r = priced_with(&card).unwrap();
    assert_eq!(lines(&r).len(), 1);
    assert!(
        lines(&r)[0]
            .0
            .ends_with("customer's share 2,900.00 settled (card-billed)"),
        "{:?}",
        lines(&r)
    );
    assert_eq!(r.adjustments[0].1, dec!(-2900.00));

    // Baseline 0.52 × 100,000 = 52,000 against 55,000: an overrun of 3,000 (5.77 %),
    // borne half and half: −1,500.00 on the open-book bill.
    let r = priced_with(&MODELS.replace("\"0.60\"", "\"0.52\"")).unwrap();
    let l = lines(&r);
    assert!(l[2].0.starts_with("painshare pick_line: direct cost 55,000.00 vs baseline 0.52 × 100,000 = 52,000.00: overrun 3,000.00 (5.77 %), 0+ % at 50/50"), "{l:?}");
    assert!(
        l[2].0
            .ends_with("→ provider bears 1,500.00, credited (open book)"),
        "{l:?}"
    );
    assert_eq!(l[2].1, dec!(-1500.00));
    // On the card we bore the overrun: the customer's half, 1,500.00, is charged.
    let r = priced_with(&card.replace("\"0.60\"", "\"0.52\"")).unwrap();
    assert!(
        lines(&r)[0]
            .0
            .ends_with("→ customer bears 1,500.00, charged (card-billed)"),
        "{:?}",
        lines(&r)
    );
    assert_eq!(r.adjustments[0].1, dec!(1500.00));
    // Without pain bands we bear none of it: no line.
    let no_pain = &MODELS[..MODELS.find("[[commercial.gainshare.pain]]").unwrap()];
    assert_eq!(
        lines(&priced_with(&no_pain.replace("\"0.60\"", "\"0.52\"")).unwrap()).len(),
        2
    );
}

const FX: &str = r#"
[commercial.fx]
pair = "EUR/USD"
base_rate = "1.10"
base_date = "2026-06-30"
deadband_pct = "2"
pass_through = "full"
rates = { 2026-09-30 = "1.00", 2026-10-15 = "2.00" }
"#;

#[test]
fn fx_clause_takes_the_latest_rate_on_or_before_the_review_date() {
    // Period 2026-10 is reviewed on 2026-10-01: the 2026-09-30 rate 1.00 applies (the
    // 2026-10-15 one is after it). Movement 1.00/1.10 − 1 = −9.09 %, beyond ±2 %. The
    // price is in EUR, the pair's "from": × base/current = 1.1 → +6,800.00.
    let r = priced_with(FX).unwrap();
    assert_eq!(
        lines(&r),
        [(
            "FX EUR/USD 1.00 of 2026-09-30 (review 2026-10-01) vs base 1.10 of 2026-06-30: -9.09 %, beyond ±2 %, \
             full pass-through: factor 1.1 on all lines 68,000.00"
                .to_owned(),
            dec!(6800.00)
        )]
    );
    // Beyond the band only: 7.0909… % passed → factor 1 / 0.929090… = 1.076321 →
    // 68,000 × 0.0763209… = 5,189.82.
    let r = priced_with(&FX.replace("\"full\"", "\"beyond_band\"")).unwrap();
    assert_eq!(r.adjustments[0].1, dec!(5189.82));
    // Quoted the other way (EUR per USD, the price in the pair's "to"): × current/base.
    // 1 / 1.00 against 1 / 1.10: the same +10 %.
    let r = priced_with(
        &FX.replace("EUR/USD", "USD/EUR")
            .replace("\"1.10\"", "\"0.90\"")
            .replace("\"1.00\"", "\"0.99\""),
    )
    .unwrap();
    assert_eq!(r.adjustments[0].1, dec!(6800.00));
    // Inside the band: no line.
    let r = priced_with(&FX.replace("\"1.00\"", "\"1.09\"")).unwrap();
    assert!(r.adjustments.is_empty(), "{:?}", r.adjustments);
}

#[test]
fn bad_commercial_models_are_errors_at_their_place() {
    // pricing.toml has 33 lines; the appended text's first line is empty (line 34).
    let e = priced_with(&MODELS.replace("from_pct = \"5\"", "from_pct = \"4\"")).unwrap_err();
    assert!(
        e.starts_with(
            "pricing.toml:49:12: field `band`: gainshare band 2 starts at 4 %, inside band 1 (0 – 5 %): bands overlap"
        ),
        "{e}"
    );
    let e = priced_with(&MODELS.replace("from_pct = \"5\"", "from_pct = \"6\"")).unwrap_err();
    assert!(
        e.starts_with("pricing.toml:49:12: field `band`: gainshare band 2 starts at 6 %"),
        "{e}"
    );
    assert!(e.contains("a gap between the bands"), "{e}");
    let e = priced_with(&MODELS.replace("activities = [\"pick_line\"]", "activities = [\"pick_lines\"]"))
        .unwrap_err();
    assert!(
        e.starts_with(
            "pricing.toml:36:15: field `activities`: activity \"pick_lines\" is not on the proposal card"
        ),
        "{e}"
    );
    let e = priced_with(&MODELS.replace("pct = \"6\"", "pct = \"-6\"")).unwrap_err();
    assert!(
        e.starts_with("pricing.toml:37:7: field `fee`: management fee % -6 must not be negative"),
        "{e}"
    );
    let e = priced_with(&FX.replace("2026-09-30 = \"1.00\", ", "")).unwrap_err();
    assert!(
        e.starts_with(
            "pricing.toml:41:9: field `rates`: no EUR/USD rate on or before 2026-10-01, the review date of period 2026-10"
        ),
        "{e}"
    );
    let e = priced_with(&FX.replace("EUR/USD", "GBP/USD")).unwrap_err();
    assert!(
        e.starts_with("pricing.toml:36:8: field `pair`: the proposal is in EUR"),
        "{e}"
    );
    let e = priced_with(&FX.replace("2026-09-30 =", "\"2026-09-31\" =")).unwrap_err();
    assert!(
        e.starts_with("pricing.toml:41:11: field `rates`: \"2026-09-31\" is not a date"),
        "{e}"
    );
    // Cost passed through is not escalated again.
    let e = priced_with(&format!(
        "{MODELS}{}",
        FX.replace("rates =", "activities = [\"pick_line\"]\nrates =")
    ))
    .unwrap_err();
    assert!(
        e.contains("field `activities`: activity \"pick_line\" is billed open book at cost"),
        "{e}"
    );
}

/// The minimal account's pricing.toml with `extra` appended (for `trips`).
const PRICING_END: &str = "allocated_overhead = \"1000\"\n";

#[test]
fn commercial_activity_unknown() {
    let f = trips(
        "commercial-activity-unknown",
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}{}",
            MODELS.replace("activity = \"pick_line\"", "activity = \"pick_lines\"")
        ),
    );
    assert!(
        f.message.contains("the gainshare names activity \"pick_lines\""),
        "{f:?}"
    );
    assert_eq!(f.line, 40);
}

#[test]
fn commercial_open_book_escalated() {
    let f = trips(
        "commercial-open-book-escalated",
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}{MODELS}{}",
            FX.replace("rates =", "activities = [\"pick_line\"]\nrates =")
        ),
    );
    assert!(f.message.contains("the FX clause names \"pick_line\""), "{f:?}");
}

#[test]
fn commercial_invalid() {
    let f = trips(
        "commercial-invalid",
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}{}",
            MODELS.replace("to_pct = \"10\"", "to_pct = \"5\"")
        ),
    );
    assert!(f.message.contains("not above its start"), "{f:?}");
    // The second band's `from_pct`, where kam price's error points.
    assert_eq!(f.line, 49);
}

#[test]
fn served_reference_unknown() {
    let f = trips(
        "served-reference-unknown",
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}\n[[served]]\nnode = \"bremen\"\nservice_line = \"warehousing\"\nvolumes = {{ pick_line = \"10\" }}\n\n\
             [[served]]\nnode = \"mars\"\nservice_line = \"rail\"\nvolumes = {{ order = \"5\" }}\n"
        ),
    );
    assert_eq!(f.line, 40);
    let found = cross(&edited(
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}\n[[served]]\nnode = \"mars\"\nservice_line = \"rail\"\nvolumes = {{ order = \"5\" }}\n"
        ),
    ));
    let msgs: Vec<_> = found
        .iter()
        .filter(|f| f.code == "served-reference-unknown")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        msgs,
        [
            "served[0] (mars / rail): activity \"order\" is not in [volumes]",
            "served[0] (mars / rail): node \"mars\" is not in account.toml",
            "served[0] (mars / rail): service line \"rail\" is not one of account.toml's",
        ]
    );
}

#[test]
fn served_exceeds_volumes() {
    let f = trips(
        "served-exceeds-volumes",
        "pricing.toml",
        PRICING_END,
        &format!(
            "{PRICING_END}\n[[served]]\nnode = \"bremen\"\nservice_line = \"warehousing\"\nvolumes = {{ pick_line = \"60000\" }}\n\n\
             [[served]]\nnode = \"emea\"\nservice_line = \"warehousing\"\nvolumes = {{ pick_line = \"40001\" }}\n"
        ),
    );
    assert_eq!(
        f.message,
        "the [[served]] splits claim 100001 pick_line, more than the 100000 of [volumes]"
    );
    assert_eq!(f.line, 40);
}

/// Growth deals from a CRM export (`[import.pipeline]`): appended to growth.toml's in
/// one scenario, checked row by row at pipeline.csv:line:column, never a panic.
mod pipeline_export {
    use super::*;
    use kam_sim::dist::ValueDistribution;
    use proptest::prelude::*;

    const MAPPING: &str = "\n[import.pipeline]\nfile = \"pipeline.csv\"\nprobability_unit = \"percent\"\n\
                           name = \"Deal\"\nservice_line = \"Line\"\nregion = \"Region\"\n\
                           win_probability = \"Probability\"\nstart_date = \"Start\"\n";

    const EXPORT: &str = "Deal,Line,Region,Probability,Start,value_min,value_mode,value_max,value_mean,value_sd\n\
                          Hamburg cross-dock,Warehousing,EMEA,60,2027-04-15,100000,150000,250000,,\n\
                          Bremen returns,Aftermarket,EMEA,0.5%,2027-04-01,,,,80000,20000\n";

    /// The minimal account with the export and its mapping (and `edit` applied to it).
    fn with_export(export: &str) -> BTreeMap<String, String> {
        let mut f = files();
        f.get_mut("kam.toml").unwrap().push_str(MAPPING);
        f.insert("pipeline.csv".into(), export.to_owned());
        f
    }

    fn error(f: BTreeMap<String, String>) -> String {
        match Account::load(Source::Memory(f)) {
            Ok(_) => panic!("loads"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn export_deals_follow_growth_tomls_with_dates_as_months_and_percent_digits_kept() {
        let mut f = with_export(EXPORT);
        // growth.toml's correlation groups may name an exported deal.
        f.get_mut("growth.toml").unwrap().push_str(
            "\n[[correlation_group]]\nname = \"north\"\ndeals = [\"Bremen extension\", \"Hamburg cross-dock\"]\n",
        );
        let a = load(f);
        let deals = &a.growth.as_ref().unwrap().opportunities;
        let names: Vec<&str> = deals.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["Bremen extension", "Hamburg cross-dock", "Bremen returns"]
        );
        let (hamburg, returns) = (&deals[1], &deals[2]);
        // "2027-04-15" is after month 3's first day: revenue from month 4 (2027-05).
        assert_eq!((hamburg.start_month, returns.start_month), (4, 3));
        // 60 % is 0.60 as growth.toml would write it; "0.5%" a half percent.
        assert_eq!(hamburg.win_probability.to_string(), "0.60");
        assert_eq!(returns.win_probability, dec!(0.005));
        assert_eq!(
            (hamburg.service_line.as_str(), hamburg.region.as_str()),
            ("warehousing", "emea")
        );
        assert_eq!(
            hamburg.value,
            ValueDistribution::Pert {
                min: dec!(100000),
                mode: dec!(150000),
                max: dec!(250000)
            }
        );
        assert_eq!(
            returns.value,
            ValueDistribution::Lognormal {
                mean: dec!(80000),
                sd: dec!(20000)
            }
        );
        // Where each deal is entered.
        let place = a.deal_place("Bremen returns");
        assert_eq!((place.file.as_str(), place.line), ("pipeline.csv", 3));
        let place = a.deal_place("Bremen extension");
        assert_eq!((place.file.as_str(), place.line), ("growth.toml", 22));
        assert_eq!(cross(&a), Vec::<Finding>::new());
    }

    #[test]
    fn a_check_finding_about_an_exported_deal_names_its_row() {
        let mut f = with_export(&EXPORT.replace("Aftermarket,EMEA", "Rail,EMEA"));
        let g = f.get_mut("growth.toml").unwrap();
        *g = g.replace(
            "service_lines = [\"warehousing\", \"aftermarket\"]\nregions",
            "service_lines = [\"warehousing\", \"aftermarket\", \"rail\"]\nregions",
        );
        let found = cross(&load(f));
        let hit = found
            .iter()
            .find(|f| f.code == "deal-unknown-service-line" && f.message.contains("Bremen returns"))
            .expect("tripped for the exported deal");
        assert_eq!((hit.file.as_str(), hit.line), ("pipeline.csv", 3));
    }

    #[test]
    fn bad_exports_are_errors_at_file_line_column() {
        let cases = [
            (
                "EMEA,60,",
                "EMEA,160,",
                "pipeline.csv:2:4: field `win_probability`: 160 is outside 0–100 %",
            ),
            (
                "EMEA,60,",
                "EMEA,,",
                "pipeline.csv:2:4: field `win_probability`: empty",
            ),
            (
                "EMEA,60,",
                "EMEA,-5%,",
                "pipeline.csv:2:4: field `win_probability`: -5% is outside 0–100 %",
            ),
            (
                "100000,150000",
                "200000,150000",
                "pipeline.csv:2:7: field `value_mode`: mode 150000 is below min 200000",
            ),
            (
                "100000,",
                "100k,",
                "pipeline.csv:2:6: field `value_min`: \"100k\" is not a number",
            ),
            ("2027-04-15", "15/04/2027", "pipeline.csv:2:5: field `start_date`"),
            (
                ",80000,20000",
                ",0,20000",
                "pipeline.csv:3:9: field `value_mean`: a lognormal mean must be positive",
            ),
            (
                "Warehousing,EMEA",
                "Warehousing,APAC",
                "pipeline.csv:2:3: field `region`: \"apac\" is not one of growth.toml's regions (emea); map the export's word",
            ),
            (
                "EMEA,0.5%,2027-04-01,,,,80000,20000",
                "EMEA,0.5%,2027-04-01,,,,80000",
                "pipeline.csv:3:10: the row has 9 fields",
            ),
            (
                "Hamburg cross-dock",
                "Bremen extension",
                "pipeline.csv:2:1: field `name`: deal \"Bremen extension\" is also in growth.toml:22",
            ),
        ];
        for (from, to, want) in cases {
            assert!(EXPORT.contains(from), "{from}");
            let e = Account::load(Source::Memory(with_export(&EXPORT.replacen(from, to, 1))))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| panic!("{to}: loads"));
            assert!(e.starts_with(want), "{to}: {e}");
        }
        // A start date needs month 0 (kam.toml's growth_start).
        let mut f = with_export(EXPORT);
        let k = f.get_mut("kam.toml").unwrap();
        *k = k.replace("growth_start = \"2027-01\"\n", "");
        let e = error(f);
        assert!(
            e.starts_with("pipeline.csv:2:5: field `start_date`: a start date needs kam.toml's growth_start"),
            "{e}"
        );
        // An export without growth.toml has no horizon, regions or service lines.
        let mut f = with_export(EXPORT);
        f.remove("growth.toml");
        let e = error(f);
        assert!(
            e.starts_with("kam.toml:4:1: field `import.pipeline`: an imported pipeline needs growth.toml"),
            "{e}"
        );
        // An unknown field in the mapping, at its kam.toml line.
        let mut f = with_export(EXPORT);
        f.get_mut("kam.toml").unwrap().push_str("stage = \"Stage\"\n");
        let e = error(f);
        assert!(
            e.starts_with("kam.toml:12:1: field `stage`: [import.pipeline] has no field \"stage\""),
            "{e}"
        );
    }

    /// A small random deal: (percent, min, mode − min, max − mode, start month).
    fn deal() -> impl Strategy<Value = (u32, u32, u32, u32, u32)> {
        (
            0u32..=100,
            0u32..1_000_000,
            0u32..500_000,
            0u32..500_000,
            0u32..24,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn percent_deals_from_an_export_equal_the_same_deals_typed_as_fractions(
            deals in proptest::collection::vec(deal(), 1..8)
        ) {
            let mut csv = String::from("name,service_line,region,win_probability,value_min,value_mode,value_max,start_month\n");
            let mut toml = String::new();
            for (i, (pct, min, up, up2)) in deals.iter().map(|d| (d.0, d.1, d.2, d.3)).enumerate() {
                let (mode, max, start) = (min + up, min + up + up2, deals[i].4);
                csv.push_str(&format!("deal {i},warehousing,emea,{pct},{min},{mode},{max},{start}\n"));
                toml.push_str(&format!(
                    "\n[[opportunity]]\nname = \"deal {i}\"\nservice_line = \"warehousing\"\nregion = \"emea\"\n\
                     win_probability = \"{}\"\nvalue = {{ kind = \"pert\", min = \"{min}\", mode = \"{mode}\", max = \"{max}\" }}\n\
                     start_month = {start}\n",
                    rust_decimal::Decimal::new(i64::from(pct), 2)
                ));
            }
            let mut exported = files();
            exported.get_mut("kam.toml").unwrap().push_str(
                "\n[import.pipeline]\nfile = \"deals.csv\"\nprobability_unit = \"percent\"\n",
            );
            exported.insert("deals.csv".into(), csv);
            let mut typed = files();
            typed.get_mut("growth.toml").unwrap().push_str(&toml);
            let (a, b) = (load(exported), load(typed));
            prop_assert_eq!(&a.growth, &b.growth);
        }

        #[test]
        fn any_export_text_loads_or_fails_at_the_export_never_panics(
            text in "[a-zA-Z0-9,;%\"\n. :-]{0,200}",
            header in proptest::bool::ANY,
        ) {
            let export = if header { format!("{}\n{text}", EXPORT.lines().next().unwrap()) } else { text };
            match Account::load(Source::Memory(with_export(&export))) {
                // growth.toml's deal first, then the export's.
                Ok(a) => prop_assert_eq!(&a.growth.as_ref().unwrap().opportunities[0].name, "Bremen extension"),
                Err(e) => {
                    let e = e.to_string();
                    prop_assert!(e.starts_with("pipeline.csv:"), "{}", e);
                }
            }
        }
    }
}
