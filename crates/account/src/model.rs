//! The account model: every file of an account directory parsed once into one typed
//! [`Account`], its parts linked by id.
//!
//! Layout (all optional except `kam.toml`; an analysis says which files it needs):
//! `kam.toml` (manifest: as-of date, rules, plugins, `[check]` settings), `account.toml`,
//! `plan.toml`, `stakeholders.toml` (and kam.toml's `[import.*]` CRM exports),
//! `pricing.toml`, `growth.toml` (and the `[import.pipeline]` export), `kpis.toml`,
//! `kpi_observations.csv` (or `.xlsx`), `scorecard.toml`, `negotiation.toml`,
//! `actions.toml`, `alerts.toml`, `delivery.toml`, `labels.toml`, `rules/*.rhai`.
//!
//! One figure, one home — what the loader links instead of asking for it twice:
//! - **growth targets come from the plan.** A year of `growth.toml` takes its revenue
//!   target from the plan's revenue target for the account's top node over exactly that
//!   year (month 0 is kam.toml's `growth_start`); a `[[target]]` typed in `growth.toml`
//!   is used only for years the plan has no target for, and `kam check` reports one
//!   that differs from the plan (the plan's figure wins).
//! - **plan measures track KPIs.** A measure names its `kpi` (and optionally `node` and
//!   `period`; by default the objective's node and the latest period): its current
//!   value is the observed one, and a typed `current` that drifts from it is a finding.
//! - **go-lives feed growth.** A `delivery.toml` project whose `deal` is a growth.toml
//!   opportunity becomes one of the growth scenario's `projects`: the deal's revenue
//!   starts at the simulated go-live instead of its start month and slippage.
//! - **computed KPIs.** `kpis.toml` may declare `[[computed]]` observations of the
//!   cost-to-serve and margin KPIs from `pricing.toml`'s cost model × volumes, instead
//!   of typing them into the observations file.
//!
//! The model is not an analysis: it holds what the files say, validated as far as each
//! file alone allows. The views ([`crate::views`]) and the checks ([`crate::check`])
//! compute from it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use kam_core::metrics::{ActionPlan, Kpi, KpiLibrary, Observation, ObservationTable, RolledUp, Severity};
use kam_core::negotiation::NegotiationSpace;
use kam_core::plan::{Plan, TargetValue};
use kam_core::pricing::{CostModel, RateCard, Volumes};
use kam_core::scorecard::Template;
use kam_core::stakeholders::StakeholderMap;
use kam_sim::Scenario;
use kam_sim::scenario::YearTarget;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{AccountError, Place};
use crate::files::{self, FileError, Row};
use crate::source::Source;

/// The manifest, `kam.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Date of the figures.
    pub as_of: NaiveDate,
    /// Who prepared the pack.
    #[serde(default)]
    pub prepared_by: String,
    /// First month of the growth scenario (`"2027-01"`), for chart labels.
    #[serde(default)]
    pub growth_start: Option<String>,
    /// User rules.
    #[serde(default)]
    pub rules: RuleFiles,
    /// WASM plugins.
    #[serde(default)]
    pub plugin: Vec<PluginRef>,
    /// Settings of `kam check`.
    #[serde(default)]
    pub check: CheckSettings,
    /// The global standard regional plans are coached against (`kam coach`); kam's
    /// default standard when absent.
    #[serde(default)]
    pub coaching: Option<kam_core::coaching::PlanStandard>,
    /// Parts of the stakeholder map read from a CRM export (CSV or XLSX), with the
    /// export's column names (see [`crate::import`]).
    #[serde(default, skip_serializing_if = "crate::import::ImportSettings::is_empty")]
    pub import: crate::import::ImportSettings,
}

impl Manifest {
    /// The first day of growth month 0 (`growth_start`, `"2027-01"`).
    pub fn growth_start(&self) -> Option<NaiveDate> {
        let s = self.growth_start.as_deref()?;
        let (y, m) = s.split_once('-')?;
        NaiveDate::from_ymd_opt(y.trim().parse().ok()?, m.trim().parse().ok()?, 1)
    }
}

/// `[check]` in kam.toml: thresholds of the checks across files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// A key player (decision maker or approver of high power) not contacted for more
    /// than this many days is a finding.
    #[serde(default = "default_contact_days")]
    pub contact_days: u32,
    /// A plan measure whose typed `current` differs from its KPI's observed value by
    /// more than this (in the KPI's unit) is a finding.
    #[serde(default = "default_measure_tolerance")]
    pub measure_tolerance: Decimal,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            contact_days: default_contact_days(),
            measure_tolerance: default_measure_tolerance(),
        }
    }
}

fn default_contact_days() -> u32 {
    90
}

fn default_measure_tolerance() -> Decimal {
    Decimal::new(5, 2)
}

/// Rhai rule files by kind, relative to the directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFiles {
    /// Alert rules (`fn alert(input)`).
    #[serde(default)]
    pub alert: Vec<String>,
    /// Pricing rules (`fn adjust(quote)`), applied to the proposal.
    #[serde(default)]
    pub pricing: Vec<String>,
    /// Growth rules (`fn on_period(state)`), applied to every month of every simulated
    /// path together with the growth plugin (factors multiply).
    #[serde(default)]
    pub growth: Vec<String>,
}

/// A WASM plugin reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginRef {
    /// Name for messages.
    pub name: String,
    /// Rule kind (pricing, alert, scoring, growth).
    pub kind: String,
    /// Path of the `.wasm` file, relative to the directory.
    pub path: String,
    /// Skip with a note when missing, instead of failing.
    #[serde(default)]
    pub optional: bool,
    /// Largest plugin file read, in bytes (default 64 MiB): a larger file is refused
    /// before it is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_bytes: Option<u64>,
    /// Adjustments one pricing call may return (default 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_adjustments: Option<usize>,
    /// Alerts one alert call may raise (default 1,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_alerts: Option<usize>,
    /// Bytes of one adjustment label (default 4 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label_bytes: Option<usize>,
    /// Bytes of one alert message or refusal (default 16 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<usize>,
    /// Bytes of stdout and of stderr per call (default 64 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_log_bytes: Option<usize>,
    /// Bytes of data one call may return (default 32 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_return_bytes: Option<usize>,
}

impl PluginRef {
    /// The plugin's output limits: `defaults` with what the entry raises or lowers.
    pub fn output_limits(&self, defaults: kam_plugin::OutputLimits) -> kam_plugin::OutputLimits {
        kam_plugin::OutputLimits {
            adjustments: self.max_adjustments.unwrap_or(defaults.adjustments),
            alerts: self.max_alerts.unwrap_or(defaults.alerts),
            label_bytes: self.max_label_bytes.unwrap_or(defaults.label_bytes),
            message_bytes: self.max_message_bytes.unwrap_or(defaults.message_bytes),
            log_bytes: self.max_log_bytes.unwrap_or(defaults.log_bytes),
            return_bytes: self.max_return_bytes.unwrap_or(defaults.return_bytes),
        }
    }
}

/// `pricing.toml`: one period's volumes priced on the current and the proposed card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingFile {
    /// Account node priced.
    pub node: String,
    /// Service line.
    pub service_line: String,
    /// Period label.
    pub period: String,
    /// Activity → quantity.
    pub volumes: Volumes,
    /// The current contract.
    pub baseline: RateCard,
    /// The renewal proposal.
    pub proposal: RateCard,
    /// Cost-to-serve per activity.
    pub cost_model: CostModel,
    /// Where parts of `volumes` are performed (`kam price --by`): each split names a node
    /// and a service line and the quantities performed there; what no split claims is
    /// performed at `node` for `service_line`. Figures are entered once: the splits are
    /// parts of `volumes`, never more.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub served: Vec<ServedSplit>,
    /// The contract's commercial terms applied to the proposal (`[commercial]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commercial: Option<CommercialTerms>,
}

/// `[commercial]` in `pricing.toml`: the proposal's price-adjustment clauses. Index
/// values are entered once, by period, in `indices`, and the clauses name them; the
/// clauses name the card's activities they apply to (all of them when none are named).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommercialTerms {
    /// Index → period → value (a price index, or a fuel price per litre). A dated
    /// period (`2026-11-15`) without its own value takes its month's (`2026-11`).
    #[serde(default)]
    pub indices: BTreeMap<String, BTreeMap<String, Decimal>>,
    /// Indexation of the rates on a basket of indices against a base period.
    #[serde(default)]
    pub indexation: Option<IndexationTerms>,
    /// Fuel surcharge table on a fuel price index.
    #[serde(default)]
    pub fuel: Option<FuelTerms>,
    /// Activities billed open book (cost passed through) with a fee or markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_book: Option<OpenBookTerms>,
    /// Gainshare/painshare bands on one activity's cost against a baseline unit cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gainshare: Option<GainshareTerms>,
    /// FX clause with its rate table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx: Option<FxTerms>,
}

/// Which layers of `[cost_model]` make an activity's cost in open book and gainshare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// `variable_per_unit × volume`.
    Variable,
    /// Variable plus the activity's dedicated fixed cost (the site's own cost; the
    /// default: overhead is ours, and the fee covers it).
    #[default]
    Direct,
    /// Direct plus allocated overhead.
    Full,
}

/// The fee of `[commercial.open_book]`, on top of the cost passed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OpenBookFee {
    /// A management fee of a fixed amount per period.
    Fixed {
        /// The fee per period (≥ 0).
        amount: Decimal,
    },
    /// A management fee of a percentage of the cost passed through.
    PercentOfCost {
        /// Percent of cost (≥ 0).
        pct: Decimal,
    },
    /// Cost-plus: the cost marked up by `pct` % (billed as cost × (1 + pct/100)).
    Markup {
        /// Markup percent (≥ 0).
        pct: Decimal,
    },
}

/// `[commercial.open_book]`: the named activities are billed at their cost from
/// `[cost_model]` × volumes instead of the card's rate, plus the fee.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBookTerms {
    /// Activities billed open book (at least one, each on the proposal card and in the
    /// cost model).
    pub activities: Vec<String>,
    /// Which cost layers are passed through (default `direct`).
    #[serde(default)]
    pub cost: CostBasis,
    /// The fee or markup.
    pub fee: OpenBookFee,
}

/// `[commercial.gainshare]`: the saving of the actual cost (from the cost model) of one
/// activity, or of a pool of activities, against the agreed baseline — Σ baseline unit
/// cost × volume — shared in bands of saving %. One activity is `activity` with
/// `baseline_unit_cost`; a pool is `baseline_unit_costs`, a table of activity → unit
/// cost. Exactly one of the two forms.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GainshareTerms {
    /// The activity (on the proposal card and in the cost model), in the one-activity form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// The agreed cost per unit the saving is measured against, in the one-activity form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_unit_cost: Option<Decimal>,
    /// The pool form: each activity with its agreed cost per unit.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub baseline_unit_costs: std::collections::BTreeMap<String, Decimal>,
    /// Which cost layers make the actual cost (default `direct`).
    #[serde(default)]
    pub cost: CostBasis,
    /// Bands sharing a saving, in order from 0 %.
    pub band: Vec<ShareBandTerms>,
    /// Bands sharing an overrun (none: the provider bears none of it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pain: Vec<ShareBandTerms>,
}

/// One `[[commercial.gainshare.band]]` or `[[commercial.gainshare.pain]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareBandTerms {
    /// Lower bound, percent of the baseline cost.
    pub from_pct: Decimal,
    /// Upper bound (absent: open-ended, the last band only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_pct: Option<Decimal>,
    /// The provider's share of the slice, percent.
    pub provider_pct: Decimal,
}

/// `[commercial.fx]`: the named activities are repriced when the pair's rate has moved
/// beyond the deadband from the base rate; the rate is the table's latest on or before
/// the priced period's review date.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxTerms {
    /// `FROM/TO` as quoted, e.g. `EUR/USD` (units of TO per FROM).
    pub pair: String,
    /// The contract's base rate.
    pub base_rate: Decimal,
    /// Its fixing date (YYYY-MM-DD).
    pub base_date: String,
    /// Neutral band, percent.
    pub deadband_pct: Decimal,
    /// `full` or `beyond_band`.
    #[serde(default)]
    pub pass_through: kam_core::pricing::FxPassThrough,
    /// Date (YYYY-MM-DD) → rate.
    pub rates: BTreeMap<String, Decimal>,
    /// Activities repriced (all the proposal's card-billed lines when empty).
    #[serde(default)]
    pub activities: Vec<String>,
}

/// `[commercial.indexation]`: rates × (fixed share + Σ weight × index now / index then).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexationTerms {
    /// The period the proposal's rates are at.
    pub base_period: String,
    /// Share of the rate that is not indexed.
    pub fixed_share: Decimal,
    /// The basket: indices of `indices` with their weights.
    pub basket: Vec<BasketItem>,
    /// Activities indexed (all the proposal's when empty).
    #[serde(default)]
    pub activities: Vec<String>,
}

/// One index of an indexation basket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketItem {
    /// An index of `[commercial.indices]`.
    pub index: String,
    /// Its weight (> 0).
    pub weight: Decimal,
}

/// `[commercial.fuel]`: a surcharge of `pct_per_step` % for each started `step` the fuel
/// index is above `base` in the priced period, up to `ceiling_pct`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuelTerms {
    /// An index of `[commercial.indices]` (fuel price by period).
    pub index: String,
    /// Fuel price at which no surcharge applies.
    pub base: Decimal,
    /// Price step (> 0).
    pub step: Decimal,
    /// Surcharge % per full step.
    pub pct_per_step: Decimal,
    /// Highest surcharge %.
    #[serde(default)]
    pub ceiling_pct: Option<Decimal>,
    /// Activities surcharged (all the proposal's when empty).
    #[serde(default)]
    pub activities: Vec<String>,
}

/// `[[served]]` in `pricing.toml`: quantities of `volumes` performed at another node or
/// for another service line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedSplit {
    /// Account node.
    pub node: String,
    /// Service line.
    pub service_line: String,
    /// Activity → quantity performed there.
    pub volumes: Volumes,
}

/// `negotiation.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegotiationFile {
    /// The unit-price issue whose floor comes from the cost model.
    pub price_issue: String,
    /// Activity of the cost model behind the price issue.
    #[serde(default = "pick_line")]
    pub price_activity: String,
    /// Minimum margin % on the price issue.
    pub min_margin_pct: Decimal,
    /// Seller bargaining power in [0, 1].
    pub seller_power: Decimal,
    /// Grid levels per continuous issue.
    pub levels_per_range: usize,
    /// Issues and parties.
    pub space: NegotiationSpace,
}

fn pick_line() -> String {
    "pick_line".into()
}

/// `kpis.toml`: KPIs added to the standard library.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiFile {
    /// Custom KPIs.
    #[serde(default)]
    pub kpi: Vec<Kpi>,
    /// Observations computed from pricing.toml instead of typed in.
    #[serde(default)]
    pub computed: Vec<ComputedKpi>,
}

/// One row of `kpi_observations.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObservationRow {
    /// Site (account node id).
    pub node: String,
    /// Period label, e.g. `2026-11`.
    pub period: String,
    /// KPI id.
    pub kpi: String,
    /// Numerator component (on-time orders, damaged units, cost…).
    pub numerator: Decimal,
    /// Denominator component (orders, units, revenue; 1 for counts).
    pub denominator: Decimal,
}

/// One row of a volumes table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeRow {
    /// Activity name.
    pub activity: String,
    /// Quantity.
    pub quantity: Decimal,
}

/// An escalation as recorded: replayed on the SLA ladder.
///
/// Times carry their UTC offset (RFC 3339, `2026-11-18T06:40:00-06:00` or `…Z`): an
/// escalation's SLA runs in hours, and a time without a zone is hours off for someone.
/// A time without one is an error at its line, naming the field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRecord {
    /// Id.
    pub id: String,
    /// Account node.
    #[serde(default)]
    pub node: Option<String>,
    /// The KPI it is about, if any: an alert of this KPI at `node` links to this
    /// escalation instead of opening one by policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    /// Subject.
    pub title: String,
    /// S1–S4.
    pub severity: Severity,
    /// When it was opened.
    #[serde(deserialize_with = "zoned")]
    pub opened: DateTime<FixedOffset>,
    /// When it was resolved, if it was.
    #[serde(default, deserialize_with = "zoned_opt")]
    pub resolved: Option<DateTime<FixedOffset>>,
}

/// Parses an RFC 3339 time with a UTC offset; a time without one is refused with the
/// fix in the message.
pub fn parse_zoned(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        let naive = [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .any(|f| NaiveDateTime::parse_from_str(text.trim(), f).is_ok());
        if naive {
            format!(
                "{text:?} has no time zone: add its UTC offset, e.g. \"{}+01:00\" or \"{}Z\"",
                text.trim(),
                text.trim()
            )
        } else {
            format!("{text:?} is not an RFC 3339 time with a UTC offset (e.g. \"2026-11-18T06:40:00+01:00\")")
        }
    })
}

fn zoned<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    let text = String::deserialize(d)?;
    parse_zoned(&text).map_err(serde::de::Error::custom)
}

fn zoned_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(text) => parse_zoned(&text).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// `actions.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsFile {
    /// Action plans.
    #[serde(default)]
    pub action: Vec<ActionPlan>,
    /// Escalations.
    #[serde(default)]
    pub escalation: Vec<EscalationRecord>,
}

/// `[[computed]]` in `kpis.toml`: an observation computed from `pricing.toml` — the
/// cost model × the priced volumes over the baseline's billed revenue — instead of
/// typed into the observations file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputedKpi {
    /// The KPI observed (a ratio KPI such as `cost_to_serve_pct` or `margin_pct`).
    pub kpi: String,
    /// What the numerator is: the full cost to serve, or the margin after it.
    pub from: ComputedFrom,
}

/// The numerator of a [`ComputedKpi`]; the denominator is always the revenue billed on
/// the baseline card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComputedFrom {
    /// CM1 + CM2 + CM3 costs of the cost model at the volumes.
    CostToServe,
    /// Revenue − cost to serve.
    Margin,
}

/// The KPI data of an account: the library, every observation rolled up the hierarchy.
#[derive(Debug)]
pub struct KpiData {
    /// The library: kam's standard KPIs plus `kpis.toml`.
    pub library: KpiLibrary,
    /// The observations rolled up site → country → region → global.
    pub rolled: RolledUp,
    /// Periods, oldest first.
    pub periods: Vec<String>,
    /// Site ids, in account order.
    pub sites: Vec<String>,
    /// The top node's id.
    pub root: String,
    /// Where each (node, KPI, period) observation came from: file and line.
    pub origin: BTreeMap<(String, String, String), (String, usize)>,
}

/// A growth year's revenue target and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedTarget {
    /// Contract year of the growth scenario (1-based).
    pub year: u32,
    /// The target used.
    pub revenue: Decimal,
    /// The plan target's id it came from, or `None` when growth.toml typed it alone.
    pub plan_target: Option<String>,
    /// What growth.toml typed for the year, if anything.
    pub typed: Option<Decimal>,
}

/// An account directory, loaded once.
#[derive(Debug)]
pub struct Account {
    source: Source,
    texts: BTreeMap<String, String>,
    /// The one script host of the account's Rhai rules, made when a rule is first loaded
    /// (registering the analyst API takes milliseconds; checks load several rules).
    script_host: std::sync::OnceLock<std::sync::Arc<kam_script::ScriptHost>>,
    /// `kam.toml`.
    pub manifest: Manifest,
    /// `account.toml`: the customer's structure (global → region → country → site).
    pub structure: Option<kam_core::account::Account>,
    /// `plan.toml`.
    pub plan: Option<Plan>,
    /// `stakeholders.toml` followed by the records of kam.toml's `[import.*]` tables.
    pub stakeholders: Option<StakeholderMap>,
    /// Where each stakeholder record came from (stakeholders.toml or an imported table).
    pub stakeholder_origins: crate::import::Origins,
    /// `pricing.toml`.
    pub pricing: Option<PricingFile>,
    /// `negotiation.toml`.
    pub negotiation: Option<NegotiationFile>,
    /// `growth.toml`, its targets resolved from the plan (see the module docs).
    pub growth: Option<Scenario>,
    /// Where the scenario's deals imported from kam.toml's `[import.pipeline]` export
    /// came from (`None`: every deal is growth.toml's).
    pub pipeline_origins: Option<crate::pipeline_import::PipelineOrigins>,
    /// Each growth year's target and its origin.
    pub growth_targets: Vec<ResolvedTarget>,
    /// `kpis.toml`'s computed observations.
    pub computed: Vec<ComputedKpi>,
    /// `kpis.toml`'s own KPIs (added to kam's standard library).
    pub custom_kpis: Vec<Kpi>,
    /// The typed observations, in file order (the rolled-up data is [`Account::kpi`]).
    pub observations: Vec<ObservationRow>,
    /// The KPI library and observations rolled up (needs `account.toml` and the
    /// observations file).
    pub kpi: Option<KpiData>,
    /// The KPI library (also without observations).
    pub library: KpiLibrary,
    /// `scorecard.toml`.
    pub scorecard: Option<Template>,
    /// `actions.toml` (empty when absent).
    pub actions: ActionsFile,
    /// `labels.toml`: how the report names the account's ids (`supply_chain` →
    /// "Supply chain"); every key must be an id the account uses.
    pub labels: BTreeMap<String, String>,
    /// `delivery.toml`: implementation projects and our people's capacity (its projects
    /// linked to growth deals are also in [`Account::growth`]'s `projects`).
    pub delivery: Option<crate::delivery::DeliveryFile>,
    /// `alerts.toml`: routing, grace and verification periods, severities, escalation
    /// rules and SLAs (`None` when absent: see [`crate::alerting::AlertSettings::defaults`]).
    pub alerting: Option<crate::alerting::AlertSettings>,
}

/// `labels.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsFile {
    /// Id → label.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

const OBSERVATIONS_CSV: &str = "kpi_observations.csv";
const OBSERVATIONS_XLSX: &str = "kpi_observations.xlsx";

impl Account {
    /// Opens an account directory on disk.
    ///
    /// # Errors
    /// Not a directory, or any file that does not parse (file:line:col, field).
    pub fn open(dir: &std::path::Path) -> Result<Account, AccountError> {
        if !dir.is_dir() {
            return Err(AccountError::invalid(format!(
                "{}: not a directory (expected an account directory with kam.toml)",
                dir.display()
            )));
        }
        Account::load(Source::Dir(dir.to_owned()))
    }

    /// The embedded sample account (what `kam demo` runs).
    ///
    /// # Errors
    /// None in practice: the sample is tested; the `Result` is the loader's.
    pub fn sample() -> Result<Account, AccountError> {
        Account::load(Source::Sample)
    }

    /// Reads and parses every file `source` has, and links them.
    ///
    /// # Errors
    /// The first file that cannot be read or parsed, at its file:line:col and field;
    /// a reference the loader needs to follow (an observation's node or KPI) that
    /// points nowhere.
    pub fn load(source: Source) -> Result<Account, AccountError> {
        let mut texts = BTreeMap::new();
        let manifest: Manifest =
            parse(&source, &mut texts, "kam.toml")?.ok_or_else(|| AccountError::Missing {
                file: source.display("kam.toml"),
                needed_by: "every account directory".into(),
            })?;
        let structure: Option<kam_core::account::Account> = parse(&source, &mut texts, "account.toml")?;
        let plan: Option<Plan> = parse(&source, &mut texts, "plan.toml")?;
        let mut stakeholders = parse_stakeholders(&source, &mut texts)?;
        let stakeholder_origins = if manifest.import.is_empty() {
            crate::import::Origins::new(source.display("stakeholders.toml"))
        } else {
            let mut map = stakeholders.take().unwrap_or_default();
            let manifest_text = texts.get("kam.toml").cloned().unwrap_or_default();
            let origins = crate::import::import(
                &manifest.import,
                &source,
                &mut texts,
                source.display("stakeholders.toml"),
                &manifest_text,
                &mut map,
            )?;
            stakeholders = Some(map);
            origins
        };
        let pricing: Option<PricingFile> = parse(&source, &mut texts, "pricing.toml")?;
        let negotiation: Option<NegotiationFile> = parse(&source, &mut texts, "negotiation.toml")?;
        let scorecard: Option<Template> = parse(&source, &mut texts, "scorecard.toml")?;
        let actions: ActionsFile = parse(&source, &mut texts, "actions.toml")?.unwrap_or_default();
        let kpi_file: KpiFile = parse(&source, &mut texts, "kpis.toml")?.unwrap_or_default();
        let labels: LabelsFile = parse(&source, &mut texts, "labels.toml")?.unwrap_or_default();
        let custom_kpis = kpi_file.kpi.clone();
        let mut library = KpiLibrary::contract_logistics();
        for k in kpi_file.kpi {
            let id = k.id.clone();
            library = library.with(k).map_err(|e| {
                AccountError::at(
                    place_of(&source, &texts, "kpis.toml", &format!("id = \"{id}\"")),
                    e,
                )
            })?;
        }
        let delivery: Option<crate::delivery::DeliveryFile> =
            parse(&source, &mut texts, crate::delivery::FILE)?;
        if let (Some(d), Some(text)) = (&delivery, texts.get(crate::delivery::FILE)) {
            crate::delivery::validate(d, &source.display(crate::delivery::FILE), text)?;
        }
        // growth.toml and the deals of kam.toml's `[import.pipeline]` export: one scenario.
        let pipeline = manifest.import.pipeline.as_ref();
        let (growth, pipeline_origins) = match read(&source, &mut texts, "growth.toml")? {
            Some(text) => {
                let manifest_text = texts.get("kam.toml").cloned().unwrap_or_default();
                let (scenario, origins) = crate::pipeline_import::growth(
                    &text,
                    &source,
                    &mut texts,
                    pipeline,
                    manifest.growth_start(),
                    &manifest_text,
                )?;
                (Some(scenario), origins)
            }
            None if pipeline.is_some() => {
                let text = texts.get("kam.toml").map(String::as_str).unwrap_or_default();
                let line = text
                    .find("[import.pipeline]")
                    .map_or(1, |o| files::line_col(text, o).0);
                return Err(FileError::at(
                    &source.display("kam.toml"),
                    line,
                    1,
                    Some("import.pipeline"),
                    format!(
                        "an imported pipeline needs {} (its horizon, regions and service lines)",
                        source.display("growth.toml")
                    ),
                )
                .into());
            }
            None => (None, None),
        };
        let alerting = match read(&source, &mut texts, "alerts.toml")? {
            Some(text) => {
                let hierarchy =
                    match &structure {
                        Some(s) => Some(s.hierarchy().map_err(|e| {
                            AccountError::at(place_of(&source, &texts, "account.toml", ""), e)
                        })?),
                        None => None,
                    };
                let cx = crate::alerting::Context {
                    library: &library,
                    hierarchy: hierarchy.as_ref(),
                    stakeholders: stakeholders.as_ref(),
                };
                Some(crate::alerting::parse(
                    &source.display("alerts.toml"),
                    &text,
                    &cx,
                )?)
            }
            None => None,
        };
        let mut account = Account {
            source,
            texts,
            script_host: std::sync::OnceLock::new(),
            manifest,
            structure,
            plan,
            stakeholders,
            stakeholder_origins,
            pricing,
            negotiation,
            growth,
            pipeline_origins,
            growth_targets: Vec::new(),
            computed: kpi_file.computed,
            custom_kpis,
            observations: Vec::new(),
            labels: labels.labels,
            kpi: None,
            library,
            scorecard,
            actions,
            delivery,
            alerting,
        };
        account.resolve_growth_targets()?;
        account.check_labels()?;
        account.link_projects();
        account.kpi = account.load_kpi_data()?;
        Ok(account)
    }

    /// A stakeholder map validation error (from building its graph) placed at the
    /// record and field it is about, in stakeholders.toml or the imported table.
    pub fn stakeholder_error(&self, e: kam_core::stakeholders::StakeholderError) -> AccountError {
        let text = self.text("stakeholders.toml");
        match &self.stakeholders {
            Some(map) => self.stakeholder_origins.locate(map, e, text),
            None => self
                .stakeholder_origins
                .locate(&StakeholderMap::default(), e, text),
        }
    }

    /// Where person `id` (theirs or ours) is recorded: stakeholders.toml or an imported
    /// table; stakeholders.toml line 1 when unknown.
    pub fn person_place(&self, id: &str) -> Place {
        self.stakeholders
            .as_ref()
            .and_then(|m| {
                self.stakeholder_origins
                    .person_place(m, id, self.text("stakeholders.toml"))
            })
            .unwrap_or_else(|| self.place("stakeholders.toml", None))
    }

    /// The sandboxed host the account's Rhai rules run in (one per account).
    pub fn script_host(&self) -> std::sync::Arc<kam_script::ScriptHost> {
        std::sync::Arc::clone(self.script_host.get_or_init(crate::rules::new_host))
    }

    /// Where the files come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The display name of the account file `name` (`scenarios/sample/plan.toml`).
    pub fn display(&self, name: &str) -> String {
        self.source.display(name)
    }

    /// The text of `name` as loaded (`None` for a file the account does not have or
    /// that was not read at load, such as rule scripts).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).map(String::as_str)
    }

    /// Every file loaded with its text, by name: what a history store keeps.
    pub fn texts(&self) -> &BTreeMap<String, String> {
        &self.texts
    }

    /// The text of a file the account refers to (a rule script), read now.
    ///
    /// # Errors
    /// It cannot be read.
    pub fn read_file(&self, name: &str) -> Result<String, AccountError> {
        match self.texts.get(name) {
            Some(t) => Ok(t.clone()),
            None => Ok(self.source.text(name)?),
        }
    }

    /// The 1-based line of the first occurrence of `needle` in `name` (1 if absent).
    pub fn line_of(&self, name: &str, needle: &str) -> usize {
        self.text(name)
            .and_then(|t| t.find(needle).map(|o| files::line_col(t, o).0))
            .unwrap_or(1)
    }

    /// The place of the first occurrence of `needle` in `name` (line 1 if absent).
    pub fn place(&self, name: &str, needle: Option<&str>) -> Place {
        Place {
            file: self.display(name),
            line: needle.map_or(1, |n| self.line_of(name, n)),
            column: 1,
            field: None,
        }
    }

    /// A domain error located at the first occurrence of `needle` in `name`.
    pub fn error_in(
        &self,
        name: &str,
        needle: Option<&str>,
        e: impl Into<crate::error::Source>,
    ) -> AccountError {
        AccountError::at(self.place(name, needle), e)
    }

    /// `file`'s parsed content, or a [`AccountError::Missing`] naming what needs it.
    ///
    /// # Errors
    /// The file is absent.
    pub fn need<'a, T>(
        &self,
        part: &'a Option<T>,
        file: &str,
        needed_by: &str,
    ) -> Result<&'a T, AccountError> {
        part.as_ref().ok_or_else(|| AccountError::Missing {
            file: self.display(file),
            needed_by: needed_by.to_owned(),
        })
    }

    /// The KPI data, or a [`AccountError::Missing`] naming the observations file.
    ///
    /// # Errors
    /// The account has no observations (or no account.toml to roll them up).
    pub fn kpi_data(&self, needed_by: &str) -> Result<&KpiData, AccountError> {
        self.kpi.as_ref().ok_or_else(|| AccountError::Missing {
            file: if self.structure.is_none() {
                self.display("account.toml")
            } else {
                self.display(OBSERVATIONS_CSV)
            },
            needed_by: needed_by.to_owned(),
        })
    }

    /// The first day of growth month 0 (kam.toml's `growth_start`, `"2027-01"`).
    pub fn growth_start(&self) -> Option<NaiveDate> {
        self.manifest.growth_start()
    }

    /// Where growth deal `name` is entered: its row in the pipeline export, or its
    /// `name = "…"` line in growth.toml (line 1 if neither).
    pub fn deal_place(&self, name: &str) -> Place {
        let imported = self.pipeline_origins.as_ref().and_then(|o| {
            let i = self
                .growth
                .as_ref()?
                .opportunities
                .iter()
                .position(|d| d.name == name)?;
            o.place(i, Some("name"))
        });
        imported.unwrap_or_else(|| self.place("growth.toml", Some(&format!("name = \"{name}\""))))
    }

    /// The top node of `account.toml`.
    pub fn root(&self) -> Option<&str> {
        self.structure
            .as_ref()?
            .nodes
            .iter()
            .find(|n| n.parent.is_none())
            .map(|n| n.id.as_str())
    }

    /// Each growth year's target: the plan's revenue target for the top node over
    /// exactly that contract year, else what growth.toml typed.
    fn resolve_growth_targets(&mut self) -> Result<(), AccountError> {
        let Some(scenario) = &self.growth else {
            return Ok(());
        };
        let typed: BTreeMap<u32, Decimal> = scenario.targets.iter().map(|t| (t.year, t.revenue)).collect();
        let start = self.growth_start();
        let root = self.root().map(str::to_owned);
        let mut resolved = Vec::new();
        for year in 1..=scenario.years() {
            let from_plan = match (start, &root, &self.plan) {
                (Some(start), Some(root), Some(plan)) => {
                    year_period(start, year).and_then(|(first, last)| {
                        plan.targets.iter().find_map(|t| match &t.value {
                            TargetValue::Revenue(m)
                                if &t.node == root && t.period.start == first && t.period.end == last =>
                            {
                                Some((t.id.clone(), m.amount()))
                            }
                            _ => None,
                        })
                    })
                }
                _ => None,
            };
            let typed_here = typed.get(&year).copied();
            match (from_plan, typed_here) {
                (Some((id, revenue)), typed) => resolved.push(ResolvedTarget {
                    year,
                    revenue,
                    plan_target: Some(id),
                    typed,
                }),
                (None, Some(revenue)) => resolved.push(ResolvedTarget {
                    year,
                    revenue,
                    plan_target: None,
                    typed: Some(revenue),
                }),
                (None, None) => {}
            }
        }
        if let Some(scenario) = &mut self.growth {
            scenario.targets = resolved
                .iter()
                .map(|t| YearTarget {
                    year: t.year,
                    revenue: t.revenue,
                })
                .collect();
        }
        self.growth_targets = resolved;
        Ok(())
    }

    /// Every id the account uses, that a label may name.
    pub fn ids(&self) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        if let Some(s) = &self.structure {
            ids.extend(s.nodes.iter().map(|n| n.id.clone()));
            ids.extend(s.service_lines.iter().map(|l| l.as_str().to_owned()));
            ids.extend(s.buying_centres.iter().map(|b| b.id.clone()));
        }
        if let Some(m) = &self.stakeholders {
            ids.extend(
                m.people
                    .iter()
                    .flat_map(|p| [p.region.clone(), p.function.clone()]),
            );
            ids.extend(["decision_maker", "approver", "evaluator", "user"].map(str::to_owned));
        }
        if let Some(g) = &self.growth {
            ids.extend(g.regions.iter().cloned());
            ids.extend(g.service_lines.iter().cloned());
        }
        ids.extend(self.library.kpis().iter().map(|k| k.id.clone()));
        ids
    }

    /// A label for an id the account does not use is a typo: an error at its line.
    fn check_labels(&self) -> Result<(), AccountError> {
        if self.labels.is_empty() {
            return Ok(());
        }
        let ids = self.ids();
        for key in self.labels.keys() {
            if !ids.contains(key) {
                let text = self.text("labels.toml").unwrap_or_default();
                let at = text
                    .lines()
                    .position(|l| {
                        let k = l.split('=').next().unwrap_or_default().trim().trim_matches('"');
                        k == key
                    })
                    .map_or(1, |i| i + 1);
                return Err(FileError::at(
                    &self.display("labels.toml"),
                    at,
                    1,
                    Some(key),
                    format!("{key:?} is not an id this account uses (a node, service line, region, function or KPI)"),
                )
                .into());
            }
        }
        Ok(())
    }

    /// How the report names `id`: the label table's entry, else the id humanized.
    pub fn label(&self, id: &str) -> String {
        crate::format::label(&self.labels, id)
    }

    /// The delivery projects linked to a growth deal go into the growth scenario: each
    /// path draws the go-live and starts the deal's revenue from it (needs kam.toml's
    /// `growth_start` to place the project's start date in the model's months).
    pub fn link_projects(&mut self) {
        let (Some(d), Some(start)) = (&self.delivery, self.growth_start()) else {
            return;
        };
        if let Some(g) = &mut self.growth {
            let deals = g.opportunities.iter().map(|o| o.name.as_str()).collect();
            g.projects = crate::delivery::sim_projects(d, start, &deals);
        }
    }

    /// Rolls the observations (typed and computed) up the hierarchy.
    fn load_kpi_data(&mut self) -> Result<Option<KpiData>, AccountError> {
        let Some(structure) = &self.structure else {
            return Ok(None);
        };
        let (file, rows) = if let Some(p) = self.source.path(OBSERVATIONS_XLSX).filter(|p| p.is_file()) {
            (p.display().to_string(), files::read_xlsx::<ObservationRow>(&p)?)
        } else {
            match read(&self.source, &mut self.texts, OBSERVATIONS_CSV)? {
                Some(text) => {
                    let file = self.source.display(OBSERVATIONS_CSV);
                    let rows = files::parse_csv(&file, &text)?;
                    (file, rows)
                }
                None => return Ok(None),
            }
        };
        let hierarchy = structure
            .hierarchy()
            .map_err(|e| AccountError::at(self.place("account.toml", None), e))?;
        let library = self.library.clone();
        let computed = self.computed_observations()?;
        let periods: Vec<String> = rows
            .iter()
            .map(|r| r.record.period.clone())
            .chain(computed.iter().map(|c| c.1.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut table =
            ObservationTable::new(&library, &hierarchy, periods.clone()).map_err(AccountError::domain)?;
        let node_ids: BTreeSet<&str> = structure.nodes.iter().map(|n| n.id.as_str()).collect();
        let at =
            |line, column, field: &str, msg: String| FileError::at(&file, line, column, Some(field), msg);
        let mut origin = BTreeMap::new();
        for r in &rows {
            let o = &r.record;
            if !node_ids.contains(o.node.as_str()) {
                return Err(at(
                    r.line,
                    1,
                    "node",
                    format!("unknown account node {:?} (not in account.toml)", o.node),
                )
                .into());
            }
            if library.position(&o.kpi).is_none() {
                return Err(at(
                    r.line,
                    3,
                    "kpi",
                    format!("unknown KPI {:?} (not in the KPI library or kpis.toml)", o.kpi),
                )
                .into());
            }
            table
                .record(
                    &o.node,
                    &o.kpi,
                    &o.period,
                    Observation::ratio(o.numerator, o.denominator),
                )
                .map_err(|e| at(r.line, 4, "numerator", e.to_string()))?;
            origin.insert(
                (o.node.clone(), o.kpi.clone(), o.period.clone()),
                (file.clone(), r.line),
            );
        }
        for (node, period, kpi, obs, line) in computed {
            let key = (node.clone(), kpi.clone(), period.clone());
            if let Some((f, l)) = origin.get(&key) {
                return Err(FileError::at(
                    &self.display("kpis.toml"),
                    line,
                    1,
                    Some("computed"),
                    format!("{kpi} at {node} in {period} is computed from pricing.toml and also typed at {f}:{l}: keep one"),
                )
                .into());
            }
            table
                .record(&node, &kpi, &period, obs)
                .map_err(|e| FileError::at(&self.display("kpis.toml"), line, 1, Some("computed"), e))?;
            origin.insert(key, (self.display("kpis.toml"), line));
        }
        let rolled = table.roll_up().map_err(AccountError::domain)?;
        self.observations = rows.into_iter().map(|r| r.record).collect();
        let sites = structure
            .nodes
            .iter()
            .filter(|n| n.level == kam_core::account::NodeLevel::Site)
            .map(|n| n.id.clone())
            .collect();
        Ok(Some(KpiData {
            library,
            rolled,
            periods,
            sites,
            root: hierarchy.root().to_owned(),
            origin,
        }))
    }

    /// `kpis.toml`'s `[[computed]]` entries as (node, period, KPI, observation, line).
    fn computed_observations(&self) -> Result<Vec<ComputedObservation>, AccountError> {
        let mut out = Vec::new();
        for (i, c) in self.computed.iter().enumerate() {
            let line = nth_line(self.text("kpis.toml").unwrap_or_default(), "[[computed]]", i);
            let here = |msg: String| {
                AccountError::from(FileError::at(
                    &self.display("kpis.toml"),
                    line,
                    1,
                    Some("computed"),
                    msg,
                ))
            };
            let Some(p) = &self.pricing else {
                return Err(here(format!(
                    "{} is computed from pricing.toml, which this account does not have",
                    c.kpi
                )));
            };
            if self.library.position(&c.kpi).is_none() {
                return Err(here(format!(
                    "unknown KPI {:?} (not in the KPI library or kpis.toml)",
                    c.kpi
                )));
            }
            let revenue = p
                .baseline
                .price(p.volumes.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(|e| here(format!("pricing.toml's baseline cannot be priced: {e}")))?
                .total()
                .amount();
            let layers = p
                .cost_model
                .cost_layers(p.volumes.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(|e| here(format!("pricing.toml's cost model: {e}")))?;
            let mut cost = Decimal::ZERO;
            for l in layers {
                cost = cost
                    .checked_add(l)
                    .ok_or_else(|| here("cost to serve overflows".into()))?;
            }
            let numerator = match c.from {
                ComputedFrom::CostToServe => cost,
                ComputedFrom::Margin => revenue
                    .checked_sub(cost)
                    .ok_or_else(|| here("margin overflows".into()))?,
            };
            out.push((
                p.node.clone(),
                p.period.clone(),
                c.kpi.clone(),
                Observation::ratio(numerator, revenue),
                line,
            ));
        }
        Ok(out)
    }
}

/// A computed observation: node, period, KPI, the observation, its line in kpis.toml.
type ComputedObservation = (String, String, String, Observation, usize);

/// The first and last day of contract year `year` (1-based) from `start`.
pub fn year_period(start: NaiveDate, year: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = start.checked_add_months(chrono::Months::new(12 * (year.checked_sub(1)?)))?;
    let next = first.checked_add_months(chrono::Months::new(12))?;
    Some((first, next.pred_opt()?))
}

/// The line of the `n`-th (0-based) occurrence of `needle` in `text` (1 if absent).
fn nth_line(text: &str, needle: &str, n: usize) -> usize {
    text.match_indices(needle)
        .nth(n)
        .map_or(1, |(o, _)| files::line_col(text, o).0)
}

/// The place of `needle` in `texts[name]`.
fn place_of(source: &Source, texts: &BTreeMap<String, String>, name: &str, needle: &str) -> Place {
    Place {
        file: source.display(name),
        line: texts
            .get(name)
            .and_then(|t| t.find(needle).map(|o| files::line_col(t, o).0))
            .unwrap_or(1),
        column: 1,
        field: None,
    }
}

/// The text of `name`, kept in `texts`; `None` when the source has no such file.
fn read(
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    name: &str,
) -> Result<Option<String>, AccountError> {
    if !source.exists(name) {
        return Ok(None);
    }
    let text = source.text(name)?;
    texts.insert(name.to_owned(), text.clone());
    Ok(Some(text))
}

/// Parses the TOML file `name` if the source has it.
fn parse<T: serde::de::DeserializeOwned>(
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    name: &str,
) -> Result<Option<T>, AccountError> {
    match read(source, texts, name)? {
        Some(text) => Ok(Some(files::parse_toml(&source.display(name), &text)?)),
        None => Ok(None),
    }
}

/// `stakeholders.toml`, through the fast reader when it has the plain shape (a large
/// map is most of an account's bytes), else through the toml crate.
fn parse_stakeholders(
    source: &Source,
    texts: &mut BTreeMap<String, String>,
) -> Result<Option<StakeholderMap>, AccountError> {
    const NAME: &str = "stakeholders.toml";
    if !source.exists(NAME) {
        return Ok(None);
    }
    // Kept once, in `texts`, and parsed from there: no second copy of a 55 MB file.
    texts.insert(NAME.to_owned(), source.text(NAME)?);
    let text = texts.get(NAME).map(String::as_str).unwrap_or_default();
    match crate::fastmap::parse(text) {
        Some(map) => Ok(Some(map)),
        None => Ok(Some(files::parse_toml(&source.display(NAME), text)?)),
    }
}

/// Reads a volumes table (`activity,quantity`) from CSV or XLSX.
///
/// # Errors
/// The file cannot be read or parsed, or names an activity twice.
pub fn read_volumes(path: &std::path::Path) -> Result<Volumes, FileError> {
    let rows: Vec<Row<VolumeRow>> = files::read_table(path)?;
    let mut v = Volumes::new();
    for r in rows {
        if v.insert(r.record.activity.clone(), r.record.quantity).is_some() {
            return Err(FileError::at(
                &path.display().to_string(),
                r.line,
                1,
                Some("activity"),
                format!("activity {:?} appears twice", r.record.activity),
            ));
        }
    }
    Ok(v)
}
