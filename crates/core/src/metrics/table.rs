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
    /// Leaves first, then inner nodes; every parent after all its children.
    pub(crate) nodes: Vec<String>,
    node_index: HashMap<String, usize>,
    pub(crate) parent: Vec<Option<usize>>,
    /// Number of leaves (nodes without children): indexes `0..leaves`.
    pub(crate) leaves: usize,
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
        // Leaves first keeps children before parents and lets the roll-up read site cells
        // straight from the table.
        let is_parent: std::collections::HashSet<&str> =
            nodes.iter().filter_map(|(_, p)| p.as_deref()).collect();
        let (leaves, inner): (Vec<_>, Vec<_>) =
            nodes.iter().partition(|(id, _)| !is_parent.contains(id.as_str()));
        let n_leaves = leaves.len();
        let ordered: Vec<(String, Option<String>)> = leaves.into_iter().chain(inner).cloned().collect();
        let node_index: HashMap<String, usize> = ordered
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        let mut parent = Vec::with_capacity(ordered.len());
        for (i, (id, p)) in ordered.iter().enumerate() {
            let pi = match p {
                None => None,
                Some(p) => {
                    let &pi = node_index
                        .get(p)
                        .ok_or_else(|| MetricsError::UnknownNode(p.clone()))?;
                    if pi <= i {
                        return Err(MetricsError::UnknownNode(format!(
                            "{id} (parent {p} is not above it)"
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
            nodes: ordered.into_iter().map(|(id, _)| id).collect(),
            node_index,
            parent,
            leaves: n_leaves,
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
    fn inner(&self) -> usize {
        self.nodes.len() - self.leaves
    }
    fn label(&self, k: usize, p: usize, n: usize) -> String {
        format!(
            "{}/{}/{}",
            self.nodes.get(n).map_or("?", String::as_str),
            self.kpis.get(k).map_or("?", |k| k.id.as_str()),
            self.periods.get(p).map_or("?", String::as_str)
        )
    }
}

/// One KPI's components as exact scaled integers (`value = mantissa × 10^-scale`),
/// indexed `[period × width + node]`. Sum/min/max KPIs keep a denominator of 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) num_scale: u32,
    pub(crate) den_scale: u32,
    pub(crate) num: Vec<i128>,
    pub(crate) den: Vec<i128>,
    pub(crate) present: Vec<bool>,
}

impl Column {
    fn new(len: usize, ratio: bool) -> Self {
        Column {
            num_scale: 0,
            den_scale: 0,
            num: vec![0; len],
            den: vec![if ratio { 0 } else { 1 }; len],
            present: vec![false; len],
        }
    }

    /// Raises the scale of a component so a value with more decimals fits exactly.
    fn rescale(values: &mut [i128], scale: &mut u32, to: u32) -> Option<()> {
        if to <= *scale {
            return Some(());
        }
        let f = *POW10.get((to - *scale) as usize)?;
        for v in values.iter_mut() {
            *v = v.checked_mul(f)?;
        }
        *scale = to;
        Some(())
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<(i128, i128)> {
        if *self.present.get(i)? {
            Some((*self.num.get(i)?, *self.den.get(i)?))
        } else {
            None
        }
    }
}

/// Observations for every (node, KPI, period) of one account, dense.
#[derive(Debug, Clone)]
pub struct ObservationTable {
    layout: Arc<Layout>,
    cols: Arc<Vec<Column>>,
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
            && self.cols == other.cols
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
            .periods
            .len()
            .checked_mul(layout.nodes.len())
            .ok_or_else(|| MetricsError::OutOfRange {
                what: "table size".into(),
            })?;
        let cols = layout
            .kpis
            .iter()
            .map(|k| match k.formula.aggregation() {
                Aggregation::ProductOfComponents => Column::default(),
                agg => Column::new(size, agg == Aggregation::RatioOfSums),
            })
            .collect();
        Ok(ObservationTable {
            layout: Arc::new(layout),
            cols: Arc::new(cols),
        })
    }

    /// Records (or corrects) the observation for a cell; returns the one it replaced.
    /// For sum, minimum and maximum KPIs only the numerator is kept.
    ///
    /// # Errors
    /// Unknown node, KPI or period; a derived KPI; negative counts; a part above its whole;
    /// a value beyond the exact range.
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
        let agg = def.formula.aggregation();
        if agg == Aggregation::ProductOfComponents {
            return Err(MetricsError::DerivedKpi(kpi.to_owned()));
        }
        let ratio = agg == Aggregation::RatioOfSums;
        let Observation {
            numerator,
            denominator,
        } = observation;
        match def.bounds {
            Bounds::PartOfWhole => {
                check_non_negative(&|| what("numerator"), numerator)?;
                check_non_negative(&|| what("denominator"), denominator)?;
                if ratio && numerator > denominator {
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
        let i = p * l.n() + n;
        let oor = || MetricsError::OutOfRange {
            what: what("observation"),
        };
        let previous = self.get_at(k, i)?;
        let cols = Arc::make_mut(&mut self.cols);
        let col = cols.get_mut(k).ok_or_else(oor)?;
        Column::rescale(&mut col.num, &mut col.num_scale, numerator.scale()).ok_or_else(oor)?;
        let nv = to_fixed(numerator, col.num_scale).ok_or_else(oor)?;
        let dv = if ratio {
            Column::rescale(&mut col.den, &mut col.den_scale, denominator.scale()).ok_or_else(oor)?;
            to_fixed(denominator, col.den_scale).ok_or_else(oor)?
        } else {
            1
        };
        match (col.num.get_mut(i), col.den.get_mut(i), col.present.get_mut(i)) {
            (Some(a), Some(b), Some(c)) => {
                *a = nv;
                *b = dv;
                *c = true;
            }
            _ => return Err(oor()),
        }
        Ok(previous)
    }

    fn get_at(&self, k: usize, i: usize) -> Result<Option<Observation>, MetricsError> {
        let Some(col) = self.cols.get(k) else {
            return Ok(None);
        };
        let Some((n, d)) = col.get(i) else { return Ok(None) };
        let nn = self.layout.n().max(1);
        let what = || self.layout.label(k, i / nn, i % nn);
        Ok(Some(Observation {
            numerator: from_fixed(n, col.num_scale, &what)?,
            denominator: from_fixed(d, col.den_scale, &what)?,
        }))
    }

    /// The recorded (not rolled-up) observation of a cell.
    ///
    /// # Errors
    /// Unknown node, KPI or period.
    pub fn get(&self, node: &str, kpi: &str, period: &str) -> Result<Option<Observation>, MetricsError> {
        let l = &self.layout;
        let (k, p, n) = (l.kpi(kpi)?, l.period(period)?, l.node(node)?);
        self.get_at(k, p * l.n() + n)
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
                    if let Some(o) = self.get_at(k, p * l.n() + n)? {
                        observations.push(ObservationRecord {
                            node: node.clone(),
                            kpi: kpi.id.clone(),
                            period: period.clone(),
                            observation: o,
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
    /// Site cells are shared with the table, not copied.
    ///
    /// # Errors
    /// [`MetricsError::OutOfRange`] if a sum leaves the exact range (about 10^38 at the
    /// KPI's scale).
    pub fn roll_up(&self) -> Result<RolledUp, MetricsError> {
        let l = &self.layout;
        let (np, nn, leaves, ni) = (l.periods.len(), l.n(), l.leaves, l.inner());
        let mut inner = Vec::with_capacity(l.kpis.len());
        for (k, kpi) in l.kpis.iter().enumerate() {
            let agg = kpi.formula.aggregation();
            let Some(col) = self
                .cols
                .get(k)
                .filter(|_| agg != Aggregation::ProductOfComponents)
            else {
                inner.push(Column::default());
                continue;
            };
            let mut a = Column::new(np * ni, agg == Aggregation::RatioOfSums);
            a.num_scale = col.num_scale;
            a.den_scale = col.den_scale;
            for p in 0..np {
                let (tb, ab) = (p * nn, p * ni);
                // Inner nodes start from their own observations.
                for j in 0..ni {
                    if let Some((n, d)) = col.get(tb + leaves + j) {
                        a.num[ab + j] = n;
                        a.den[ab + j] = d;
                        a.present[ab + j] = true;
                    }
                }
                for n in 0..nn {
                    let Some(parent) = l.parent[n] else { continue };
                    let own = if n < leaves {
                        col.get(tb + n)
                    } else {
                        a.get(ab + n - leaves)
                    };
                    let Some((cn, cd)) = own else { continue };
                    let j = ab + parent - leaves;
                    if a.present[j] {
                        let oor = || MetricsError::OutOfRange {
                            what: l.label(k, p, parent),
                        };
                        match agg {
                            Aggregation::RatioOfSums => {
                                a.num[j] = a.num[j].checked_add(cn).ok_or_else(oor)?;
                                a.den[j] = a.den[j].checked_add(cd).ok_or_else(oor)?;
                            }
                            Aggregation::Sum => a.num[j] = a.num[j].checked_add(cn).ok_or_else(oor)?,
                            Aggregation::Minimum => a.num[j] = a.num[j].min(cn),
                            Aggregation::Maximum => a.num[j] = a.num[j].max(cn),
                            Aggregation::ProductOfComponents => {}
                        }
                    } else {
                        a.num[j] = cn;
                        a.den[j] = cd;
                        a.present[j] = true;
                    }
                }
            }
            inner.push(a);
        }
        Ok(RolledUp {
            layout: Arc::clone(&self.layout),
            cols: Arc::clone(&self.cols),
            inner,
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

/// Exact product, with a cheap path when both factors fit 64 bits (the usual case).
#[inline]
fn mul(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(x), Ok(y)) => Some(i128::from(x) * i128::from(y)),
        _ => a.checked_mul(b),
    }
}

/// A threshold prepared for comparison against one KPI's cells:
/// `value ⋚ t  ⇔  num × k1 ⋚ den × k2` (den > 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedThreshold {
    pub(crate) value: Decimal,
    k: Option<(i128, i128)>,
}

impl FixedThreshold {
    /// For `value = scale × (num·10^-a) / (den·10^-b)` compared with `t`.
    pub(crate) fn new(num_scale: u32, den_scale: u32, scale: Decimal, t: Decimal) -> Self {
        let x = i64::from(den_scale) + i64::from(t.scale()) - i64::from(num_scale) - i64::from(scale.scale());
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

    /// The cell value `(n, d)` (d > 0) against the threshold; `None` on overflow.
    #[inline]
    pub(crate) fn cmp(&self, n: i128, d: i128) -> Option<Ordering> {
        let (k1, k2) = self.k?;
        Some(mul(n, k1)?.cmp(&mul(d, k2)?))
    }
}

/// Compares two cell values `(n1, d1)` and `(n2, d2)` (d > 0) exactly; `None` on overflow.
#[inline]
pub(crate) fn cmp_cells(a: (i128, i128), b: (i128, i128)) -> Option<Ordering> {
    Some(mul(a.0, b.1)?.cmp(&mul(b.0, a.1)?))
}

/// Every KPI rolled up to every node for every period.
#[derive(Debug, Clone)]
pub struct RolledUp {
    pub(crate) layout: Arc<Layout>,
    /// The table's own cells (sites are read from here).
    cols: Arc<Vec<Column>>,
    /// Aggregates of inner nodes, `[period × inner + (node − leaves)]`.
    inner: Vec<Column>,
}

/// One KPI's rolled-up cells, read by (period, node).
#[derive(Clone, Copy)]
pub(crate) struct KpiView<'a> {
    table: &'a Column,
    inner: &'a Column,
    nn: usize,
    leaves: usize,
    pub(crate) num_scale: u32,
    pub(crate) den_scale: u32,
}

impl KpiView<'_> {
    /// `(num, den)` of a cell with a value (observation present, den ≠ 0).
    #[inline]
    pub(crate) fn get(&self, p: usize, n: usize) -> Option<(i128, i128)> {
        let c = if n < self.leaves {
            self.table.get(p * self.nn + n)
        } else {
            self.inner.get(p * (self.nn - self.leaves) + n - self.leaves)
        }?;
        (c.1 != 0).then_some(c)
    }
}

impl RolledUp {
    /// The view of KPI `k`, or `None` for a derived (product) KPI.
    pub(crate) fn view(&self, k: usize) -> Option<KpiView<'_>> {
        let table = self.cols.get(k)?;
        if table.present.is_empty() {
            return None;
        }
        Some(KpiView {
            table,
            inner: self.inner.get(k)?,
            nn: self.layout.n(),
            leaves: self.layout.leaves,
            num_scale: table.num_scale,
            den_scale: table.den_scale,
        })
    }

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
        let v = self
            .view(k)
            .ok_or_else(|| MetricsError::DerivedKpi(kpi.to_owned()))?;
        let c = if n < l.leaves {
            v.table.get(p * l.n() + n)
        } else {
            v.inner.get(p * l.inner() + n - l.leaves)
        };
        let Some((num, den)) = c else { return Ok(None) };
        let what = || l.label(k, p, n);
        Ok(Some(Observation {
            numerator: from_fixed(num, v.num_scale, &what)?,
            denominator: from_fixed(den, v.den_scale, &what)?,
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

    /// Node ids, leaves first, every parent after its children.
    pub fn nodes(&self) -> &[String] {
        &self.layout.nodes
    }

    pub(crate) fn value_at(&self, k: usize, p: usize, n: usize) -> Result<Option<Decimal>, MetricsError> {
        let l = &self.layout;
        let kpi = l
            .kpis
            .get(k)
            .ok_or_else(|| MetricsError::UnknownKpi(format!("#{k}")))?;
        let err = || MetricsError::OutOfRange {
            what: l.label(k, p, n),
        };
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
                    let rate = v.checked_div(ckpi.formula.scale()).ok_or_else(err)?;
                    product = product.checked_mul(rate).ok_or_else(err)?;
                }
                Ok(Some(product))
            }
            formula => {
                let Some(v) = self.view(k) else { return Ok(None) };
                let Some((num, den)) = v.get(p, n) else {
                    return Ok(None);
                };
                let what = || l.label(k, p, n);
                let nv = from_fixed(num, v.num_scale, &what)?;
                if formula.aggregation() == Aggregation::RatioOfSums {
                    let dv = from_fixed(den, v.den_scale, &what)?;
                    let scaled = formula.scale().checked_mul(nv).ok_or_else(err)?;
                    Ok(Some(scaled.checked_div(dv).ok_or_else(err)?))
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
