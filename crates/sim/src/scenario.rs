//! The scenario model and its TOML file format.
//!
//! A [`Scenario`] is plain serde data (TOML and JSON round trip). [`Scenario::validate`]
//! checks it and names the offending field by path (`opportunity[3].value`);
//! [`load_scenario`] / [`parse_scenario`] read a TOML file and turn both TOML errors and
//! validation errors into [`ScenarioError`]s that name the file, line, column and field.
//!
//! ```toml
//! name = "Global OEM — growth 2027-2029"
//! currency = "EUR"
//! horizon_months = 36
//! service_lines = ["warehousing", "transport"]
//! regions = ["emea", "apac"]
//!
//! [volume_index]          # log-random walk with monthly shocks, plus scheduled steps
//! drift = "0.001"
//! volatility = "0.02"
//! shocks = [{ month = 6, change = "-0.08" }]   # the OEM cuts volumes 8 % from month 6
//!
//! [[base_book]]
//! service_line = "warehousing"
//! site = "Leipzig"
//! region = "emea"
//! monthly_revenue = "420000"
//! monthly_loss_hazard = "0.002"
//! annual_escalation = "0.025"
//! volume_exposure = "0.8"
//! margin_pct = "11"
//!
//! [[opportunity]]
//! name = "Leipzig inbound"
//! service_line = "warehousing"
//! region = "emea"
//! win_probability = "0.6"
//! value = { kind = "pert", min = "900000", mode = "1200000", max = "1600000" }
//! start_month = 6
//! slippage = { kind = "uniform", min = 0, max = 3 }
//! ramp_up_months = 4
//! margin_pct = "9"
//!
//! [[correlation_group]]
//! name = "platform launch"
//! deals = ["Leipzig inbound"]
//!
//! [[target]]
//! year = 1
//! revenue = "5500000"
//! ```
//!
//! Write decimals as strings (`"0.6"`) to keep them exact; TOML floats go through `f64`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::ModelError;
use crate::dist::ValueDistribution;

/// The whole what-if model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Scenario name, shown in results.
    pub name: String,
    /// ISO 4217 code of all amounts (informational; all amounts share it).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Simulated months (≥ 1); contract year y covers months `12(y−1) .. 12y`.
    pub horizon_months: u32,
    /// The service lines every line and deal must name.
    pub service_lines: Vec<String>,
    /// The regions every line and deal must name.
    pub regions: Vec<String>,
    /// The shared customer volume index.
    #[serde(default)]
    pub volume_index: VolumeIndex,
    /// Current business.
    #[serde(default)]
    pub base_book: Vec<BaseLine>,
    /// The pipeline.
    #[serde(default, rename = "opportunity")]
    pub opportunities: Vec<SimOpportunity>,
    /// Deals that win or lose together.
    #[serde(default, rename = "correlation_group")]
    pub correlation_groups: Vec<CorrelationGroup>,
    /// Revenue targets per contract year.
    #[serde(default, rename = "target")]
    pub targets: Vec<YearTarget>,
    /// A growth rule for the CLI to load (a `.rhai` script or a `.wasm` plugin, relative
    /// to the scenario file). kam-sim itself takes rules as `GrowthRule` trait objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Implementation projects whose simulated go-live starts a deal's revenue (instead
    /// of the deal's `start_month` and slippage).
    #[serde(default, rename = "project", skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<SimProject>,
}

/// Weeks in a mean Gregorian month (365.2425 / 12 / 7): project durations are in weeks,
/// the growth model is monthly.
pub const WEEKS_PER_MONTH: Decimal = Decimal::from_parts(4_348_125, 0, 0, false, 6);

/// An implementation project linked to a deal: on every path its tasks are drawn
/// (PERT, durations in **weeks**), the go-live milestone's finish found by the forward
/// pass, and the deal's revenue ramp starts in the first whole month after it:
/// `⌈start_month + finish / WEEKS_PER_MONTH⌉` (never before month 0).
///
/// ```toml
/// [[project]]
/// name = "leipzig-nx"
/// deal = "Leipzig NX sequencing"
/// start_month = "1.5"          # mid-February for month 0 = January
/// go_live = "go-live"
/// shared = ["wms-upgrade"]     # drawn once per path for every project listing it
/// tasks = [
///   { id = "design", optimistic = "2", most_likely = "3", pessimistic = "6" },
///   { id = "wms-upgrade", optimistic = "3", most_likely = "4", pessimistic = "9", after = ["design"] },
///   { id = "go-live", optimistic = "0", most_likely = "0", pessimistic = "0", after = ["wms-upgrade"], milestone = true },
/// ]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimProject {
    /// Unique project name.
    pub name: String,
    /// The opportunity whose revenue starts at go-live (one project per deal).
    pub deal: String,
    /// When the project starts, in months from month 0 (fractions are part of a month;
    /// negative: it started before the horizon).
    #[serde(default)]
    pub start_month: Decimal,
    /// The go-live milestone's task id.
    pub go_live: String,
    /// Tasks, durations in weeks.
    pub tasks: Vec<kam_core::delivery::Task>,
    /// Ids of this project's tasks that are one physical task shared with the other
    /// projects listing the same id (one WMS upgrade): drawn once per path, so the
    /// projects' go-lives correlate. Their three durations must agree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<String>,
}

fn default_currency() -> String {
    "EUR".into()
}

/// The shared volume index `V_t`: `ln V_t = ln V_{t−1} + drift + volatility·Z_t` (Z
/// standard normal, `ln V_{−1} = 0`), times every scheduled step with `month ≤ t`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeIndex {
    /// Monthly drift of the log index.
    #[serde(default)]
    pub drift: Decimal,
    /// Monthly standard deviation of the log index shock (≥ 0).
    #[serde(default)]
    pub volatility: Decimal,
    /// Scheduled step changes (what-if shocks).
    #[serde(default)]
    pub shocks: Vec<VolumeShock>,
}

/// A scheduled step change of the volume index from `month` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeShock {
    /// First month affected (0-based).
    pub month: u32,
    /// Relative change, e.g. `-0.08` for an 8 % cut (> −1).
    pub change: Decimal,
}

/// One line of current business: a service line at a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseLine {
    /// Service line (one of the scenario's).
    pub service_line: String,
    /// Site name.
    pub site: String,
    /// Region (one of the scenario's).
    pub region: String,
    /// Revenue per month at the start (≥ 0).
    pub monthly_revenue: Decimal,
    /// Probability in `[0, 1]` that the line is lost in any one month after the first
    /// (the line bills month t with probability `(1 − h)^t`).
    #[serde(default)]
    pub monthly_loss_hazard: Decimal,
    /// Price escalation applied at each contract-year start: year y bills
    /// `(1 + e)^(y−1)` times the base.
    #[serde(default)]
    pub annual_escalation: Decimal,
    /// Exposure to the volume index: revenue × `max(0, 1 + exposure·(V_t − 1))`.
    #[serde(default = "one")]
    pub volume_exposure: Decimal,
    /// Contribution margin in percent of revenue.
    #[serde(default)]
    pub margin_pct: Decimal,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// Start-date slippage in whole months.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Slippage {
    /// Starts as planned.
    #[default]
    None,
    /// Always this many months late.
    Fixed {
        /// Months of delay.
        months: u32,
    },
    /// Uniform on the integers `min ..= max`.
    Uniform {
        /// Least delay.
        min: u32,
        /// Greatest delay.
        max: u32,
    },
    /// `months[i]` with `probabilities[i]` (summing to 1).
    Discrete {
        /// Delays in months.
        months: Vec<u32>,
        /// Their probabilities.
        probabilities: Vec<Decimal>,
    },
}

/// An opportunity as simulated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimOpportunity {
    /// Unique name.
    pub name: String,
    /// Service line (one of the scenario's).
    pub service_line: String,
    /// Region (one of the scenario's).
    pub region: String,
    /// Win probability in `[0, 1]`.
    pub win_probability: Decimal,
    /// Annual revenue at full run rate.
    pub value: ValueDistribution,
    /// Planned first month of revenue (0-based).
    pub start_month: u32,
    /// Start-date slippage.
    #[serde(default)]
    pub slippage: Slippage,
    /// Months of linear ramp-up: month k after start bills `(k+1)/ramp` of the run rate.
    #[serde(default)]
    pub ramp_up_months: u32,
    /// Contribution margin in percent of revenue.
    #[serde(default)]
    pub margin_pct: Decimal,
    /// Exposure to the volume index (as for base-book lines; default 0).
    #[serde(default)]
    pub volume_exposure: Decimal,
}

/// Deals that win or lose together (one platform launch across several sites): one
/// shared uniform draw `U`, deal i wins when `U < p_i`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationGroup {
    /// Group name.
    pub name: String,
    /// Opportunity names.
    pub deals: Vec<String>,
}

/// A revenue target for one contract year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearTarget {
    /// Contract year, 1-based.
    pub year: u32,
    /// Revenue target (≥ 0).
    pub revenue: Decimal,
}

impl Scenario {
    /// Number of (possibly partial) contract years in the horizon.
    pub fn years(&self) -> u32 {
        self.horizon_months.div_ceil(12)
    }

    /// Checks the whole model; the first problem found is returned with its field path.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.horizon_months == 0 {
            return Err(ModelError::ZeroHorizon);
        }
        if self.horizon_months > 1200 {
            return Err(ModelError::Invalid {
                field: "horizon_months".into(),
                message: format!("{} months is more than the 1200 supported", self.horizon_months),
            });
        }
        unique(&self.service_lines, "service_lines")?;
        unique(&self.regions, "regions")?;
        if self.service_lines.is_empty() {
            return Err(ModelError::Invalid {
                field: "service_lines".into(),
                message: "at least one service line is needed".into(),
            });
        }
        if self.regions.is_empty() {
            return Err(ModelError::Invalid {
                field: "regions".into(),
                message: "at least one region is needed".into(),
            });
        }
        let sl: HashSet<&str> = self.service_lines.iter().map(String::as_str).collect();
        let rg: HashSet<&str> = self.regions.iter().map(String::as_str).collect();
        let check_names = |field: String, s: &str, r: &str| -> Result<(), ModelError> {
            if !sl.contains(s) {
                return Err(ModelError::UnknownServiceLine {
                    field: format!("{field}.service_line"),
                    name: s.to_owned(),
                });
            }
            if !rg.contains(r) {
                return Err(ModelError::UnknownRegion {
                    field: format!("{field}.region"),
                    name: r.to_owned(),
                });
            }
            Ok(())
        };

        let vi = &self.volume_index;
        non_negative("volume_index.volatility", vi.volatility)?;
        for (i, s) in vi.shocks.iter().enumerate() {
            if s.change <= Decimal::NEGATIVE_ONE {
                return Err(ModelError::Invalid {
                    field: format!("volume_index.shocks[{i}].change"),
                    message: format!("a change of {} would leave no volume (must be > -1)", s.change),
                });
            }
        }

        for (i, b) in self.base_book.iter().enumerate() {
            let f = format!("base_book[{i}]");
            check_names(f.clone(), &b.service_line, &b.region)?;
            non_negative(&format!("{f}.monthly_revenue"), b.monthly_revenue)?;
            probability(&format!("{f}.monthly_loss_hazard"), b.monthly_loss_hazard)?;
            if b.annual_escalation <= Decimal::NEGATIVE_ONE {
                return Err(ModelError::Invalid {
                    field: format!("{f}.annual_escalation"),
                    message: format!("{} must be > -1", b.annual_escalation),
                });
            }
            non_negative(&format!("{f}.volume_exposure"), b.volume_exposure)?;
            margin(&format!("{f}.margin_pct"), b.margin_pct)?;
        }

        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, o) in self.opportunities.iter().enumerate() {
            let f = format!("opportunity[{i}]");
            if names.insert(o.name.as_str(), i).is_some() {
                return Err(ModelError::Duplicate {
                    field: format!("{f}.name"),
                    name: o.name.clone(),
                });
            }
            check_names(f.clone(), &o.service_line, &o.region)?;
            probability(&format!("{f}.win_probability"), o.win_probability)?;
            o.value.validate(&format!("{f}.value"))?;
            margin(&format!("{f}.margin_pct"), o.margin_pct)?;
            non_negative(&format!("{f}.volume_exposure"), o.volume_exposure)?;
            validate_slippage(&format!("{f}.slippage"), &o.slippage)?;
        }

        let mut grouped: HashSet<&str> = HashSet::new();
        for (i, g) in self.correlation_groups.iter().enumerate() {
            for (j, d) in g.deals.iter().enumerate() {
                let field = format!("correlation_group[{i}].deals[{j}]");
                if !names.contains_key(d.as_str()) {
                    return Err(ModelError::UnknownDeal {
                        field,
                        group: g.name.clone(),
                        deal: d.clone(),
                    });
                }
                if !grouped.insert(d.as_str()) {
                    return Err(ModelError::Duplicate {
                        field,
                        name: d.clone(),
                    });
                }
            }
        }

        self.validate_projects(&names)?;

        let mut years = HashSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            let f = format!("target[{i}]");
            if t.year == 0 || t.year > self.years() {
                return Err(ModelError::Invalid {
                    field: format!("{f}.year"),
                    message: format!(
                        "year {} is outside the horizon (years 1..={})",
                        t.year,
                        self.years()
                    ),
                });
            }
            if !years.insert(t.year) {
                return Err(ModelError::Duplicate {
                    field: format!("{f}.year"),
                    name: t.year.to_string(),
                });
            }
            non_negative(&format!("{f}.revenue"), t.revenue)?;
        }
        Ok(())
    }
}

impl Scenario {
    /// Projects: unique names, a known deal linked once, a valid network (the
    /// offending task named by its field path), a go-live task, shared tasks that exist
    /// and agree on their durations across projects.
    fn validate_projects(&self, deals: &HashMap<&str, usize>) -> Result<(), ModelError> {
        let mut names = HashSet::new();
        let mut linked = HashSet::new();
        let mut shared: HashMap<&str, (usize, &kam_core::delivery::Task)> = HashMap::new();
        for (i, p) in self.projects.iter().enumerate() {
            let f = format!("project[{i}]");
            if !names.insert(p.name.as_str()) {
                return Err(ModelError::Duplicate {
                    field: format!("{f}.name"),
                    name: p.name.clone(),
                });
            }
            if !deals.contains_key(p.deal.as_str()) {
                return Err(ModelError::Invalid {
                    field: format!("{f}.deal"),
                    message: format!("project {:?} names unknown deal {:?}", p.name, p.deal),
                });
            }
            if !linked.insert(p.deal.as_str()) {
                return Err(ModelError::Duplicate {
                    field: format!("{f}.deal"),
                    name: p.deal.clone(),
                });
            }
            let project = kam_core::delivery::Project {
                id: p.name.clone(),
                tasks: p.tasks.clone(),
            };
            if let Err(e) = project.network() {
                return Err(ModelError::Invalid {
                    field: task_field(&f, &p.tasks, &e),
                    message: format!("project {:?}: {e}", p.name),
                });
            }
            if !p.tasks.iter().any(|t| t.id == p.go_live) {
                return Err(ModelError::Invalid {
                    field: format!("{f}.go_live"),
                    message: format!("project {:?}: no task {:?}", p.name, p.go_live),
                });
            }
            for (j, id) in p.shared.iter().enumerate() {
                let Some(t) = p.tasks.iter().find(|t| &t.id == id) else {
                    return Err(ModelError::Invalid {
                        field: format!("{f}.shared[{j}]"),
                        message: format!("project {:?}: no task {id:?} to share", p.name),
                    });
                };
                match shared.get(id.as_str()) {
                    Some((k, other))
                        if (other.optimistic, other.most_likely, other.pessimistic)
                            != (t.optimistic, t.most_likely, t.pessimistic) =>
                    {
                        return Err(ModelError::Invalid {
                            field: format!("{f}.shared[{j}]"),
                            message: format!(
                                "shared task {id:?} has other durations than in project {:?}",
                                self.projects.get(*k).map_or("", |p| p.name.as_str())
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        shared.insert(id.as_str(), (i, t));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The field path of the task a delivery error names (`project[2].tasks[4]`), else the
/// project's tasks.
fn task_field(
    prefix: &str,
    tasks: &[kam_core::delivery::Task],
    e: &kam_core::delivery::DeliveryError,
) -> String {
    use kam_core::delivery::DeliveryError as D;
    let named = match e {
        D::EmptyId { index } => Some(*index),
        D::DuplicateTask { id } => tasks.iter().rposition(|t| &t.id == id),
        D::NegativeDuration { task, .. }
        | D::DurationOrder { task, .. }
        | D::Milestone { task, .. }
        | D::UnknownDependency { task, .. }
        | D::DuplicateDependency { task, .. } => tasks.iter().position(|t| &t.id == task),
        D::Cycle { tasks: ids } => ids.first().and_then(|id| tasks.iter().position(|t| &t.id == id)),
        _ => None,
    };
    match named {
        Some(j) => format!("{prefix}.tasks[{j}]"),
        None => format!("{prefix}.tasks"),
    }
}

fn unique(list: &[String], field: &str) -> Result<(), ModelError> {
    let mut seen = HashSet::new();
    for (i, s) in list.iter().enumerate() {
        if !seen.insert(s.as_str()) {
            return Err(ModelError::Duplicate {
                field: format!("{field}[{i}]"),
                name: s.clone(),
            });
        }
    }
    Ok(())
}

fn non_negative(field: &str, v: Decimal) -> Result<(), ModelError> {
    if v < Decimal::ZERO {
        Err(ModelError::Negative {
            field: field.to_owned(),
            value: v,
        })
    } else {
        Ok(())
    }
}

fn probability(field: &str, v: Decimal) -> Result<(), ModelError> {
    if v < Decimal::ZERO || v > Decimal::ONE {
        Err(ModelError::Probability {
            field: field.to_owned(),
            value: v,
        })
    } else {
        Ok(())
    }
}

fn margin(field: &str, v: Decimal) -> Result<(), ModelError> {
    if v > Decimal::ONE_HUNDRED || v < -Decimal::ONE_HUNDRED * Decimal::TEN {
        Err(ModelError::Invalid {
            field: field.to_owned(),
            message: format!("margin {v} % is outside [-1000, 100]"),
        })
    } else {
        Ok(())
    }
}

fn validate_slippage(field: &str, s: &Slippage) -> Result<(), ModelError> {
    match s {
        Slippage::None | Slippage::Fixed { .. } => Ok(()),
        Slippage::Uniform { min, max } => {
            if min > max {
                Err(ModelError::Invalid {
                    field: field.to_owned(),
                    message: format!("min {min} > max {max}"),
                })
            } else {
                Ok(())
            }
        }
        Slippage::Discrete {
            months,
            probabilities,
        } => {
            if months.is_empty() || months.len() != probabilities.len() {
                return Err(ModelError::Invalid {
                    field: field.to_owned(),
                    message: format!(
                        "{} months and {} probabilities (need the same, non-zero number)",
                        months.len(),
                        probabilities.len()
                    ),
                });
            }
            let mut sum = Decimal::ZERO;
            for (i, p) in probabilities.iter().enumerate() {
                probability(&format!("{field}.probabilities[{i}]"), *p)?;
                sum += *p; // each ≤ 1 and at most 2^32 entries: no overflow
            }
            if sum != Decimal::ONE {
                return Err(ModelError::Invalid {
                    field: format!("{field}.probabilities"),
                    message: format!("probabilities sum to {sum}, not 1"),
                });
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- loading

/// A scenario file that could not be read, parsed or validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// TOML syntax or a field of the wrong type / unknown field.
    #[error("{file}:{line}:{column}: {}{message}", field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The field path, where known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The file parses but the model is invalid.
    #[error("{file}:{line}:{column}: {source}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line of the offending field (1 when it could not be located).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The problem, with the field path.
        source: ModelError,
    },
}

/// Reads and validates a scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse_scenario(&text, &file)
}

/// Parses and validates scenario TOML; `file` is used in error messages.
///
/// ```
/// use kam_sim::scenario::{parse_scenario, ScenarioError};
/// let bad = "name = \"x\"\nhorizon_months = 0\nservice_lines = [\"w\"]\nregions = [\"emea\"]\n";
/// let err = parse_scenario(bad, "x.toml").unwrap_err();
/// assert!(matches!(err, ScenarioError::Invalid { line: 2, .. }));
/// assert!(err.to_string().starts_with("x.toml:2:1: horizon_months"));
/// ```
pub fn parse_scenario(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let scenario = parse_scenario_unvalidated(text, file)?;
    scenario
        .validate()
        .map_err(|source| invalid_at(text, file, source))?;
    Ok(scenario)
}

/// Parses scenario TOML without validating it, for a caller that completes the model
/// first (kam-account appends the deals of a CRM export) and then runs
/// [`Scenario::validate`], placing its error with [`invalid_at`].
pub fn parse_scenario_unvalidated(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let (line, column) = line_col(text, offset);
        let field = DeTable::parse(text)
            .ok()
            .and_then(|doc| field_at(doc.get_ref(), offset, String::new()));
        ScenarioError::Parse {
            file: file.to_owned(),
            line,
            column,
            field,
            message: e.message().trim_end().to_owned(),
        }
    })
}

/// A validation error of the scenario parsed from `text`, placed at its field's line
/// and column (the deepest part of the field path the text has; line 1 if none).
pub fn invalid_at(text: &str, file: &str, source: ModelError) -> ScenarioError {
    let offset = DeTable::parse(text)
        .ok()
        .and_then(|doc| span_of(doc.get_ref(), source.field()))
        .unwrap_or(0);
    let (line, column) = line_col(text, offset);
    ScenarioError::Invalid {
        file: file.to_owned(),
        line,
        column,
        source,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The byte offset of a field path like `opportunity[3].value.min` (the deepest part
/// that exists is used, so a missing key points at its table).
fn span_of(doc: &DeTable<'_>, path: &str) -> Option<usize> {
    let mut best = None;
    let mut table: Option<&DeTable<'_>> = Some(doc);
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let t = match (table, value) {
            (Some(t), _) => t,
            (None, Some(v)) => match v.get_ref() {
                DeValue::Table(t) => t,
                _ => break,
            },
            (None, None) => break,
        };
        let Some((k, v)) = t.iter().find(|(k, _)| k.get_ref().as_ref() == key) else {
            break;
        };
        best = Some(k.span().start);
        let mut v = v;
        if let Some(i) = index {
            let DeValue::Array(a) = v.get_ref() else { break };
            let Some(item) = a.get(i) else { break };
            v = item;
            best = Some(v.span().start);
        }
        table = None;
        value = Some(v);
    }
    best
}

/// The field path of the innermost value whose span contains `offset`. Every key is
/// visited: the spans of arrays of tables do not cover their items' keys.
fn field_at(table: &DeTable<'_>, offset: usize, prefix: String) -> Option<String> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (k, v) in table.iter() {
        let name = join(k.get_ref());
        let here = k.span().contains(&offset) || v.span().contains(&offset);
        match v.get_ref() {
            DeValue::Table(t) => {
                if let Some(found) = field_at(t, offset, name.clone()) {
                    return Some(found);
                }
            }
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    let n = format!("{name}[{i}]");
                    if let DeValue::Table(t) = item.get_ref()
                        && let Some(found) = field_at(t, offset, n.clone())
                    {
                        return Some(found);
                    }
                    if item.span().contains(&offset) && !matches!(item.get_ref(), DeValue::Table(_)) {
                        return Some(n);
                    }
                }
            }
            _ => {}
        }
        if here {
            return Some(name);
        }
    }
    None
}
