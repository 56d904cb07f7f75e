//! An account's history: what a revision keeps of the account ([`Snapshot`], in named
//! canonical parts), its headline figures ([`Headline`]), and what changed between two
//! states ([`changes`]) — "what changed since the last EBR".
//!
//! The parts are the *parsed* files written back as compact JSON, so a comment or a
//! reformatted line does not make a new revision of a part, and an older revision reads
//! back into the same types. Storage is kam-store's ([`kam_store::HistoryStore`]); this
//! module decides what is stored and how two states compare. It reads no clock: the
//! caller passes the time to the store.

use std::collections::{BTreeMap, BTreeSet};

use kam_core::metrics::{ActionPlan, Kpi};
use kam_core::plan::{Plan, PlanDiff};
use kam_core::scorecard::Template;
use kam_core::stakeholders::{Rag, StakeholderMap};
use kam_sim::Scenario;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::AccountError;
use crate::model::{
    Account, ActionsFile, ComputedKpi, EscalationRecord, Manifest, NegotiationFile, ObservationRow,
    PricingFile,
};
use crate::plugins::Plugins;
use crate::views;

/// What a revision keeps of an account: every file as parsed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// kam.toml.
    pub manifest: Option<Manifest>,
    /// account.toml.
    pub structure: Option<kam_core::account::Account>,
    /// plan.toml.
    pub plan: Option<Plan>,
    /// stakeholders.toml.
    pub stakeholders: Option<StakeholderMap>,
    /// pricing.toml.
    pub pricing: Option<PricingFile>,
    /// negotiation.toml.
    pub negotiation: Option<NegotiationFile>,
    /// growth.toml, targets resolved from the plan.
    pub growth: Option<Scenario>,
    /// kpis.toml's own KPIs.
    pub kpis: Vec<Kpi>,
    /// kpis.toml's computed observations.
    pub computed: Vec<ComputedKpi>,
    /// The typed observations.
    pub observations: Vec<ObservationRow>,
    /// scorecard.toml.
    pub scorecard: Option<Template>,
    /// actions.toml.
    pub actions: ActionsFile,
}

fn part<T: Serialize>(
    out: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    value: &T,
) -> Result<(), AccountError> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| AccountError::invalid(format!("history part {name}: {e}")))?;
    out.insert(name.to_owned(), bytes);
    Ok(())
}

fn read<T: DeserializeOwned + Default>(
    parts: &BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Result<T, AccountError> {
    match parts.get(name) {
        None => Ok(T::default()),
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|e| AccountError::invalid(format!("history part {name:?} does not read back: {e}"))),
    }
}

impl Snapshot {
    /// The snapshot of a loaded account.
    pub fn of(account: &Account) -> Snapshot {
        Snapshot {
            manifest: Some(account.manifest.clone()),
            structure: account.structure.clone(),
            plan: account.plan.clone(),
            stakeholders: account.stakeholders.clone(),
            pricing: account.pricing.clone(),
            negotiation: account.negotiation.clone(),
            growth: account.growth.clone(),
            kpis: account.custom_kpis.clone(),
            computed: account.computed.clone(),
            observations: account.observations.clone(),
            scorecard: account.scorecard.clone(),
            actions: account.actions.clone(),
        }
    }

    /// The snapshot as named parts of canonical JSON (absent files have no part).
    ///
    /// # Errors
    /// A part that does not serialize (none in practice: every type is a serde record).
    pub fn parts(&self) -> Result<BTreeMap<String, Vec<u8>>, AccountError> {
        let mut out = BTreeMap::new();
        if let Some(m) = &self.manifest {
            part(&mut out, "kam", m)?;
        }
        if let Some(x) = &self.structure {
            part(&mut out, "account", x)?;
        }
        if let Some(x) = &self.plan {
            part(&mut out, "plan", x)?;
        }
        if let Some(x) = &self.stakeholders {
            part(&mut out, "stakeholders", x)?;
        }
        if let Some(x) = &self.pricing {
            part(&mut out, "pricing", x)?;
        }
        if let Some(x) = &self.negotiation {
            part(&mut out, "negotiation", x)?;
        }
        if let Some(x) = &self.growth {
            part(&mut out, "growth", x)?;
        }
        if !self.kpis.is_empty() || !self.computed.is_empty() {
            part(&mut out, "kpis", &(&self.kpis, &self.computed))?;
        }
        if !self.observations.is_empty() {
            part(&mut out, "observations", &self.observations)?;
        }
        if let Some(x) = &self.scorecard {
            part(&mut out, "scorecard", x)?;
        }
        part(&mut out, "actions", &self.actions)?;
        Ok(out)
    }

    /// A snapshot read back from its parts.
    ///
    /// # Errors
    /// A part that does not read back into its type (a store written by another
    /// version of kam whose types changed), naming the part.
    pub fn from_parts(parts: &BTreeMap<String, Vec<u8>>) -> Result<Snapshot, AccountError> {
        let (kpis, computed): (Vec<Kpi>, Vec<ComputedKpi>) = read(parts, "kpis")?;
        Ok(Snapshot {
            manifest: read(parts, "kam")?,
            structure: read(parts, "account")?,
            plan: read(parts, "plan")?,
            stakeholders: read(parts, "stakeholders")?,
            pricing: read(parts, "pricing")?,
            negotiation: read(parts, "negotiation")?,
            growth: read(parts, "growth")?,
            kpis,
            computed,
            observations: read(parts, "observations")?,
            scorecard: read(parts, "scorecard")?,
            actions: read(parts, "actions")?,
        })
    }
}

/// A scorecard measure's figures in a headline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureFigure {
    /// KPI id.
    pub kpi: String,
    /// Actual value.
    pub actual: Option<Decimal>,
    /// Score (N/A: `None`).
    pub score: Option<Decimal>,
}

/// A year of the growth forecast in a headline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearFigure {
    /// Contract year.
    pub year: u32,
    /// P10, P50, P90 revenue.
    pub p10: Decimal,
    /// P50 revenue.
    pub p50: Decimal,
    /// P90 revenue.
    pub p90: Decimal,
    /// Target.
    pub target: Option<Decimal>,
    /// Probability of reaching it.
    pub prob_reach_target: Option<Decimal>,
}

/// The headline figures saved with a revision, computed from the account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// The account's as-of date.
    pub as_of: Option<chrono::NaiveDate>,
    /// Scorecard period, overall score and grade.
    pub scorecard: Option<(String, Decimal, String)>,
    /// Each scorecard measure.
    pub measures: Vec<MeasureFigure>,
    /// Paths and seed of the forecast.
    pub forecast: Option<(u64, u64)>,
    /// The forecast per year.
    pub growth: Vec<YearFigure>,
    /// Open alerts at site level.
    pub open_alerts: Option<usize>,
    /// Open escalations.
    pub open_escalations: Option<usize>,
    /// Stakeholder map status.
    pub map_status: Option<Rag>,
}

/// The headline figures of `account`: its scorecard, a forecast of `paths` paths with
/// `seed`, open alerts and escalations, the map status — each when the account has
/// what it needs.
///
/// # Errors
/// An analysis that fails on the account's data (a rule or plugin that fails).
pub fn headline(
    account: &Account,
    plugins: &Plugins,
    paths: u64,
    seed: u64,
) -> Result<Headline, AccountError> {
    let mut h = Headline {
        as_of: Some(account.manifest.as_of),
        ..Headline::default()
    };
    if account.scorecard.is_some() && account.kpi.is_some() {
        let s = views::scorecard(account, plugins)?;
        h.scorecard = Some((
            s.period.clone(),
            s.sheet.overall.round_dp(4),
            s.sheet.grade.clone(),
        ));
        h.measures = s
            .sheet
            .measures
            .iter()
            .map(|m| MeasureFigure {
                kpi: m.kpi.clone(),
                actual: m.actual.map(|a| a.round_dp(4)),
                score: m.score.map(|x| x.round_dp(4)),
            })
            .collect();
    }
    if account.growth.is_some() {
        let r = views::growth(account, paths, seed, plugins)?;
        h.forecast = Some((paths, seed));
        h.growth = r
            .years
            .iter()
            .map(|y| YearFigure {
                year: y.year,
                p10: y.revenue.p10,
                p50: y.revenue.p50,
                p90: y.revenue.p90,
                target: y.target,
                prob_reach_target: y.prob_reach_target,
            })
            .collect();
    }
    if account.kpi.is_some() {
        let a = views::alerts(account, plugins)?;
        h.open_alerts = Some(a.open().count());
        h.open_escalations = Some(a.escalations.iter().filter(|e| e.open).count());
    }
    if account.stakeholders.is_some() {
        h.map_status = Some(views::stakeholders(account)?.status);
    }
    Ok(h)
}

/// A field that changed: its name, then and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Before (`None`: absent).
    pub before: Option<String>,
    /// After (`None`: absent).
    pub after: Option<String>,
}

/// How an item (person, deal, action…) changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemChange {
    /// Its id or name.
    pub id: String,
    /// `added`, `removed`, `changed`, or a domain word (`won`, `lost`, `slipped`,
    /// `opened`, `closed`).
    pub change: String,
    /// The fields that changed.
    pub fields: Vec<FieldChange>,
}

/// A coverage gap opened or closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapChange {
    /// `opened` or `closed`.
    pub change: String,
    /// Region / function / buying role.
    pub cell: String,
}

/// What changed in the stakeholder map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StakeholderChanges {
    /// People added, gone, or with support, power, role, region or last contact changed.
    pub people: Vec<ItemChange>,
    /// Coverage added, gone or with its level changed (`ours → theirs`).
    pub coverage: Vec<ItemChange>,
    /// Coverage gaps opened or closed.
    pub gaps: Vec<GapChange>,
    /// Map status then and now.
    pub status: Option<FieldChange>,
}

/// A scorecard measure's score then and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreChange {
    /// KPI.
    pub kpi: String,
    /// Score then.
    pub before: Option<Decimal>,
    /// Score now.
    pub after: Option<Decimal>,
}

/// Everything that changed between two states of an account.
#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    /// The plan's structured diff (`None` when either state has no plan).
    pub plan: Option<PlanDiff>,
    /// The stakeholder map.
    pub stakeholders: StakeholderChanges,
    /// Rates, tiers and minimums per activity of both cards, and the volumes.
    pub pricing: Vec<ItemChange>,
    /// Pipeline deals: new, gone, re-valued, slipped, re-weighted.
    pub pipeline: Vec<ItemChange>,
    /// Each scorecard measure's score then and now (only those that moved).
    pub scorecard: Vec<ScoreChange>,
    /// The overall score then and now.
    pub overall: Option<FieldChange>,
    /// Action plans opened, closed or changed.
    pub actions: Vec<ItemChange>,
    /// Escalations opened, resolved or changed.
    pub escalations: Vec<ItemChange>,
    /// The growth forecast per year then and now.
    pub growth: Vec<(YearFigure, YearFigure)>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.plan.as_ref().is_none_or(PlanDiff::is_empty)
            && self.stakeholders == StakeholderChanges::default()
            && self.pricing.is_empty()
            && self.pipeline.is_empty()
            && self.scorecard.is_empty()
            && self.overall.is_none()
            && self.actions.is_empty()
            && self.escalations.is_empty()
            && self.growth.is_empty()
    }
}

/// The fields of `value` as canonical strings (a JSON object's top-level keys).
fn fields_of<T: Serialize>(value: &T) -> BTreeMap<String, String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn field_changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    skip: &[&str],
) -> Vec<FieldChange> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| !skip.contains(&k.as_str()))
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            before: before.get(k).cloned(),
            after: after.get(k).cloned(),
        })
        .collect()
}

/// Items by key, compared field by field.
fn item_changes<T: Serialize>(
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> String,
    skip: &[&str],
    added: &str,
    removed: &str,
) -> Vec<ItemChange> {
    let b: BTreeMap<String, &T> = before.iter().map(|x| (key(x), x)).collect();
    let a: BTreeMap<String, &T> = after.iter().map(|x| (key(x), x)).collect();
    let mut out = Vec::new();
    for (k, x) in &a {
        match b.get(k) {
            None => out.push(ItemChange {
                id: k.clone(),
                change: added.into(),
                fields: Vec::new(),
            }),
            Some(old) => {
                let fields = field_changes(&fields_of(old), &fields_of(x), skip);
                if !fields.is_empty() {
                    out.push(ItemChange {
                        id: k.clone(),
                        change: "changed".into(),
                        fields,
                    });
                }
            }
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(ItemChange {
            id: k.clone(),
            change: removed.into(),
            fields: Vec::new(),
        });
    }
    out
}

fn gaps(map: &StakeholderMap) -> BTreeSet<String> {
    let Ok(graph) = map.graph() else {
        return BTreeSet::new();
    };
    graph
        .coverage_matrix()
        .gaps()
        .map(|c| {
            format!(
                "{} / {} / {}",
                c.region,
                c.function,
                crate::format::name(&c.buying_role)
            )
        })
        .collect()
}

fn stakeholder_changes(
    before: Option<&StakeholderMap>,
    after: Option<&StakeholderMap>,
) -> StakeholderChanges {
    let empty = StakeholderMap::default();
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let people = item_changes(&b.people, &a.people, |p| p.id.clone(), &[], "added", "gone");
    let coverage = item_changes(
        &b.coverage,
        &a.coverage,
        |c| format!("{} → {}", c.ours, c.theirs),
        &[],
        "added",
        "gone",
    );
    let (gb, ga) = (gaps(b), gaps(a));
    let gaps = ga
        .difference(&gb)
        .map(|c| GapChange {
            change: "opened".into(),
            cell: c.clone(),
        })
        .chain(gb.difference(&ga).map(|c| GapChange {
            change: "closed".into(),
            cell: c.clone(),
        }))
        .collect();
    StakeholderChanges {
        people,
        coverage,
        gaps,
        status: None,
    }
}

fn pricing_changes(before: Option<&PricingFile>, after: Option<&PricingFile>) -> Vec<ItemChange> {
    let (Some(b), Some(a)) = (before, after) else {
        return match (before, after) {
            (None, Some(_)) => vec![ItemChange {
                id: "pricing.toml".into(),
                change: "added".into(),
                fields: Vec::new(),
            }],
            (Some(_), None) => vec![ItemChange {
                id: "pricing.toml".into(),
                change: "removed".into(),
                fields: Vec::new(),
            }],
            _ => Vec::new(),
        };
    };
    let mut out = Vec::new();
    for (card, cb, ca) in [
        ("baseline", &b.baseline, &a.baseline),
        ("proposal", &b.proposal, &a.proposal),
    ] {
        let activities = |c: &kam_core::pricing::RateCard| -> Vec<serde_json::Value> {
            match serde_json::to_value(c) {
                Ok(serde_json::Value::Object(m)) => match m.get("activities") {
                    Some(serde_json::Value::Array(v)) => v.clone(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            }
        };
        let key = |v: &serde_json::Value| {
            format!(
                "{card} {}",
                v.get("activity").and_then(|a| a.as_str()).unwrap_or_default()
            )
        };
        out.extend(item_changes(
            &activities(cb),
            &activities(ca),
            key,
            &[],
            "added",
            "removed",
        ));
    }
    let vols = |p: &PricingFile| -> Vec<(String, Decimal)> {
        p.volumes.iter().map(|(k, v)| (k.clone(), *v)).collect()
    };
    out.extend(item_changes(
        &vols(b),
        &vols(a),
        |(k, _)| format!("volume {k}"),
        &[],
        "added",
        "removed",
    ));
    out
}

/// Deals compared by name: new, gone, re-valued (mean value), slipped (start month),
/// re-weighted (win probability).
fn pipeline_changes(before: Option<&Scenario>, after: Option<&Scenario>) -> Vec<ItemChange> {
    let deals = |s: Option<&Scenario>| s.map(|s| s.opportunities.clone()).unwrap_or_default();
    let (b, a) = (deals(before), deals(after));
    let mut out = item_changes(&b, &a, |d| d.name.clone(), &[], "new", "gone");
    for c in &mut out {
        if c.change != "changed" {
            continue;
        }
        let slipped = c
            .fields
            .iter()
            .find(|f| f.field == "start_month")
            .is_some_and(|f| {
                let n = |s: &Option<String>| s.as_deref().and_then(|x| x.parse::<u32>().ok());
                n(&f.after) > n(&f.before)
            });
        let won = c.fields.iter().any(|f| {
            f.field == "win_probability"
                && f.after
                    .as_deref()
                    .is_some_and(|p| p.parse::<Decimal>() == Ok(Decimal::ONE))
        });
        let lost = c.fields.iter().any(|f| {
            f.field == "win_probability"
                && f.after
                    .as_deref()
                    .is_some_and(|p| p.parse::<Decimal>() == Ok(Decimal::ZERO))
        });
        c.change = if won {
            "won".into()
        } else if lost {
            "lost".into()
        } else if slipped {
            "slipped".into()
        } else if c.fields.iter().any(|f| f.field == "value") {
            "re-valued".into()
        } else {
            "changed".into()
        };
    }
    out
}

fn action_changes(before: &[ActionPlan], after: &[ActionPlan]) -> Vec<ItemChange> {
    let mut out = item_changes(before, after, |a| a.id.clone(), &["history"], "opened", "removed");
    for c in &mut out {
        let closed = c.fields.iter().any(|f| {
            f.field == "state"
                && matches!(f.after.as_deref(), Some("resolved" | "verified"))
                && !matches!(f.before.as_deref(), Some("resolved" | "verified"))
        });
        if closed {
            c.change = "closed".into();
        }
    }
    out
}

fn escalation_changes(before: &[EscalationRecord], after: &[EscalationRecord]) -> Vec<ItemChange> {
    let mut out = item_changes(before, after, |e| e.id.clone(), &[], "opened", "removed");
    for c in &mut out {
        if c.fields
            .iter()
            .any(|f| f.field == "resolved" && f.before.is_none() && f.after.is_some())
        {
            c.change = "resolved".into();
        }
    }
    out
}

/// Everything that changed from `before` (with its headline) to `after`.
///
/// # Errors
/// The plans cannot be compared (two different plan ids).
pub fn changes(
    before: &Snapshot,
    before_head: &Headline,
    after: &Snapshot,
    after_head: &Headline,
) -> Result<Changes, AccountError> {
    let plan = match (&before.plan, &after.plan) {
        (Some(b), Some(a)) => Some(PlanDiff::between(b, a).map_err(AccountError::domain)?),
        _ => None,
    };
    let mut stakeholders = stakeholder_changes(before.stakeholders.as_ref(), after.stakeholders.as_ref());
    if before_head.map_status != after_head.map_status {
        let name = |s: &Option<Rag>| s.as_ref().map(crate::format::name);
        stakeholders.status = Some(FieldChange {
            field: "map status".into(),
            before: name(&before_head.map_status),
            after: name(&after_head.map_status),
        });
    }
    let scores_before: BTreeMap<&str, Option<Decimal>> = before_head
        .measures
        .iter()
        .map(|m| (m.kpi.as_str(), m.score))
        .collect();
    let scores_after: BTreeMap<&str, Option<Decimal>> = after_head
        .measures
        .iter()
        .map(|m| (m.kpi.as_str(), m.score))
        .collect();
    let kpis: BTreeSet<&str> = scores_before.keys().chain(scores_after.keys()).copied().collect();
    let scorecard = kpis
        .into_iter()
        .filter_map(|k| {
            let (b, a) = (
                scores_before.get(k).copied().flatten(),
                scores_after.get(k).copied().flatten(),
            );
            (b != a).then(|| ScoreChange {
                kpi: k.to_owned(),
                before: b,
                after: a,
            })
        })
        .collect();
    let overall = match (&before_head.scorecard, &after_head.scorecard) {
        (b, a) if b != a => Some(FieldChange {
            field: "overall".into(),
            before: b.as_ref().map(|(p, s, g)| format!("{s} ({g}, {p})")),
            after: a.as_ref().map(|(p, s, g)| format!("{s} ({g}, {p})")),
        }),
        _ => None,
    };
    let growth = before_head
        .growth
        .iter()
        .filter_map(|b| {
            let a = after_head.growth.iter().find(|a| a.year == b.year)?;
            (a != b).then(|| (b.clone(), a.clone()))
        })
        .collect();
    Ok(Changes {
        plan,
        stakeholders,
        pricing: pricing_changes(before.pricing.as_ref(), after.pricing.as_ref()),
        pipeline: pipeline_changes(before.growth.as_ref(), after.growth.as_ref()),
        scorecard,
        overall,
        actions: action_changes(&before.actions.action, &after.actions.action),
        escalations: escalation_changes(&before.actions.escalation, &after.actions.escalation),
        growth,
    })
}
