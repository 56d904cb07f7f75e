//! An account directory: the files kam reads, from disk or from the embedded sample.
//!
//! Layout (all optional except `kam.toml` and the files a subcommand needs):
//! `kam.toml` (manifest: as-of date, rules, plugins), `account.toml`, `plan.toml`,
//! `stakeholders.toml`, `pricing.toml`, `growth.toml`, `kpis.toml`,
//! `kpi_observations.csv` (or `.xlsx`), `scorecard.toml`, `negotiation.toml`,
//! `actions.toml`, `rules/*.rhai`.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::metrics::{ActionPlan, Kpi, Severity};
use kam_core::negotiation::NegotiationSpace;
use kam_core::pricing::{CostModel, RateCard, Volumes};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::files::{self, FileError, Row};

/// The sample account's files, embedded so `kam demo` works from any directory.
const SAMPLE: &[(&str, &str)] = &[
    ("kam.toml", include_str!("../../../scenarios/sample/kam.toml")),
    (
        "account.toml",
        include_str!("../../../scenarios/sample/account.toml"),
    ),
    ("plan.toml", include_str!("../../../scenarios/sample/plan.toml")),
    (
        "stakeholders.toml",
        include_str!("../../../scenarios/sample/stakeholders.toml"),
    ),
    (
        "pricing.toml",
        include_str!("../../../scenarios/sample/pricing.toml"),
    ),
    (
        "growth.toml",
        include_str!("../../../scenarios/sample/growth.toml"),
    ),
    ("kpis.toml", include_str!("../../../scenarios/sample/kpis.toml")),
    (
        "kpi_observations.csv",
        include_str!("../../../scenarios/sample/kpi_observations.csv"),
    ),
    (
        "scorecard.toml",
        include_str!("../../../scenarios/sample/scorecard.toml"),
    ),
    (
        "negotiation.toml",
        include_str!("../../../scenarios/sample/negotiation.toml"),
    ),
    (
        "actions.toml",
        include_str!("../../../scenarios/sample/actions.toml"),
    ),
    (
        "rules/three_misses.rhai",
        include_str!("../../../scenarios/sample/rules/three_misses.rhai"),
    ),
    (
        "rules/volume_rebate.rhai",
        include_str!("../../../scenarios/sample/rules/volume_rebate.rhai"),
    ),
];

/// Where the files come from.
#[derive(Debug, Clone)]
pub enum AccountDir {
    /// The embedded sample account (Nordwerk Automotive).
    Sample,
    /// A directory on disk.
    Dir(PathBuf),
}

/// The manifest, `kam.toml`.
#[derive(Debug, Clone, Deserialize)]
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
}

/// Rhai rule files by kind, relative to the directory.
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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
}

/// `pricing.toml`: one period's volumes priced on the current and the proposed card.
#[derive(Debug, Clone, Deserialize)]
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
}

/// `negotiation.toml`.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiFile {
    /// Custom KPIs.
    #[serde(default)]
    pub kpi: Vec<Kpi>,
}

/// One row of `kpi_observations.csv`.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
pub struct VolumeRow {
    /// Activity name.
    pub activity: String,
    /// Quantity.
    pub quantity: Decimal,
}

/// An escalation as recorded: replayed on the SLA ladder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRecord {
    /// Id.
    pub id: String,
    /// Account node.
    #[serde(default)]
    pub node: Option<String>,
    /// Subject.
    pub title: String,
    /// S1–S4.
    pub severity: Severity,
    /// When it was opened.
    pub opened: NaiveDateTime,
    /// When it was resolved, if it was.
    #[serde(default)]
    pub resolved: Option<NaiveDateTime>,
}

/// `actions.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsFile {
    /// Action plans.
    #[serde(default)]
    pub action: Vec<ActionPlan>,
    /// Escalations.
    #[serde(default)]
    pub escalation: Vec<EscalationRecord>,
}

impl AccountDir {
    /// The directory given, or the embedded sample when `None`.
    pub fn new(dir: Option<&Path>) -> Self {
        dir.map_or(AccountDir::Sample, |d| AccountDir::Dir(d.to_owned()))
    }

    /// The display name of `name` in this directory.
    pub fn display(&self, name: &str) -> String {
        match self {
            AccountDir::Sample => format!("sample/{name}"),
            AccountDir::Dir(d) => d.join(name).display().to_string(),
        }
    }

    /// The path of `name` on disk (`None` for the sample).
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        match self {
            AccountDir::Sample => None,
            AccountDir::Dir(d) => Some(d.join(name)),
        }
    }

    /// Whether `name` exists.
    pub fn exists(&self, name: &str) -> bool {
        match self {
            AccountDir::Sample => SAMPLE.iter().any(|(n, _)| *n == name),
            AccountDir::Dir(d) => d.join(name).is_file(),
        }
    }

    /// The text of `name`.
    pub fn text(&self, name: &str) -> Result<String, FileError> {
        match self {
            AccountDir::Sample => SAMPLE
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| (*t).to_owned())
                .ok_or_else(|| FileError::Io {
                    file: self.display(name),
                    message: "not in the embedded sample".into(),
                }),
            AccountDir::Dir(d) => files::read_text(&d.join(name)),
        }
    }

    /// Parses the TOML file `name`.
    pub fn toml<T: DeserializeOwned>(&self, name: &str) -> Result<T, FileError> {
        files::parse_toml(&self.display(name), &self.text(name)?)
    }

    /// The manifest.
    pub fn manifest(&self) -> Result<Manifest, FileError> {
        self.toml("kam.toml")
    }

    /// KPI observations from `kpi_observations.xlsx` if present, else the CSV.
    pub fn observations(&self) -> Result<(String, Vec<Row<ObservationRow>>), FileError> {
        if let Some(p) = self.path("kpi_observations.xlsx").filter(|p| p.is_file()) {
            return Ok((p.display().to_string(), files::read_xlsx(&p)?));
        }
        let name = "kpi_observations.csv";
        let file = self.display(name);
        let rows = files::parse_csv(&file, &self.text(name)?)?;
        Ok((file, rows))
    }

    /// The line of the first occurrence of `needle` in `name` (1 if absent).
    pub fn line_of(&self, name: &str, needle: &str) -> usize {
        self.text(name)
            .ok()
            .and_then(|t| t.find(needle).map(|o| files::line_col(&t, o).0))
            .unwrap_or(1)
    }
}

/// Reads a volumes table (`activity,quantity`) from CSV or XLSX.
pub fn read_volumes(path: &Path) -> Result<Volumes, FileError> {
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
