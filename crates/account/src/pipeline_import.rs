//! The pipeline from a CRM export: growth deals (`growth.toml`'s `[[opportunity]]`s)
//! read from a CSV (header row) or a worksheet that kam.toml's `[import.pipeline]` maps,
//! appended to growth.toml's deals in the one growth scenario.
//!
//! ```toml
//! [import.pipeline]
//! file = "crm/pipeline.csv"            # .csv, or .xlsx/.xlsm/.ods (with `sheet = "…"`)
//! name = "Opportunity Name"            # kam field = the export's column header
//! win_probability = "Probability (%)"
//! probability_unit = "percent"         # a bare 60 means 60 % (default "fraction": 0.6)
//! start_date = "Service Start"         # a date, placed in months from growth_start
//! values = { "Inbound" = "inbound_to_manufacturing" }   # the CRM's words → kam's
//! ```
//!
//! Fields (a field the mapping does not name is read from the column of its own name,
//! if the export has one): `name`, `service_line`, `region`, `win_probability`
//! (required); the value — `value` (fixed), `value_min`/`value_mode`/`value_max` (PERT,
//! or triangular with `distribution`), `value_mean`/`value_sd` (lognormal), and an
//! optional `distribution` column (`fixed`, `pert`, `triangular`, `lognormal`; without
//! it the filled cells say which); the start — `start_month` (0-based) or `start_date`
//! (`YYYY-MM-DD`: the first whole month from it, counted from kam.toml's
//! `growth_start`, so 2027-04-01 is month 3 and 2027-04-15 month 4 for `"2027-01"`),
//! one per row; slippage — `slippage_min` + `slippage_max` (uniform months),
//! `slippage_months` alone (a fixed delay), or `slippage_months` +
//! `slippage_probabilities` (`;`-separated, discrete); `ramp_up_months`, `margin_pct`
//! (`8.5` or `8.5%`), `volume_exposure` (empty: 0, as in growth.toml).
//!
//! A probability with a `%` sign is a percentage (0–100); a bare number is read in
//! `probability_unit`. Ambiguous values are errors, not guesses: a bare `60` in a
//! fraction column, or a bare `0.6` in a percent column (write `0.6%` if that is meant).
//! A percentage keeps its digits: `55` reads as `0.55`, exactly growth.toml's `"0.55"`.
//! Region, service line and distribution words go through `values`, then case, spaces
//! and hyphens are normalised as in the stakeholder import (`"Inbound to
//! Manufacturing"` is `inbound_to_manufacturing`).
//!
//! What one row shows is checked here, at file:line:column (a value of the wrong type,
//! a probability out of range, min > mode > max, an empty required cell, a row of the
//! wrong width); the scenario as a whole — a region or service line growth.toml does
//! not list, correlation groups and delivery projects naming the deals — is validated
//! once, by kam-sim, after the deals are appended, and its error placed back at the
//! row ([`PipelineOrigins`]). A deal name in both growth.toml and the export is an
//! error naming both places. This module does not read the stakeholder tables
//! ([`crate::import`]) and shares only its row reader.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use kam_sim::Scenario;
use kam_sim::dist::ValueDistribution;
use kam_sim::scenario::{SimOpportunity, Slippage};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{AccountError, Place};
use crate::files::{self, FileError};
use crate::import::{Columns, RowCx, Rows, Values, check_mapping_keys, imported_place, mapping_line};
use crate::source::Source;

/// How a probability without a `%` sign reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilityUnit {
    /// `0.6` is 60 % (growth.toml's form).
    #[default]
    Fraction,
    /// `60` is 60 % (a "Probability (%)" column).
    Percent,
}

impl ProbabilityUnit {
    fn is_default(&self) -> bool {
        *self == ProbabilityUnit::Fraction
    }
}

/// `[import.pipeline]`: the export's file and kam field → column header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineMapping {
    /// The file, relative to the account directory.
    pub file: String,
    /// The worksheet of a workbook (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The export's words for regions, service lines and distributions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// How a bare probability number reads.
    #[serde(default, skip_serializing_if = "ProbabilityUnit::is_default")]
    pub probability_unit: ProbabilityUnit,
    /// kam field → column header; checked against [`FIELDS`] when loading.
    #[serde(flatten)]
    pub columns: BTreeMap<String, String>,
}

/// The kam.toml table of the pipeline export's mapping.
const SECTION: &str = "[import.pipeline]";

/// The fields of an imported deal, (name, required), in the order of the constants below.
pub const FIELDS: &[(&str, bool)] = &[
    ("name", true),
    ("service_line", true),
    ("region", true),
    ("win_probability", true),
    ("distribution", false),
    ("value", false),
    ("value_min", false),
    ("value_mode", false),
    ("value_max", false),
    ("value_mean", false),
    ("value_sd", false),
    ("start_month", false),
    ("start_date", false),
    ("slippage_min", false),
    ("slippage_max", false),
    ("slippage_months", false),
    ("slippage_probabilities", false),
    ("ramp_up_months", false),
    ("margin_pct", false),
    ("volume_exposure", false),
];

const NAME: usize = 0;
const SERVICE_LINE: usize = 1;
const REGION: usize = 2;
const WIN_PROBABILITY: usize = 3;
const DISTRIBUTION: usize = 4;
const VALUE: usize = 5;
const VALUE_MIN: usize = 6;
const VALUE_MODE: usize = 7;
const VALUE_MAX: usize = 8;
const VALUE_MEAN: usize = 9;
const VALUE_SD: usize = 10;
const START_MONTH: usize = 11;
const START_DATE: usize = 12;
const SLIPPAGE_MIN: usize = 13;
const SLIPPAGE_MAX: usize = 14;
const SLIPPAGE_MONTHS: usize = 15;
const SLIPPAGE_PROBABILITIES: usize = 16;
const RAMP_UP_MONTHS: usize = 17;
const MARGIN_PCT: usize = 18;
const VOLUME_EXPOSURE: usize = 19;

/// Where the imported deals came from: the scenario's opportunities from index `first`
/// on are the export's rows, in order.
#[derive(Debug, Clone, Default)]
pub struct PipelineOrigins {
    /// Display name of the file (with `[sheet]` for a workbook).
    pub file: String,
    /// Deals before the first imported one (growth.toml's).
    pub first: usize,
    /// 1-based line (row) of each imported deal.
    lines: Vec<u32>,
    /// kam field → 1-based column.
    columns: BTreeMap<&'static str, usize>,
    /// Worksheet name, for `Sheet!C5` cell references.
    sheet: Option<String>,
}

impl PipelineOrigins {
    /// The place of opportunity `index` (of the whole scenario) at `field`, if it is an
    /// imported one.
    pub fn place(&self, index: usize, field: Option<&str>) -> Option<Place> {
        let line = *self.lines.get(index.checked_sub(self.first)?)? as usize;
        Some(imported_place(
            &self.file,
            self.sheet.as_deref(),
            &self.columns,
            line,
            field,
            "opportunity",
        ))
    }
}

/// growth.toml parsed, the export's deals appended (when kam.toml maps one), and the
/// whole scenario validated. `month0` is kam.toml's `growth_start`.
///
/// # Errors
/// growth.toml's own errors (at its line:col); the export's (at its file:line:col,
/// naming the field); a deal name in both; a scenario error about an imported deal
/// (placed at its row).
pub fn growth(
    text: &str,
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    mapping: Option<&PipelineMapping>,
    month0: Option<NaiveDate>,
    manifest_text: &str,
) -> Result<(Scenario, Option<PipelineOrigins>), AccountError> {
    let file = source.display("growth.toml");
    let mut scenario =
        kam_sim::scenario::parse_scenario_unvalidated(text, &file).map_err(AccountError::domain)?;
    let origins = match mapping {
        Some(m) => {
            let first = scenario.opportunities.len();
            let (deals, origins) = read(m, source, texts, month0, manifest_text, first)?;
            // A deal entered twice is an error in either place: name both.
            let typed: HashSet<&str> = scenario.opportunities.iter().map(|o| o.name.as_str()).collect();
            for (i, d) in deals.iter().enumerate() {
                // A region or service line growth.toml does not list is most often an
                // export's word kam does not know: say so at the cell.
                for (field, word, known, what) in [
                    ("region", &d.region, &scenario.regions, "regions"),
                    (
                        "service_line",
                        &d.service_line,
                        &scenario.service_lines,
                        "service_lines",
                    ),
                ] {
                    if !known.contains(word)
                        && let Some(p) = origins.place(first + i, Some(field))
                    {
                        return Err(AccountError::at(
                            p,
                            AccountError::invalid(format!(
                                "{word:?} is not one of {file}'s {what} ({}); map the export's word in kam.toml's [import.pipeline] `values`",
                                known.join(", ")
                            )),
                        ));
                    }
                }
                if typed.contains(d.name.as_str()) {
                    let at = origins.place(first + i, Some("name"));
                    let toml_line =
                        files::line_col(text, text.find(&format!("name = \"{}\"", d.name)).unwrap_or(0)).0;
                    let message = format!(
                        "deal {:?} is also in {file}:{toml_line}: enter each deal once, in growth.toml or the export",
                        d.name
                    );
                    return Err(match at {
                        Some(p) => AccountError::at(p, AccountError::invalid(message)),
                        None => AccountError::invalid(message),
                    });
                }
            }
            scenario.opportunities.extend(deals);
            Some(origins)
        }
        None => None,
    };
    scenario.validate().map_err(|e| {
        let imported = origins
            .as_ref()
            .and_then(|o| opportunity_field(e.field()).and_then(|(i, f)| o.place(i, Some(f))));
        match imported {
            Some(place) => AccountError::at(place, e),
            None => AccountError::domain(kam_sim::scenario::invalid_at(text, &file, e)),
        }
    })?;
    Ok((scenario, origins))
}

/// `opportunity[31].value.min` → (31, `value_min`): the export's column for a
/// scenario field path.
fn opportunity_field(path: &str) -> Option<(usize, &'static str)> {
    let rest = path.strip_prefix("opportunity[")?;
    let (index, rest) = rest.split_once(']')?;
    let field = rest.strip_prefix('.').unwrap_or(rest);
    // Indexes inside a field (`probabilities[1]`) name no other column.
    let parts: Vec<&str> = field
        .split('.')
        .map(|p| p.split('[').next().unwrap_or(p))
        .collect();
    let column = match parts.as_slice() {
        ["value", "min"] => "value_min",
        ["value", "mode"] => "value_mode",
        ["value", "max"] => "value_max",
        ["value", "mean"] => "value_mean",
        ["value", "sd"] => "value_sd",
        ["value", ..] => "value",
        ["slippage", "probabilities", ..] => "slippage_probabilities",
        ["slippage", ..] => "slippage_months",
        [f, ..] => FIELDS.iter().find(|(n, _)| n == f).map_or("name", |(n, _)| *n),
        [] => "name",
    };
    Some((index.parse().ok()?, column))
}

/// Reads the export's deals; `first` is the number of growth.toml's.
fn read(
    mapping: &PipelineMapping,
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    month0: Option<NaiveDate>,
    manifest_text: &str,
    first: usize,
) -> Result<(Vec<SimOpportunity>, PipelineOrigins), AccountError> {
    let manifest = source.display("kam.toml");
    let line = |key: Option<&str>| mapping_line(manifest_text, SECTION, key);
    check_mapping_keys(
        SECTION,
        FIELDS,
        &mapping.columns,
        "file, sheet, values, probability_unit",
        source,
        manifest_text,
    )?;
    let mut rows = Rows::open(source, &mapping.file, mapping.sheet.as_deref(), texts)?;
    let mut cols = Columns::resolve(FIELDS, &mapping.columns, &mut rows, |field, mapped| {
        if mapped {
            format!("mapped at {manifest}:{} {SECTION} {field}", line(Some(field)))
        } else {
            format!("kam's own name; map it in {manifest}:{} {SECTION}", line(None))
        }
    })?;
    let display = rows.file.clone();
    if cols.at(START_MONTH).is_none() && cols.at(START_DATE).is_none() {
        return Err(FileError::at(
            &display,
            rows.header_line,
            1,
            Some("start_month"),
            format!(
                "no start column: map start_month (a month number) or start_date (a date) in {manifest}:{} {SECTION}",
                line(None)
            ),
        )
        .into());
    }
    let values = Values::new(&mapping.values);
    let mut origins = PipelineOrigins {
        file: display.clone(),
        first,
        lines: Vec::new(),
        columns: std::mem::take(&mut cols.numbers),
        sheet: rows.sheet.clone(),
    };
    let mut deals = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = rows.next(&mut record)? {
        let row = Row {
            cx: RowCx {
                file: &display,
                line,
                cols: &cols,
                record: &record,
                fields: FIELDS,
                values: &values,
                sheet: rows.sheet.as_deref(),
            },
            unit: mapping.probability_unit,
            month0,
        };
        let deal = row.deal()?;
        if let Some(before) = seen.insert(deal.name.clone(), line) {
            return Err(row.error(
                NAME,
                format!(
                    "deal {:?} is already at line {before}: enter each deal once",
                    deal.name
                ),
            ));
        }
        deals.push(deal);
        origins.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
    }
    Ok((deals, origins))
}

/// One row being read: the import's row (fields in [`FIELDS`] order) and what a deal
/// needs beyond it.
struct Row<'a> {
    cx: RowCx<'a>,
    unit: ProbabilityUnit,
    month0: Option<NaiveDate>,
}

impl Row<'_> {
    fn get(&self, field: usize) -> &str {
        self.cx.get(field)
    }

    fn error(&self, field: usize, message: impl std::fmt::Display) -> AccountError {
        self.cx.error(field, message)
    }

    fn text(&self, field: usize) -> Result<&str, AccountError> {
        self.cx.text(field)
    }

    /// A word through the `values` table and normalised (`"EMEA"` → `emea`).
    fn word(&self, field: usize) -> Result<String, AccountError> {
        Ok(self.cx.values.normalise(self.text(field)?))
    }

    fn decimal(&self, field: usize) -> Result<Decimal, AccountError> {
        let raw = self.text(field)?;
        Decimal::from_str(raw).map_err(|_| self.error(field, format!("{raw:?} is not a number")))
    }

    /// A decimal ≥ 0, or `None` when the cell is empty.
    fn amount(&self, field: usize) -> Result<Option<Decimal>, AccountError> {
        if self.get(field).is_empty() {
            return Ok(None);
        }
        let v = self.decimal(field)?;
        if v < Decimal::ZERO {
            return Err(self.error(field, format!("{v} is negative")));
        }
        Ok(Some(v))
    }

    /// Whole months ≥ 0, or `None` when the cell is empty.
    fn months(&self, field: usize) -> Result<Option<u32>, AccountError> {
        match self.get(field) {
            "" => Ok(None),
            raw => raw.parse::<u32>().map(Some).map_err(|_| {
                self.error(
                    field,
                    format!("{raw:?} is not a whole number of months (0 or more)"),
                )
            }),
        }
    }

    /// A probability: `60%` always a percentage, a bare number in the mapping's unit.
    fn probability(&self, field: usize, raw: &str) -> Result<Decimal, AccountError> {
        let (number, percent) = match raw.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (raw, self.unit == ProbabilityUnit::Percent),
        };
        let v =
            Decimal::from_str(number).map_err(|_| self.error(field, format!("{raw:?} is not a number")))?;
        if !percent {
            if v < Decimal::ZERO || v > Decimal::ONE {
                return Err(self.error(
                    field,
                    format!(
                        "{raw} is outside [0, 1]; a percentage needs a % sign, or probability_unit = \"percent\" in [import.pipeline]"
                    ),
                ));
            }
            return Ok(v);
        }
        if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED {
            return Err(self.error(field, format!("{raw} is outside 0–100 %")));
        }
        // A bare 0.6 in a percent column is most likely a fraction: ask, don't guess.
        if !raw.ends_with('%') && v > Decimal::ZERO && v < Decimal::ONE {
            return Err(self.error(
                field,
                format!("{raw} in a percent column is ambiguous: write {raw}% for {raw} %, or the percentage (0–100)"),
            ));
        }
        // 55 % is 0.55 with the digits as written (growth.toml's "0.55"), not 55/100
        // computed: the scale of a probability shows in the forecast's decimals.
        let mut p = v;
        p.set_scale(v.scale() + 2)
            .map_err(|_| self.error(field, format!("{raw} has too many decimals")))?;
        Ok(p)
    }

    fn value(&self) -> Result<ValueDistribution, AccountError> {
        let filled = |fields: &[usize]| fields.iter().any(|f| !self.get(*f).is_empty());
        let kind = match self.get(DISTRIBUTION) {
            "" if filled(&[VALUE]) => "fixed".to_owned(),
            "" if filled(&[VALUE_MIN, VALUE_MODE, VALUE_MAX]) => "pert".to_owned(),
            "" if filled(&[VALUE_MEAN, VALUE_SD]) => "lognormal".to_owned(),
            "" => {
                return Err(self.error(
                    VALUE,
                    "no value: fill value (fixed), value_min/value_mode/value_max (PERT) or value_mean/value_sd (lognormal)",
                ));
            }
            _ => self.word(DISTRIBUTION)?,
        };
        let own: &[usize] = match kind.as_str() {
            "fixed" => &[VALUE],
            "pert" | "triangular" => &[VALUE_MIN, VALUE_MODE, VALUE_MAX],
            "lognormal" => &[VALUE_MEAN, VALUE_SD],
            _ => {
                return Err(self.error(
                    DISTRIBUTION,
                    format!(
                        "unknown distribution {:?} (expected fixed, pert, triangular or lognormal; map the export's words in kam.toml's `values`)",
                        self.get(DISTRIBUTION)
                    ),
                ));
            }
        };
        // Cells of another kind filled too: which value is meant is unclear.
        for f in [VALUE, VALUE_MIN, VALUE_MODE, VALUE_MAX, VALUE_MEAN, VALUE_SD] {
            if !own.contains(&f) && !self.get(f).is_empty() {
                return Err(self.error(
                    f,
                    format!(
                        "a {kind} value has no {} (leave it empty)",
                        FIELDS.get(f).map_or("", |(n, _)| *n)
                    ),
                ));
            }
        }
        let required = |f: usize| -> Result<Decimal, AccountError> {
            self.amount(f)?
                .ok_or_else(|| self.error(f, format!("empty (a {kind} value needs it)")))
        };
        Ok(match kind.as_str() {
            "fixed" => ValueDistribution::Fixed {
                value: required(VALUE)?,
            },
            "lognormal" => {
                let mean = required(VALUE_MEAN)?;
                if mean.is_zero() {
                    return Err(self.error(VALUE_MEAN, "a lognormal mean must be positive"));
                }
                ValueDistribution::Lognormal {
                    mean,
                    sd: required(VALUE_SD)?,
                }
            }
            _ => {
                let (min, mode, max) = (required(VALUE_MIN)?, required(VALUE_MODE)?, required(VALUE_MAX)?);
                if min > mode {
                    return Err(self.error(VALUE_MODE, format!("mode {mode} is below min {min}")));
                }
                if mode > max {
                    return Err(self.error(VALUE_MAX, format!("max {max} is below mode {mode}")));
                }
                if kind == "pert" {
                    ValueDistribution::Pert { min, mode, max }
                } else {
                    ValueDistribution::Triangular { min, mode, max }
                }
            }
        })
    }

    /// `start_month`, or `start_date` as the first whole month from it.
    fn start_month(&self) -> Result<u32, AccountError> {
        let (month, date) = (self.get(START_MONTH), self.get(START_DATE));
        match (month.is_empty(), date.is_empty()) {
            (false, false) => Err(self.error(START_DATE, "both start_month and start_date: give one")),
            (true, true) => Err(self.error(
                if self.cx.cols.at(START_DATE).is_some() {
                    START_DATE
                } else {
                    START_MONTH
                },
                "empty (a start_month or start_date is required)",
            )),
            (false, true) => self.months(START_MONTH).map(Option::unwrap_or_default),
            (true, false) => {
                let d = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| self.error(START_DATE, format!("{date:?} is not a date (YYYY-MM-DD)")))?;
                let Some(m0) = self.month0 else {
                    return Err(self.error(
                        START_DATE,
                        "a start date needs kam.toml's growth_start (month 0, \"YYYY-MM\")",
                    ));
                };
                // Revenue starts in the first whole month on or after the date (as a
                // project's go-live does): the 1st is that month, the 2nd the next.
                let months = (i64::from(d.year()) - i64::from(m0.year())) * 12 + i64::from(d.month())
                    - i64::from(m0.month())
                    + i64::from(d.day() > 1);
                u32::try_from(months).map_err(|_| {
                    self.error(
                        START_DATE,
                        format!(
                            "{d} is before month 0 ({}, kam.toml's growth_start)",
                            m0.format("%Y-%m")
                        ),
                    )
                })
            }
        }
    }

    fn slippage(&self) -> Result<Slippage, AccountError> {
        let (min, max) = (self.months(SLIPPAGE_MIN)?, self.months(SLIPPAGE_MAX)?);
        let months = self.get(SLIPPAGE_MONTHS);
        let probabilities = self.get(SLIPPAGE_PROBABILITIES);
        if (min.is_some() || max.is_some()) && !(months.is_empty() && probabilities.is_empty()) {
            return Err(self.error(
                SLIPPAGE_MONTHS,
                "slippage_min/slippage_max (uniform) and slippage_months: give one",
            ));
        }
        match (min, max) {
            (Some(min), Some(max)) if min > max => {
                return Err(self.error(SLIPPAGE_MAX, format!("max {max} is below min {min}")));
            }
            (Some(min), Some(max)) => return Ok(Slippage::Uniform { min, max }),
            (Some(_), None) => {
                return Err(self.error(SLIPPAGE_MAX, "empty (slippage_min needs a slippage_max)"));
            }
            (None, Some(_)) => {
                return Err(self.error(SLIPPAGE_MIN, "empty (slippage_max needs a slippage_min)"));
            }
            (None, None) => {}
        }
        if months.is_empty() {
            if !probabilities.is_empty() {
                return Err(self.error(
                    SLIPPAGE_MONTHS,
                    "empty (slippage_probabilities need slippage_months)",
                ));
            }
            return Ok(Slippage::None);
        }
        let delays = months
            .split(';')
            .map(str::trim)
            .map(|m| {
                m.parse::<u32>().map_err(|_| {
                    self.error(
                        SLIPPAGE_MONTHS,
                        format!("{m:?} is not a whole number of months (0 or more)"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if probabilities.is_empty() {
            return match delays.as_slice() {
                [months] => Ok(Slippage::Fixed { months: *months }),
                _ => Err(self.error(
                    SLIPPAGE_PROBABILITIES,
                    format!(
                        "empty ({} slippage months need as many probabilities)",
                        delays.len()
                    ),
                )),
            };
        }
        let weights = probabilities
            .split(';')
            .map(str::trim)
            .map(|p| self.probability(SLIPPAGE_PROBABILITIES, p))
            .collect::<Result<Vec<_>, _>>()?;
        if weights.len() != delays.len() {
            return Err(self.error(
                SLIPPAGE_PROBABILITIES,
                format!(
                    "{} probabilities for {} slippage months",
                    weights.len(),
                    delays.len()
                ),
            ));
        }
        // Each is in [0, 1] and a row holds few: the sum cannot overflow.
        let sum: Decimal = weights.iter().sum();
        if sum != Decimal::ONE {
            return Err(self.error(
                SLIPPAGE_PROBABILITIES,
                format!("the probabilities sum to {sum}, not 1"),
            ));
        }
        Ok(Slippage::Discrete {
            months: delays,
            probabilities: weights,
        })
    }

    fn deal(&self) -> Result<SimOpportunity, AccountError> {
        let name = self.text(NAME)?.to_owned();
        let service_line = self.word(SERVICE_LINE)?;
        let region = self.word(REGION)?;
        let win_probability = self.probability(WIN_PROBABILITY, self.text(WIN_PROBABILITY)?)?;
        let value = self.value()?;
        let start_month = self.start_month()?;
        let slippage = self.slippage()?;
        let ramp_up_months = self.months(RAMP_UP_MONTHS)?.unwrap_or_default();
        let margin_pct = match self.get(MARGIN_PCT) {
            "" => Decimal::ZERO,
            raw => {
                let number = raw.strip_suffix('%').map_or(raw, str::trim);
                let m = Decimal::from_str(number)
                    .map_err(|_| self.error(MARGIN_PCT, format!("{raw:?} is not a number")))?;
                if m > Decimal::ONE_HUNDRED || m < Decimal::ONE_HUNDRED * Decimal::NEGATIVE_ONE * Decimal::TEN
                {
                    return Err(self.error(MARGIN_PCT, format!("margin {m} % is outside [-1000, 100]")));
                }
                m
            }
        };
        let volume_exposure = self.amount(VOLUME_EXPOSURE)?.unwrap_or_default();
        Ok(SimOpportunity {
            name,
            service_line,
            region,
            win_probability,
            value,
            start_month,
            slippage,
            ramp_up_months,
            margin_pct,
            volume_exposure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_paths_map_to_the_exports_columns() {
        assert_eq!(
            opportunity_field("opportunity[31].value.min"),
            Some((31, "value_min"))
        );
        assert_eq!(opportunity_field("opportunity[2].region"), Some((2, "region")));
        assert_eq!(
            opportunity_field("opportunity[4].slippage.probabilities[1]"),
            Some((4, "slippage_probabilities"))
        );
        assert_eq!(opportunity_field("correlation_group[0].deals[1]"), None);
    }
}
