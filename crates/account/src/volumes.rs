//! Volume files for `kam price --volumes`: one or several periods, optionally split by
//! account node and service line, read from CSV, XLSX or TOML with errors at
//! file:line:col.
//!
//! What it is: the reader and the typed [`VolumeTable`] (periods in file order, each a
//! list of [`VolumeEntry`] rows). What it is not: pricing — the pricing view turns a
//! table into quotes, banking and cost-to-serve.
//!
//! Formats:
//!
//! - CSV / XLSX with a header row: `activity,quantity` (one period), plus optional
//!   `period`, `node` and `service_line` columns. An empty `node` or `service_line` cell
//!   means pricing.toml's.
//! - TOML: `[[period]]` tables with `period`, optional `node` and `service_line`, and
//!   `volumes = { activity = "quantity", … }`. A period may appear in several tables (one
//!   per node or service line).
//!
//! Periods are taken in file order and must not come back after another period started
//! (a period interleaved with others is almost always a sorting mistake in an export).

use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::files::{self, FileError, Row};

/// One quantity: an activity at a node for a service line, in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeEntry {
    /// Account node (`None`: pricing.toml's node).
    pub node: Option<String>,
    /// Service line (`None`: pricing.toml's service line).
    pub service_line: Option<String>,
    /// Activity.
    pub activity: String,
    /// Quantity performed.
    pub quantity: Decimal,
    /// 1-based line (row) the quantity came from.
    pub line: usize,
    /// 1-based column of the quantity (1 where the reader cannot tell).
    pub column: usize,
}

/// The volumes of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodVolumes {
    /// Period label (`"2026-10"`; `None` for a table without a period column).
    pub period: Option<String>,
    /// Its rows, in file order.
    pub entries: Vec<VolumeEntry>,
}

impl PeriodVolumes {
    /// Activity → quantity over every node and service line.
    ///
    /// # Errors
    /// Overflow of a sum.
    pub fn totals(&self) -> Result<kam_core::pricing::Volumes, kam_core::num::ArithmeticError> {
        let mut v = kam_core::pricing::Volumes::new();
        for e in &self.entries {
            let q = v.entry(e.activity.clone()).or_default();
            *q = kam_core::num::add(*q, e.quantity, "volume total")?;
        }
        Ok(v)
    }
}

/// A volume file: periods in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeTable {
    /// The file's display name, for errors.
    pub file: String,
    /// Periods in file order.
    pub periods: Vec<PeriodVolumes>,
}

#[derive(Debug, Deserialize)]
struct CsvRow {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    service_line: Option<String>,
    activity: String,
    quantity: Decimal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    period: Vec<TomlPeriod>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPeriod {
    period: Spanned<String>,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    service_line: Option<String>,
    volumes: std::collections::BTreeMap<Spanned<String>, Spanned<Decimal>>,
}

fn blank(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

impl VolumeTable {
    /// Reads a `.csv`, `.xlsx` (or other spreadsheet) or `.toml` volume file.
    ///
    /// # Errors
    /// The file cannot be read or parsed; a negative quantity; an activity twice for
    /// one period, node and service line; a period that comes back after another began.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let file = path.display().to_string();
        let is_toml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml {
            Self::from_toml(&file, &files::read_text(path)?)
        } else {
            Self::from_rows(&file, files::read_table(path)?)
        }
    }

    /// Parses CSV text (header row; `#` comments).
    ///
    /// # Errors
    /// As [`VolumeTable::read`].
    pub fn from_csv(file: &str, text: &str) -> Result<Self, FileError> {
        Self::from_rows(file, files::parse_csv(file, text)?)
    }

    fn from_rows(file: &str, rows: Vec<Row<CsvRow>>) -> Result<Self, FileError> {
        let mut t = VolumeTable {
            file: file.to_owned(),
            periods: Vec::new(),
        };
        for r in rows {
            let c = r.record;
            t.push(
                blank(c.period),
                r.line,
                VolumeEntry {
                    node: blank(c.node),
                    service_line: blank(c.service_line),
                    activity: c.activity,
                    quantity: c.quantity,
                    line: r.line,
                    column: 1,
                },
            )?;
        }
        t.finish()
    }

    /// Parses the TOML form (`[[period]]` tables).
    ///
    /// # Errors
    /// As [`VolumeTable::read`].
    pub fn from_toml(file: &str, text: &str) -> Result<Self, FileError> {
        let parsed: TomlFile = files::parse_toml(file, text)?;
        let mut t = VolumeTable {
            file: file.to_owned(),
            periods: Vec::new(),
        };
        for p in parsed.period {
            let (pl, _) = files::line_col(text, p.period.span().start);
            for (activity, quantity) in p.volumes {
                let (line, column) = files::line_col(text, quantity.span().start);
                t.push(
                    blank(Some(p.period.get_ref().clone())),
                    pl,
                    VolumeEntry {
                        node: blank(p.node.clone()),
                        service_line: blank(p.service_line.clone()),
                        activity: activity.into_inner(),
                        quantity: quantity.into_inner(),
                        line,
                        column,
                    },
                )?;
            }
        }
        t.finish()
    }

    fn push(&mut self, period: Option<String>, line: usize, e: VolumeEntry) -> Result<(), FileError> {
        if e.quantity < Decimal::ZERO {
            return Err(FileError::at(
                &self.file,
                e.line,
                e.column,
                Some("quantity"),
                format!("quantity {} of {:?} is negative", e.quantity, e.activity),
            ));
        }
        match self.periods.last_mut() {
            Some(last) if last.period == period => {
                if last
                    .entries
                    .iter()
                    .any(|x| x.activity == e.activity && x.node == e.node && x.service_line == e.service_line)
                {
                    return Err(FileError::at(
                        &self.file,
                        e.line,
                        e.column,
                        Some("activity"),
                        format!(
                            "activity {:?} appears twice for the same period, node and service line",
                            e.activity
                        ),
                    ));
                }
                last.entries.push(e);
            }
            _ => {
                if self.periods.iter().any(|p| p.period == period) {
                    return Err(FileError::at(
                        &self.file,
                        line,
                        1,
                        Some("period"),
                        format!(
                            "period {} comes back after {}: keep each period's rows together, in order",
                            period.as_deref().unwrap_or("(none)"),
                            self.periods
                                .last()
                                .and_then(|p| p.period.as_deref())
                                .unwrap_or("(none)")
                        ),
                    ));
                }
                self.periods.push(PeriodVolumes {
                    period,
                    entries: vec![e],
                });
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Self, FileError> {
        if self.periods.is_empty() {
            return Err(FileError::at(&self.file, 1, 1, None, "no volumes in the file"));
        }
        Ok(self)
    }
}
