//! Observations per (account node, KPI, period) and their roll-up through the hierarchy.
//!
//! An [`Observation`] keeps a KPI's numerator and denominator, never just the ratio, so a
//! region's value is computed from the sums of its sites' components. A node's rolled-up
//! value combines its own observation (activity booked at that node, e.g. regional
//! transport) with everything below it.
//!
//! The roll-up works on exact scaled integers: each KPI's components are brought to one
//! decimal scale (the largest used by any observation of that KPI) as `i128` mantissas, so
//! sums and cross-multiplied comparisons are exact *and* fast enough for 10,000 sites × 12
//! KPIs × 36 periods. Values leave the table as `Decimal`s. A value outside the exact range
//! is a typed error, and a comparison whose cross product would overflow falls back to
//! `Decimal` arithmetic.
//!
//! ```
//! use kam_core::account::{Account, AccountNode, NodeLevel};
//! use kam_core::metrics::{KpiLibrary, Observation, ObservationTable};
//! use rust_decimal_macros::dec;
//!
//! let account = Account {
//!     id: "oem".into(), name: "OEM".into(), service_lines: vec![], buying_centres: vec![],
//!     nodes: vec![
//!         AccountNode::new("global", "Global", NodeLevel::Global, None),
//!         AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
//!         AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("emea")),
//!         AccountNode::new("bremen", "Bremen", NodeLevel::Site, Some("emea")),
//!     ],
//! };
//! let lib = KpiLibrary::contract_logistics();
//! let mut t = ObservationTable::new(&lib, &account.hierarchy()?, vec!["2026-01".into()])?;
//! t.record("leipzig", "otif_order_commit", "2026-01", Observation::ratio(dec!(90), dec!(100)))?;
//! t.record("bremen", "otif_order_commit", "2026-01", Observation::ratio(dec!(990), dec!(1000)))?;
//! let r = t.roll_up()?;
//! // Ratio of sums: 1080 / 1100, not the mean of 90 % and 99 %.
//! assert_eq!(r.value("emea", "otif_order_commit", "2026-01")?.map(|v| v.round_dp(4)), Some(dec!(98.1818)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::MetricsError;
use super::kpi::{Aggregation, Bounds, Formula, Kpi, KpiLibrary};
use crate::account::Hierarchy;
use crate::num;

/// One observation: the KPI's numerator and denominator for a node and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Numerator (on-time orders, cost, margin; the quantity itself for sum/min/max KPIs).
    pub numerator: Decimal,
    /// Denominator (orders, units, revenue; 1 for sum/min/max KPIs).
    pub denominator: Decimal,
}

impl Observation {
    /// A ratio observation: `part` of `whole`.
    pub fn ratio(part: Decimal, whole: Decimal) -> Self {
        Observation {
            numerator: part,
            denominator: whole,
        }
    }

    /// A plain quantity (for sum, minimum and maximum KPIs).
    pub fn quantity(value: Decimal) -> Self {
        Observation {
            numerator: value,
            denominator: Decimal::ONE,
        }
    }

    /// A value with its weight (for weighted-average KPIs such as dock-to-stock hours
    /// weighted by receipts): stored as (value × weight, weight).
    ///
    /// # Errors
    /// Overflow.
    pub fn weighted(value: Decimal, weight: Decimal) -> Result<Self, MetricsError> {
        Ok(Observation {
            numerator: num::mul(value, weight, "weighted observation: value × weight")?,
            denominator: weight,
        })
    }
}

/// The shared index of a table and everything computed from it.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) kpis: Vec<Kpi>,
    kpi_index: HashMap<String, usize>,
    pub(crate) periods: Vec<String>,
    period_index: HashMap<String, usize>,
    pub(crate) nodes: Vec<String>,
    node_index: HashMap<String, usize>,
    /// Parent of each node; nodes are ordered children before parents.
    pub(crate) parent: Vec<Option<usize>>,
}

impl Layout {
    fn new(
        library: &KpiLibrary,
        nodes: Vec<(String, Option<String>)>,
        periods: Vec<String>,
    ) -> Result<Self, MetricsError> {
        let mut period_index = HashMap::with_capacity(periods.len());
        for (i, p) in periods.iter().enumerate() {
            if period_index.insert(p.clone(), i).is_some() {
                return Err(MetricsError::DuplicatePeriod(p.clone()));
            }
        }
        let node_index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        let mut parent = Vec::with_capacity(nodes.len());
        for (i, (id, p)) in nodes.iter().enumerate() {
            let pi = match p {
                None => None,
                Some(p) => {
                    let &pi = node_index
                        .get(p)
                        .ok_or_else(|| MetricsError::UnknownNode(p.clone()))?;
                    // The roll-up relies on parents coming after their children.
                    if pi <= i {
                        return Err(MetricsError::UnknownNode(format!(
                            "{id} (parent {p} listed before it)"
                        )));
                    }
                    Some(pi)
                }
            };
            parent.push(pi);
        }
        Ok(Layout {
            kpis: library.kpis().to_vec(),
            kpi_index: library
                .kpis()
                .iter()
                .enumerate()
                .map(|(i, k)| (k.id.clone(), i))
                .collect(),
            periods,
            period_index,
            nodes: nodes.into_iter().map(|(id, _)| id).collect(),
            node_index,
            parent,
        })
    }

    pub(crate) fn kpi(&self, id: &str) -> Result<usize, MetricsError> {
        self.kpi_index
            .get(id)
            .copied()
            .ok_or_else(|| MetricsError::UnknownKpi(id.to_owned()))
    }
    pub(crate) fn period(&self, id: &str) -> Result<usize, MetricsError> {
        self.period_index
            .get(id)
            .copied()
            .ok_or_else(|| MetricsError::UnknownPeriod(id.to_owned()))
    }
    pub(crate) fn node(&self, id: &str) -> Result<usize, MetricsError> {
        self.node_index
            .get(id)
            .copied()
            .ok_or_else(|| MetricsError::UnknownNode(id.to_owned()))
    }
    pub(crate) fn n(&self) -> usize {
        self.nodes.len()
    }
    fn cell(&self, k: usize, p: usize, n: usize) -> usize {
        (k * self.periods.len() + p) * self.nodes.len() + n
    }
}

/// Observations for every (node, KPI, period) of one account, dense.
#[derive(Debug, Clone)]
pub struct ObservationTable {
    layout: Arc<Layout>,
    cells: Vec<Option<Observation>>,
}

/// One recorded observation, as stored in files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationRecord {
    /// Account node id.
    pub node: String,
    /// KPI id.
    pub kpi: String,
    /// Period label.
    pub period: String,
    /// The observation.
    #[serde(flatten)]
    pub observation: Observation,
}

/// A node and its parent, as stored with a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Node id.
    pub id: String,
    /// Parent id (`None` for the global node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// The serialized form of an [`ObservationTable`]: library, hierarchy, periods, records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRecords {
    /// KPI definitions.
    pub kpis: KpiLibrary,
    /// Nodes, children before parents.
    pub nodes: Vec<NodeRecord>,
    /// Period labels, oldest first.
    pub periods: Vec<String>,
    /// Recorded observations.
    pub observations: Vec<ObservationRecord>,
}

impl Serialize for ObservationTable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rec = self.to_records().map_err(serde::ser::Error::custom)?;
        rec.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObservationTable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rec = TableRecords::deserialize(d)?;
        ObservationTable::from_records(rec).map_err(serde::de::Error::custom)
    }
}

impl PartialEq for ObservationTable {
    fn eq(&self, other: &Self) -> bool {
        self.layout.kpis == other.layout.kpis
            && self.layout.periods == other.layout.periods
            && self.layout.nodes == other.layout.nodes
            && self.layout.parent == other.layout.parent
            && self.cells == other.cells
    }
}

fn check_non_negative(what: &dyn Fn() -> String, v: Decimal) -> Result<(), MetricsError> {
    if v < Decimal::ZERO {
        Err(MetricsError::NegativeCount {
            what: what(),
            value: v,
        })
    } else {
        Ok(())
    }
}

impl ObservationTable {
    /// An empty table for every KPI of `library`, every node of `hierarchy` and `periods`
    /// (labels, oldest first — "consecutive" periods are neighbours in this list).
    ///
    /// # Errors
    /// A repeated period label.
    pub fn new(
        library: &KpiLibrary,
        hierarchy: &Hierarchy,
        periods: Vec<String>,
    ) -> Result<Self, MetricsError> {
        let nodes = hierarchy
            .bottom_up()
            .into_iter()
            .map(|id| (id.to_owned(), hierarchy.parent(id).map(str::to_owned)))
            .collect();
        Self::with_nodes(library, nodes, periods)
    }

    fn with_nodes(
        library: &KpiLibrary,
        nodes: Vec<(String, Option<String>)>,
        periods: Vec<String>,
    ) -> Result<Self, MetricsError> {
        let layout = Layout::new(library, nodes, periods)?;
        let size = layout
            .kpis
            .len()
            .checked_mul(layout.periods.len())
            .and_then(|x| x.checked_mul(layout.nodes.len()))
            .ok_or_else(|| MetricsError::OutOfRange {
                what: "table size".into(),
            })?;
        Ok(ObservationTable {
            layout: Arc::new(layout),
            cells: vec![None; size],
        })
    }

    /// Records (or corrects) the observation for a cell; returns the one it replaced.
    ///
    /// # Errors
    /// Unknown node, KPI or period; a derived KPI; negative counts; a part above its whole.
    pub fn record(
        &mut self,
        node: &str,
        kpi: &str,
        period: &str,
        observation: Observation,
    ) -> Result<Option<Observation>, MetricsError> {
        let l = &self.layout;
        let (n, k, p) = (l.node(node)?, l.kpi(kpi)?, l.period(period)?);
        let def = l
            .kpis
            .get(k)
            .ok_or_else(|| MetricsError::UnknownKpi(kpi.to_owned()))?;
        let what = |field: &str| format!("{node}/{kpi}/{period} {field}");
        if def.formula.aggregation() == Aggregation::ProductOfComponents {
            return Err(MetricsError::DerivedKpi(kpi.to_owned()));
        }
        let Observation {
            numerator,
            denominator,
        } = observation;
        match def.bounds {
            Bounds::PartOfWhole => {
                check_non_negative(&|| what("numerator"), numerator)?;
                check_non_negative(&|| what("denominator"), denominator)?;
                if numerator > denominator {
                    return Err(MetricsError::PartExceedsTotal {
                        what: what("observation"),
                        part: numerator,
                        total: denominator,
                    });
                }
            }
            Bounds::NonNegative => {
                check_non_negative(&|| what("numerator"), numerator)?;
                check_non_negative(&|| what("denominator"), denominator)?;
            }
            Bounds::Signed => check_non_negative(&|| what("denominator"), denominator)?,
        }
        let i = l.cell(k, p, n);
        let slot = self
            .cells
            .get_mut(i)
            .ok_or_else(|| MetricsError::OutOfRange { what: what("cell") })?;
        Ok(slot.replace(observation))
    }

    /// The recorded (not rolled-up) observation of a cell.
    ///
    /// # Errors
    /// Unknown node, KPI or period.
    pub fn get(&self, node: &str, kpi: &str, period: &str) -> Result<Option<Observation>, MetricsError> {
        let l = &self.layout;
        let i = l.cell(l.kpi(kpi)?, l.period(period)?, l.node(node)?);
        Ok(self.cells.get(i).copied().flatten())
    }

    /// Period labels, oldest first.
    pub fn periods(&self) -> &[String] {
        &self.layout.periods
    }

    /// The table as serializable records.
    ///
    /// # Errors
    /// Never in practice; the library is re-validated.
    pub fn to_records(&self) -> Result<TableRecords, MetricsError> {
        let l = &self.layout;
        let mut observations = Vec::new();
        for (k, kpi) in l.kpis.iter().enumerate() {
            for (p, period) in l.periods.iter().enumerate() {
                for (n, node) in l.nodes.iter().enumerate() {
                    if let Some(Some(o)) = self.cells.get(l.cell(k, p, n)) {
                        observations.push(ObservationRecord {
                            node: node.clone(),
                            kpi: kpi.id.clone(),
                            period: period.clone(),
                            observation: *o,
                        });
                    }
                }
            }
        }
        Ok(TableRecords {
            kpis: KpiLibrary::new(l.kpis.clone())?,
            nodes: l
                .nodes
                .iter()
                .zip(&l.parent)
                .map(|(id, p)| NodeRecord {
                    id: id.clone(),
                    parent: p.and_then(|p| l.nodes.get(p).cloned()),
                })
                .collect(),
            periods: l.periods.clone(),
            observations,
        })
    }

    /// Rebuilds a table from records (validating every observation).
    ///
    /// # Errors
    /// As [`ObservationTable::record`], plus nodes whose parent is unknown or listed first.
    pub fn from_records(rec: TableRecords) -> Result<Self, MetricsError> {
        let nodes = rec.nodes.into_iter().map(|n| (n.id, n.parent)).collect();
        let mut t = Self::with_nodes(&rec.kpis, nodes, rec.periods)?;
        for o in rec.observations {
            t.record(&o.node, &o.kpi, &o.period, o.observation)?;
        }
        Ok(t)
    }

    /// Rolls every KPI up from sites to the global account by its own rule, for every
    /// period. A node's value combines its own observation with all its descendants'.
    ///
    /// # Errors
    /// [`MetricsError::OutOfRange`] if a value or sum leaves the exact range (about 10^38
    /// at the KPI's scale).
    pub fn roll_up(&self) -> Result<RolledUp, MetricsError> {
        let l = &self.layout;
        let (np, nn) = (l.periods.len(), l.nodes.len());
        let mut kpis = Vec::with_capacity(l.kpis.len());
        for (k, kpi) in l.kpis.iter().enumerate() {
            let agg = kpi.formula.aggregation();
            if agg == Aggregation::ProductOfComponents {
                kpis.push(FixedKpi::default());
                continue;
            }
            let ratio = agg == Aggregation::RatioOfSums;
            let start = l.cell(k, 0, 0);
            let cells = self.cells.get(start..start + np * nn).unwrap_or(&[]);
            let (mut num_scale, mut den_scale) = (0u32, 0u32);
            for o in cells.iter().flatten() {
                num_scale = num_scale.max(o.numerator.scale());
                if ratio {
                    den_scale = den_scale.max(o.denominator.scale());
                }
            }
            let mut fk = FixedKpi {
                num_scale,
                den_scale,
                num: vec![0; cells.len()],
                den: vec![if ratio { 0 } else { 1 }; cells.len()],
                present: vec![false; cells.len()],
            };
            let oor = |i: usize| MetricsError::OutOfRange {
                what: format!(
                    "{}/{}/{}",
                    l.nodes.get(i % nn.max(1)).map_or("?", String::as_str),
                    kpi.id,
                    l.periods.get(i / nn.max(1)).map_or("?", String::as_str)
                ),
            };
            for (i, o) in cells.iter().enumerate() {
                if let Some(o) = o {
                    fk.num[i] = to_fixed(o.numerator, num_scale).ok_or_else(|| oor(i))?;
                    if ratio {
                        fk.den[i] = to_fixed(o.denominator, den_scale).ok_or_else(|| oor(i))?;
                    }
                    fk.present[i] = true;
                }
            }
            for p in 0..np {
                let base = p * nn;
                for n in 0..nn {
                    let i = base + n;
                    let Some(parent) = l.parent[n] else { continue };
                    if !fk.present[i] {
                        continue;
                    }
                    let j = base + parent;
                    let (cn, cd) = (fk.num[i], fk.den[i]);
                    if fk.present[j] {
                        match agg {
                            Aggregation::RatioOfSums => {
                                fk.num[j] = fk.num[j].checked_add(cn).ok_or_else(|| oor(j))?;
                                fk.den[j] = fk.den[j].checked_add(cd).ok_or_else(|| oor(j))?;
                            }
                            Aggregation::Sum => {
                                fk.num[j] = fk.num[j].checked_add(cn).ok_or_else(|| oor(j))?
                            }
                            Aggregation::Minimum => fk.num[j] = fk.num[j].min(cn),
                            Aggregation::Maximum => fk.num[j] = fk.num[j].max(cn),
                            Aggregation::ProductOfComponents => {}
                        }
                    } else {
                        fk.num[j] = cn;
                        fk.den[j] = cd;
                        fk.present[j] = true;
                    }
                }
            }
            kpis.push(fk);
        }
        Ok(RolledUp {
            layout: Arc::clone(&self.layout),
            kpis,
        })
    }
}

const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

fn to_fixed(d: Decimal, scale: u32) -> Option<i128> {
    let shift = scale.checked_sub(d.scale())?;
    d.mantissa().checked_mul(*POW10.get(shift as usize)?)
}

fn from_fixed(m: i128, scale: u32, what: &dyn Fn() -> String) -> Result<Decimal, MetricsError> {
    Decimal::try_from_i128_with_scale(m, scale).map_err(|_| MetricsError::OutOfRange { what: what() })
}

/// One KPI's components at a common scale, `[period × node]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FixedKpi {
    pub(crate) num_scale: u32,
    pub(crate) den_scale: u32,
    pub(crate) num: Vec<i128>,
    pub(crate) den: Vec<i128>,
    pub(crate) present: Vec<bool>,
}

/// A threshold prepared for comparison against a KPI's fixed-point cells:
/// `value ⋚ t  ⇔  num × k1 ⋚ den × k2` (den > 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedThreshold {
    pub(crate) value: Decimal,
    k: Option<(i128, i128)>,
}

impl FixedKpi {
    /// `value = scale × (num·10^-a) / (den·10^-b)`; returns constants for comparing it to `t`.
    pub(crate) fn threshold(&self, scale: Decimal, t: Decimal) -> FixedThreshold {
        let x = i64::from(self.den_scale) + i64::from(t.scale())
            - i64::from(self.num_scale)
            - i64::from(scale.scale());
        let p = |e: i64| usize::try_from(e).ok().and_then(|e| POW10.get(e).copied());
        let k = if x >= 0 {
            p(x).and_then(|f| scale.mantissa().checked_mul(f))
                .map(|k1| (k1, t.mantissa()))
        } else {
            p(-x)
                .and_then(|f| t.mantissa().checked_mul(f))
                .map(|k2| (scale.mantissa(), k2))
        };
        FixedThreshold { value: t, k }
    }

    /// The cell's value compared with a prepared threshold; `None` if the cell has no
    /// value or the exact cross product overflows (callers then use `Decimal`s).
    #[inline]
    pub(crate) fn cmp_threshold(&self, i: usize, t: &FixedThreshold) -> Option<Ordering> {
        let (k1, k2) = t.k?;
        let (n, d) = (*self.num.get(i)?, *self.den.get(i)?);
        Some(n.checked_mul(k1)?.cmp(&d.checked_mul(k2)?))
    }

    /// Compares the values of two cells of this KPI exactly (`None` on overflow).
    #[inline]
    pub(crate) fn cmp_cells(&self, i: usize, j: usize) -> Option<Ordering> {
        let (ni, di, nj, dj) = (
            *self.num.get(i)?,
            *self.den.get(i)?,
            *self.num.get(j)?,
            *self.den.get(j)?,
        );
        Some(ni.checked_mul(dj)?.cmp(&nj.checked_mul(di)?))
    }

    /// Whether the cell has a value (an observation and a non-zero denominator).
    #[inline]
    pub(crate) fn has_value(&self, i: usize) -> bool {
        self.present.get(i).copied().unwrap_or(false) && self.den.get(i).is_some_and(|d| *d != 0)
    }
}

/// Every KPI rolled up to every node for every period.
#[derive(Debug, Clone)]
pub struct RolledUp {
    pub(crate) layout: Arc<Layout>,
    pub(crate) kpis: Vec<FixedKpi>,
}

impl RolledUp {
    /// The rolled-up value of `kpi` at `node` in `period`; `None` without data or with a
    /// zero denominator.
    ///
    /// # Errors
    /// Unknown ids; overflow.
    pub fn value(&self, node: &str, kpi: &str, period: &str) -> Result<Option<Decimal>, MetricsError> {
        let l = &self.layout;
        self.value_at(l.kpi(kpi)?, l.period(period)?, l.node(node)?)
    }

    /// The rolled-up components (numerator, denominator) of a ratio, sum, min or max KPI.
    ///
    /// # Errors
    /// Unknown ids; a derived KPI; a value outside the decimal range.
    pub fn components(
        &self,
        node: &str,
        kpi: &str,
        period: &str,
    ) -> Result<Option<Observation>, MetricsError> {
        let l = &self.layout;
        let (k, p, n) = (l.kpi(kpi)?, l.period(period)?, l.node(node)?);
        let fk = self
            .kpis
            .get(k)
            .ok_or_else(|| MetricsError::UnknownKpi(kpi.to_owned()))?;
        if fk.present.is_empty() {
            return Err(MetricsError::DerivedKpi(kpi.to_owned()));
        }
        let i = p * l.n() + n;
        if !fk.present.get(i).copied().unwrap_or(false) {
            return Ok(None);
        }
        let what = || format!("{node}/{kpi}/{period}");
        Ok(Some(Observation {
            numerator: from_fixed(fk.num[i], fk.num_scale, &what)?,
            denominator: from_fixed(fk.den[i], fk.den_scale, &what)?,
        }))
    }

    /// Values of `kpi` at `node` for every period up to and including `through`, oldest first.
    ///
    /// # Errors
    /// Unknown ids; overflow.
    pub fn history(
        &self,
        node: &str,
        kpi: &str,
        through: &str,
    ) -> Result<Vec<Option<Decimal>>, MetricsError> {
        let l = &self.layout;
        let (k, last, n) = (l.kpi(kpi)?, l.period(through)?, l.node(node)?);
        (0..=last).map(|p| self.value_at(k, p, n)).collect()
    }

    /// Period labels, oldest first.
    pub fn periods(&self) -> &[String] {
        &self.layout.periods
    }

    /// Node ids, children before parents.
    pub fn nodes(&self) -> &[String] {
        &self.layout.nodes
    }

    pub(crate) fn value_at(&self, k: usize, p: usize, n: usize) -> Result<Option<Decimal>, MetricsError> {
        let l = &self.layout;
        let kpi = l
            .kpis
            .get(k)
            .ok_or_else(|| MetricsError::UnknownKpi(format!("#{k}")))?;
        let what = || {
            format!(
                "{}/{}/{}",
                l.nodes.get(n).map_or("?", String::as_str),
                kpi.id,
                l.periods.get(p).map_or("?", String::as_str)
            )
        };
        let i = p * l.n() + n;
        match &kpi.formula {
            Formula::Product { components, scale } => {
                let mut product = *scale;
                for c in components {
                    let ck = l.kpi(c)?;
                    let Some(ckpi) = l.kpis.get(ck) else {
                        return Ok(None);
                    };
                    let Some(v) = self.value_at(ck, p, n)? else {
                        return Ok(None);
                    };
                    let rate = num::div(v, ckpi.formula.scale(), &what())?;
                    product = num::mul(product, rate, &what())?;
                }
                Ok(Some(product))
            }
            formula => {
                let Some(fk) = self.kpis.get(k) else {
                    return Ok(None);
                };
                if !fk.has_value(i) {
                    return Ok(None);
                }
                let nv = from_fixed(fk.num[i], fk.num_scale, &what)?;
                if formula.aggregation() == Aggregation::RatioOfSums {
                    let dv = from_fixed(fk.den[i], fk.den_scale, &what)?;
                    let scaled = num::mul(formula.scale(), nv, &what())?;
                    Ok(Some(num::div(scaled, dv, &what())?))
                } else {
                    Ok(Some(nv))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction;
    use crate::account::{Account, AccountNode, NodeLevel};
    use crate::metrics::kpi::Thresholds;
    use crate::metrics::kpi::{Kpi, Unit};
    use rust_decimal_macros::dec;

    pub(crate) fn account() -> Account {
        Account {
            id: "oem".into(),
            name: "OEM".into(),
            nodes: vec![
                AccountNode::new("global", "Global", NodeLevel::Global, None),
                AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
                AccountNode::new("apac", "APAC", NodeLevel::Region, Some("global")),
                AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("emea")),
                AccountNode::new("bremen", "Bremen", NodeLevel::Site, Some("emea")),
                AccountNode::new("pune", "Pune", NodeLevel::Site, Some("apac")),
            ],
            service_lines: vec![],
            buying_centres: vec![],
        }
    }

    #[test]
    fn aggregation_rules() {
        let lib = KpiLibrary::contract_logistics()
            .with(
                Kpi::custom(
                    "worst_site_fill",
                    "Worst site fill",
                    Unit::Percent,
                    Direction::HigherIsBetter,
                    Formula::Minimum {
                        quantity: "fill %".into(),
                    },
                    Bounds::NonNegative,
                    Thresholds::new(dec!(90), dec!(80)),
                )
                .unwrap(),
            )
            .unwrap()
            .with(
                Kpi::custom(
                    "pallets",
                    "Pallets moved",
                    Unit::Count,
                    Direction::HigherIsBetter,
                    Formula::Sum {
                        quantity: "pallets".into(),
                    },
                    Bounds::NonNegative,
                    Thresholds::new(dec!(100), dec!(50)),
                )
                .unwrap(),
            )
            .unwrap();
        let h = account().hierarchy().unwrap();
        let mut t = ObservationTable::new(&lib, &h, vec!["m1".into(), "m2".into()]).unwrap();
        t.record(
            "leipzig",
            "dock_to_stock_hours",
            "m1",
            Observation::weighted(dec!(10), dec!(30)).unwrap(),
        )
        .unwrap();
        t.record(
            "bremen",
            "dock_to_stock_hours",
            "m1",
            Observation::weighted(dec!(40), dec!(10)).unwrap(),
        )
        .unwrap();
        t.record(
            "leipzig",
            "worst_site_fill",
            "m1",
            Observation::quantity(dec!(95.5)),
        )
        .unwrap();
        t.record("pune", "worst_site_fill", "m1", Observation::quantity(dec!(82)))
            .unwrap();
        t.record("leipzig", "pallets", "m1", Observation::quantity(dec!(10.5)))
            .unwrap();
        t.record("pune", "pallets", "m1", Observation::quantity(dec!(7)))
            .unwrap();
        // Order accuracy in the multiplicative perfect order: only Leipzig has all parts.
        t.record(
            "leipzig",
            "otif_line_commit",
            "m1",
            Observation::ratio(dec!(95), dec!(100)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "order_accuracy",
            "m1",
            Observation::ratio(dec!(98), dec!(100)),
        )
        .unwrap();
        t.record(
            "leipzig",
            "damage_free_rate",
            "m1",
            Observation::ratio(dec!(999), dec!(1000)),
        )
        .unwrap();
        let r = t.roll_up().unwrap();
        // (10×30 + 40×10) / 40 = 17.5 hours, weighted by receipts.
        assert_eq!(
            r.value("emea", "dock_to_stock_hours", "m1").unwrap(),
            Some(dec!(17.5))
        );
        assert_eq!(
            r.value("global", "worst_site_fill", "m1").unwrap(),
            Some(dec!(82))
        );
        assert_eq!(r.value("global", "pallets", "m1").unwrap(), Some(dec!(17.5)));
        assert_eq!(r.value("global", "pallets", "m2").unwrap(), None);
        assert_eq!(
            r.value("global", "perfect_order_multiplicative", "m1").unwrap(),
            Some(dec!(100) * dec!(0.95) * dec!(0.98) * dec!(0.999))
        );
        assert_eq!(
            r.history("emea", "dock_to_stock_hours", "m2").unwrap(),
            vec![Some(dec!(17.5)), None]
        );
        assert_eq!(
            r.components("emea", "dock_to_stock_hours", "m1").unwrap(),
            Some(Observation::ratio(dec!(700), dec!(40)))
        );
    }

    #[test]
    fn bad_observations() {
        let lib = KpiLibrary::contract_logistics();
        let h = account().hierarchy().unwrap();
        let mut t = ObservationTable::new(&lib, &h, vec!["m1".into()]).unwrap();
        let e = t.record(
            "pune",
            "otif_order_commit",
            "m1",
            Observation::ratio(dec!(101), dec!(100)),
        );
        assert!(matches!(e, Err(MetricsError::PartExceedsTotal { .. })));
        let e = t.record(
            "pune",
            "otif_order_commit",
            "m1",
            Observation::ratio(dec!(-1), dec!(100)),
        );
        assert!(matches!(e, Err(MetricsError::NegativeCount { .. })));
        // Margin may be negative, revenue may not.
        assert!(
            t.record(
                "pune",
                "margin_pct",
                "m1",
                Observation::ratio(dec!(-5), dec!(100))
            )
            .is_ok()
        );
        assert!(
            t.record(
                "pune",
                "margin_pct",
                "m1",
                Observation::ratio(dec!(5), dec!(-100))
            )
            .is_err()
        );
        assert!(matches!(
            t.record(
                "pune",
                "perfect_order_multiplicative",
                "m1",
                Observation::ratio(dec!(1), dec!(1))
            ),
            Err(MetricsError::DerivedKpi(_))
        ));
        assert!(matches!(
            t.record("mars", "margin_pct", "m1", Observation::quantity(dec!(1))),
            Err(MetricsError::UnknownNode(_))
        ));
        assert!(matches!(
            t.record("pune", "nps", "m1", Observation::quantity(dec!(1))),
            Err(MetricsError::UnknownKpi(_))
        ));
        assert!(matches!(
            t.record("pune", "margin_pct", "m9", Observation::quantity(dec!(1))),
            Err(MetricsError::UnknownPeriod(_))
        ));
        assert!(ObservationTable::new(&lib, &h, vec!["m1".into(), "m1".into()]).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let lib = KpiLibrary::contract_logistics();
        let h = account().hierarchy().unwrap();
        let mut t = ObservationTable::new(&lib, &h, vec!["m1".into(), "m2".into()]).unwrap();
        t.record(
            "pune",
            "otif_order_commit",
            "m2",
            Observation::ratio(dec!(9), dec!(10)),
        )
        .unwrap();
        t.record(
            "emea",
            "margin_pct",
            "m1",
            Observation::ratio(dec!(-9.5), dec!(10)),
        )
        .unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<ObservationTable>(&json).unwrap(), t);
        let text = toml::to_string(&t).unwrap();
        assert_eq!(toml::from_str::<ObservationTable>(&text).unwrap(), t);
    }
}
