//! KPI definitions for contract logistics: unit, direction, formula as components, and
//! default thresholds; the standard library; and the small calculators (OTIF, perfect
//! order, inventory accuracy with tolerance) that turn raw counts into observations.
//!
//! A KPI's value is never stored as a bare ratio: the formula names a numerator and a
//! denominator so that a region's OTIF is Σ on-time orders / Σ orders over its sites (the
//! ratio of sums), not the average of site percentages.
//!
//! Threshold inclusivity (stated once, used everywhere): a value that **meets** the target
//! exactly is green; a value **at** the red threshold or worse is red; amber is strictly
//! between. When `red == target` there is no amber band.
//!
//! ```
//! use kam_core::metrics::kpi::{CountBasis, DateBasis, Kpi, Status};
//! use rust_decimal_macros::dec;
//!
//! let k = Kpi::otif(CountBasis::Order, DateBasis::Commit);
//! assert_eq!(k.id, "otif_order_commit");
//! assert_eq!(k.thresholds.status(k.direction, dec!(98.0)), Status::Green); // target 98 inclusive
//! assert_eq!(k.thresholds.status(k.direction, dec!(96.5)), Status::Amber);
//! assert_eq!(k.thresholds.status(k.direction, dec!(95.0)), Status::Red);   // red 95 inclusive
//! ```

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::MetricsError;
use crate::Direction;
use crate::num;

/// Green / amber / red (or no data) for one KPI value: a [`crate::Rag`] or no data
/// ([`Status::rag`]); its own type because its order is by severity (`NoData < Green <
/// Amber < Red`, what alert thresholds compare) and a cell without data is a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No observation (or a zero denominator) for the cell.
    NoData,
    /// Meets or beats the target.
    Green,
    /// Worse than target but better than the red threshold.
    Amber,
    /// At or beyond the red threshold.
    Red,
}

impl Status {
    /// The colour, `None` for no data.
    pub fn rag(self) -> Option<crate::Rag> {
        match self {
            Status::NoData => None,
            Status::Green => Some(crate::Rag::Green),
            Status::Amber => Some(crate::Rag::Amber),
            Status::Red => Some(crate::Rag::Red),
        }
    }
}

impl From<crate::Rag> for Status {
    fn from(r: crate::Rag) -> Self {
        match r {
            crate::Rag::Green => Status::Green,
            crate::Rag::Amber => Status::Amber,
            crate::Rag::Red => Status::Red,
        }
    }
}

/// The unit a KPI is expressed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Percent (0–100).
    Percent,
    /// A fraction (0–1).
    Fraction,
    /// Parts per million.
    PartsPerMillion,
    /// Hours.
    Hours,
    /// Days.
    Days,
    /// Currency per unit handled.
    CurrencyPerUnit,
    /// Currency per order line.
    CurrencyPerLine,
    /// Units handled per labour hour.
    UnitsPerLabourHour,
    /// A currency amount.
    Currency,
    /// A plain count.
    Count,
    /// Anything else, by name.
    Custom(String),
}

/// Which date an on-time measure is judged against — it must always be stated, because
/// OTIF against the customer's request date and against our commit date differ widely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateBasis {
    /// The date the customer requested.
    Request,
    /// The date we committed (confirmed) to.
    Commit,
    /// The planned schedule date (carrier slot, production call-off).
    Schedule,
}

impl DateBasis {
    fn as_str(self) -> &'static str {
        match self {
            DateBasis::Request => "request",
            DateBasis::Commit => "commit",
            DateBasis::Schedule => "schedule",
        }
    }
}

/// Whether an order measure counts whole orders or order lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    /// One order counts once, however many lines it has.
    Order,
    /// Every order line counts.
    Line,
}

impl CountBasis {
    fn as_str(self) -> &'static str {
        match self {
            CountBasis::Order => "order",
            CountBasis::Line => "line",
        }
    }
}

/// Which values an observation's components may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bounds {
    /// 0 ≤ numerator ≤ denominator (on-time orders of all orders).
    PartOfWhole,
    /// Both components ≥ 0 (cost and units).
    NonNegative,
    /// Numerator of any sign, denominator ≥ 0 (margin of revenue).
    Signed,
}

/// How a KPI's components roll up from sites to regions and the global account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Σ numerator / Σ denominator (rates, unit costs, weighted averages).
    RatioOfSums,
    /// Σ numerator (volumes, costs).
    Sum,
    /// The smallest value below the node.
    Minimum,
    /// The largest value below the node.
    Maximum,
    /// Product of the component KPIs' rolled-up rates (multiplicative perfect order).
    ProductOfComponents,
}

/// A KPI's formula, by named components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    /// `scale × numerator / denominator` (scale 100 for percent, 1,000,000 for ppm).
    Ratio {
        /// What the numerator counts, e.g. "orders on time in full".
        numerator: String,
        /// What the denominator counts, e.g. "orders shipped".
        denominator: String,
        /// Multiplier applied to the ratio.
        scale: Decimal,
    },
    /// `Σ value × weight / Σ weight`: observed as value and weight, stored as
    /// (value × weight, weight) so it rolls up as a ratio of sums.
    WeightedAverage {
        /// What is averaged.
        value: String,
        /// What weights it.
        weight: String,
    },
    /// A plain quantity added up the hierarchy.
    Sum {
        /// What is counted.
        quantity: String,
    },
    /// The smallest site value under a node (worst site for a higher-is-better KPI).
    Minimum {
        /// What is measured.
        quantity: String,
    },
    /// The largest site value under a node.
    Maximum {
        /// What is measured.
        quantity: String,
    },
    /// `scale × Π component rates` where each component is a ratio KPI of the library
    /// (value ÷ its own scale gives the rate): the multiplicative perfect order.
    Product {
        /// Component KPI ids.
        components: Vec<String>,
        /// Multiplier applied to the product (100 for percent).
        scale: Decimal,
    },
}

impl Formula {
    /// The roll-up rule this formula implies.
    pub fn aggregation(&self) -> Aggregation {
        match self {
            Formula::Ratio { .. } | Formula::WeightedAverage { .. } => Aggregation::RatioOfSums,
            Formula::Sum { .. } => Aggregation::Sum,
            Formula::Minimum { .. } => Aggregation::Minimum,
            Formula::Maximum { .. } => Aggregation::Maximum,
            Formula::Product { .. } => Aggregation::ProductOfComponents,
        }
    }

    /// The multiplier on the ratio (1 for non-ratio formulas).
    pub fn scale(&self) -> Decimal {
        match self {
            Formula::Ratio { scale, .. } | Formula::Product { scale, .. } => *scale,
            _ => Decimal::ONE,
        }
    }
}

/// Target and red threshold. See the module docs for inclusivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The target: meeting it exactly is green.
    pub target: Decimal,
    /// The red threshold: reaching it exactly is red.
    pub red: Decimal,
}

impl Thresholds {
    /// Target and red threshold.
    pub fn new(target: Decimal, red: Decimal) -> Self {
        Thresholds { target, red }
    }

    /// Whether `value` meets the target (inclusive).
    pub fn meets_target(&self, direction: Direction, value: Decimal) -> bool {
        match direction {
            Direction::HigherIsBetter => value >= self.target,
            Direction::LowerIsBetter => value <= self.target,
        }
    }

    /// Whether `value` is at or beyond the red threshold.
    pub fn is_red(&self, direction: Direction, value: Decimal) -> bool {
        match direction {
            Direction::HigherIsBetter => value <= self.red,
            Direction::LowerIsBetter => value >= self.red,
        }
    }

    /// Green if the target is met, else red at or beyond the red threshold, else amber.
    pub fn status(&self, direction: Direction, value: Decimal) -> Status {
        if self.meets_target(direction, value) {
            Status::Green
        } else if self.is_red(direction, value) {
            Status::Red
        } else {
            Status::Amber
        }
    }

    fn validate(&self, kpi: &str, direction: Direction) -> Result<(), MetricsError> {
        let ok = match direction {
            Direction::HigherIsBetter => self.red <= self.target,
            Direction::LowerIsBetter => self.red >= self.target,
        };
        if ok {
            Ok(())
        } else {
            Err(MetricsError::InvalidKpi {
                kpi: kpi.to_owned(),
                reason: format!(
                    "red threshold {} is on the good side of target {} for a {}-is-better KPI",
                    self.red, self.target, direction
                ),
            })
        }
    }
}

/// How far a counted quantity may be from the system quantity and still count as accurate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// |physical − system| ≤ this many units.
    Units(Decimal),
    /// |physical − system| ≤ this percent of the system quantity.
    Percent(Decimal),
}

/// A KPI definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpi {
    /// Unique id, e.g. `otif_order_commit`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unit of the value.
    pub unit: Unit,
    /// Whether higher or lower is better.
    pub direction: Direction,
    /// Formula by components.
    pub formula: Formula,
    /// Which values the components may take.
    pub bounds: Bounds,
    /// Default target and red threshold.
    pub thresholds: Thresholds,
    /// Order or line basis, for order measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_basis: Option<CountBasis>,
    /// Date basis, for on-time measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_basis: Option<DateBasis>,
    /// Count tolerance, for inventory accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
}

fn pct() -> Decimal {
    Decimal::ONE_HUNDRED
}

fn ratio(numerator: &str, denominator: &str, scale: Decimal) -> Formula {
    Formula::Ratio {
        numerator: numerator.to_owned(),
        denominator: denominator.to_owned(),
        scale,
    }
}

impl Kpi {
    /// A custom KPI; checked by [`Kpi::validate`].
    ///
    /// # Errors
    /// See [`Kpi::validate`].
    pub fn custom(
        id: &str,
        name: &str,
        unit: Unit,
        direction: Direction,
        formula: Formula,
        bounds: Bounds,
        thresholds: Thresholds,
    ) -> Result<Self, MetricsError> {
        let k = Kpi {
            id: id.to_owned(),
            name: name.to_owned(),
            unit,
            direction,
            formula,
            bounds,
            thresholds,
            count_basis: None,
            date_basis: None,
            tolerance: None,
        };
        k.validate()?;
        Ok(k)
    }

    fn standard(
        id: String,
        name: String,
        unit: Unit,
        direction: Direction,
        formula: Formula,
        bounds: Bounds,
        thresholds: Thresholds,
    ) -> Self {
        Kpi {
            id,
            name,
            unit,
            direction,
            formula,
            bounds,
            thresholds,
            count_basis: None,
            date_basis: None,
            tolerance: None,
        }
    }

    /// Replaces the default thresholds (validated against the direction).
    ///
    /// # Errors
    /// [`MetricsError::InvalidKpi`] if the red threshold is on the good side of the target.
    pub fn with_thresholds(mut self, target: Decimal, red: Decimal) -> Result<Self, MetricsError> {
        self.thresholds = Thresholds::new(target, red);
        self.thresholds.validate(&self.id, self.direction)?;
        Ok(self)
    }

    /// OTIF % — on time (against `date`) and in full, on order or line basis.
    /// Defaults: target 98 %, red 95 %.
    pub fn otif(basis: CountBasis, date: DateBasis) -> Self {
        let (part, whole) = match basis {
            CountBasis::Order => ("orders delivered on time in full", "orders delivered"),
            CountBasis::Line => ("lines delivered on time in full", "lines delivered"),
        };
        let mut k = Kpi::standard(
            format!("otif_{}_{}", basis.as_str(), date.as_str()),
            format!("OTIF ({} basis, {} date)", basis.as_str(), date.as_str()),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio(part, whole, pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::from(98), Decimal::from(95)),
        );
        k.count_basis = Some(basis);
        k.date_basis = Some(date);
        k
    }

    /// On-time shipment % (shipped by the `date`), target 98 %, red 95 %.
    pub fn on_time_shipment(date: DateBasis) -> Self {
        let mut k = Kpi::standard(
            format!("on_time_shipment_{}", date.as_str()),
            format!("On-time shipment ({} date)", date.as_str()),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("shipments on time", "shipments", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::from(98), Decimal::from(95)),
        );
        k.date_basis = Some(date);
        k
    }

    /// Order accuracy % (orders without picking, quantity or labelling error),
    /// target 99.5 %, red 99 %.
    pub fn order_accuracy() -> Self {
        Kpi::standard(
            "order_accuracy".into(),
            "Order accuracy".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("orders without error", "orders shipped", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::new(995, 1), Decimal::from(99)),
        )
    }

    /// Pick accuracy % on line basis, target 99.8 %, red 99.5 %.
    pub fn pick_accuracy() -> Self {
        let mut k = Kpi::standard(
            "pick_accuracy".into(),
            "Pick accuracy".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("lines picked correctly", "lines picked", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::new(998, 1), Decimal::new(995, 1)),
        );
        k.count_basis = Some(CountBasis::Line);
        k
    }

    /// Inventory accuracy % — locations whose count is within `tolerance` of the system
    /// quantity, of locations counted. Target 99.5 %, red 98.5 %.
    pub fn inventory_accuracy(tolerance: Tolerance) -> Self {
        let mut k = Kpi::standard(
            "inventory_accuracy".into(),
            "Inventory accuracy".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("locations within tolerance", "locations counted", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::new(995, 1), Decimal::new(985, 1)),
        );
        k.tolerance = Some(tolerance);
        k
    }

    /// Dock-to-stock time in hours (receipt-weighted mean), target 24 h, red 48 h.
    pub fn dock_to_stock_hours() -> Self {
        Kpi::standard(
            "dock_to_stock_hours".into(),
            "Dock-to-stock time".into(),
            Unit::Hours,
            Direction::LowerIsBetter,
            Formula::WeightedAverage {
                value: "hours from dock to stock".into(),
                weight: "receipts".into(),
            },
            Bounds::NonNegative,
            Thresholds::new(Decimal::from(24), Decimal::from(48)),
        )
    }

    /// Damage-free rate % (units without damage of units handled), target 99.9 %, red 99.5 %.
    pub fn damage_free_rate() -> Self {
        Kpi::standard(
            "damage_free_rate".into(),
            "Damage-free rate".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("units handled without damage", "units handled", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::new(999, 1), Decimal::new(995, 1)),
        )
    }

    /// Damage in parts per million units handled, target 150 ppm, red 500 ppm.
    pub fn damage_ppm() -> Self {
        Kpi::standard(
            "damage_ppm".into(),
            "Damage ppm".into(),
            Unit::PartsPerMillion,
            Direction::LowerIsBetter,
            ratio("units damaged", "units handled", Decimal::from(1_000_000)),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::from(150), Decimal::from(500)),
        )
    }

    /// Perfect order %, SCOR-style: orders that were on time, complete, damage free and
    /// correctly documented, counted order by order, of all orders. Target 95 %, red 90 %.
    pub fn perfect_order_scor() -> Self {
        Kpi::standard(
            "perfect_order_scor".into(),
            "Perfect order (SCOR count)".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("perfect orders", "orders", pct()),
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::from(95), Decimal::from(90)),
        )
    }

    /// Perfect order %, multiplicative form: the product of component rates (each
    /// component a ratio KPI of the library). Assumes the failures are independent, so it
    /// differs from the SCOR count when they are not. Target 95 %, red 90 %.
    pub fn perfect_order_multiplicative(components: &[&str]) -> Self {
        Kpi::standard(
            "perfect_order_multiplicative".into(),
            "Perfect order (multiplicative)".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            Formula::Product {
                components: components.iter().map(|c| (*c).to_owned()).collect(),
                scale: pct(),
            },
            Bounds::PartOfWhole,
            Thresholds::new(Decimal::from(95), Decimal::from(90)),
        )
    }

    /// Cost per unit handled. No universal default exists: thresholds are per contract.
    pub fn cost_per_unit(target: Decimal, red: Decimal) -> Result<Self, MetricsError> {
        Kpi::standard(
            "cost_per_unit".into(),
            "Cost per unit".into(),
            Unit::CurrencyPerUnit,
            Direction::LowerIsBetter,
            ratio("operating cost", "units handled", Decimal::ONE),
            Bounds::NonNegative,
            Thresholds::new(target, red),
        )
        .checked()
    }

    /// Cost per order line. Thresholds are per contract.
    pub fn cost_per_line(target: Decimal, red: Decimal) -> Result<Self, MetricsError> {
        Kpi::standard(
            "cost_per_line".into(),
            "Cost per line".into(),
            Unit::CurrencyPerLine,
            Direction::LowerIsBetter,
            ratio("operating cost", "lines picked", Decimal::ONE),
            Bounds::NonNegative,
            Thresholds::new(target, red),
        )
        .checked()
    }

    /// Units per labour hour (productivity). Thresholds are per operation.
    pub fn units_per_labour_hour(target: Decimal, red: Decimal) -> Result<Self, MetricsError> {
        Kpi::standard(
            "units_per_labour_hour".into(),
            "Units per labour hour".into(),
            Unit::UnitsPerLabourHour,
            Direction::HigherIsBetter,
            ratio("units handled", "labour hours", Decimal::ONE),
            Bounds::NonNegative,
            Thresholds::new(target, red),
        )
        .checked()
    }

    /// Cost-to-serve as % of revenue, target 92 %, red 97 % (i.e. 8 % / 3 % gross margin).
    pub fn cost_to_serve_percent() -> Self {
        Kpi::standard(
            "cost_to_serve_pct".into(),
            "Cost-to-serve % of revenue".into(),
            Unit::Percent,
            Direction::LowerIsBetter,
            ratio("cost to serve", "revenue", pct()),
            Bounds::NonNegative,
            Thresholds::new(Decimal::from(92), Decimal::from(97)),
        )
    }

    /// Margin % of revenue (margin may be negative), target 8 %, red 3 %.
    pub fn margin_percent() -> Self {
        Kpi::standard(
            "margin_pct".into(),
            "Margin %".into(),
            Unit::Percent,
            Direction::HigherIsBetter,
            ratio("margin", "revenue", pct()),
            Bounds::Signed,
            Thresholds::new(Decimal::from(8), Decimal::from(3)),
        )
    }

    fn checked(self) -> Result<Self, MetricsError> {
        self.validate()?;
        Ok(self)
    }

    /// Checks the definition on its own: non-empty id, thresholds on the right side of the
    /// target for the direction, positive scale, non-empty product components.
    ///
    /// # Errors
    /// [`MetricsError::InvalidKpi`] naming the KPI and the problem.
    pub fn validate(&self) -> Result<(), MetricsError> {
        let invalid = |reason: &str| MetricsError::InvalidKpi {
            kpi: self.id.clone(),
            reason: reason.to_owned(),
        };
        if self.id.trim().is_empty() {
            return Err(invalid("empty id"));
        }
        self.thresholds.validate(&self.id, self.direction)?;
        if self.formula.scale() <= Decimal::ZERO {
            return Err(invalid("scale must be positive"));
        }
        if let Formula::Product { components, .. } = &self.formula
            && components.is_empty()
        {
            return Err(invalid("a product needs at least one component"));
        }
        Ok(())
    }

    /// The status of a value against this KPI's thresholds.
    pub fn status(&self, value: Decimal) -> Status {
        self.thresholds.status(self.direction, value)
    }
}

/// A validated set of KPIs, addressable by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Kpi>", into = "Vec<Kpi>")]
pub struct KpiLibrary {
    kpis: Vec<Kpi>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl TryFrom<Vec<Kpi>> for KpiLibrary {
    type Error = MetricsError;
    fn try_from(kpis: Vec<Kpi>) -> Result<Self, Self::Error> {
        KpiLibrary::new(kpis)
    }
}

impl From<KpiLibrary> for Vec<Kpi> {
    fn from(l: KpiLibrary) -> Self {
        l.kpis
    }
}

impl KpiLibrary {
    /// Validates every KPI, unique ids, and that every product component is a ratio KPI
    /// of the library.
    ///
    /// # Errors
    /// [`MetricsError::InvalidKpi`], [`MetricsError::DuplicateKpi`] or
    /// [`MetricsError::UnknownKpi`] (a product component missing).
    pub fn new(kpis: Vec<Kpi>) -> Result<Self, MetricsError> {
        let mut index = HashMap::with_capacity(kpis.len());
        for (i, k) in kpis.iter().enumerate() {
            k.validate()?;
            if index.insert(k.id.clone(), i).is_some() {
                return Err(MetricsError::DuplicateKpi(k.id.clone()));
            }
        }
        for k in &kpis {
            if let Formula::Product { components, .. } = &k.formula {
                for c in components {
                    let ci = *index.get(c).ok_or_else(|| MetricsError::UnknownKpi(c.clone()))?;
                    let is_ratio = kpis
                        .get(ci)
                        .is_some_and(|ck| matches!(ck.formula, Formula::Ratio { .. }));
                    if !is_ratio {
                        return Err(MetricsError::InvalidKpi {
                            kpi: k.id.clone(),
                            reason: format!("component {c:?} is not a ratio KPI"),
                        });
                    }
                }
            }
        }
        Ok(KpiLibrary { kpis, index })
    }

    /// The standard contract logistics library: OTIF (order and line, commit date), OTIF
    /// (order, request date), on-time shipment (schedule date), order, pick and inventory
    /// accuracy (±0 units), dock-to-stock, damage-free rate, damage ppm, perfect order in
    /// both forms (multiplicative over OTIF line, order accuracy, damage-free rate),
    /// cost-to-serve % and margin %. Cost per unit/line and units per labour hour need
    /// contract thresholds: add them with [`KpiLibrary::with`].
    pub fn contract_logistics() -> Self {
        let kpis = vec![
            Kpi::otif(CountBasis::Order, DateBasis::Commit),
            Kpi::otif(CountBasis::Line, DateBasis::Commit),
            Kpi::otif(CountBasis::Order, DateBasis::Request),
            Kpi::on_time_shipment(DateBasis::Schedule),
            Kpi::order_accuracy(),
            Kpi::pick_accuracy(),
            Kpi::inventory_accuracy(Tolerance::Units(Decimal::ZERO)),
            Kpi::dock_to_stock_hours(),
            Kpi::damage_free_rate(),
            Kpi::damage_ppm(),
            Kpi::perfect_order_scor(),
            Kpi::perfect_order_multiplicative(&["otif_line_commit", "order_accuracy", "damage_free_rate"]),
            Kpi::cost_to_serve_percent(),
            Kpi::margin_percent(),
        ];
        let index = kpis.iter().enumerate().map(|(i, k)| (k.id.clone(), i)).collect();
        KpiLibrary { kpis, index }
    }

    /// The library with `kpi` added.
    ///
    /// # Errors
    /// As [`KpiLibrary::new`].
    pub fn with(self, kpi: Kpi) -> Result<Self, MetricsError> {
        let mut kpis = self.kpis;
        kpis.push(kpi);
        KpiLibrary::new(kpis)
    }

    /// The KPI with `id`.
    ///
    /// # Errors
    /// [`MetricsError::UnknownKpi`].
    pub fn get(&self, id: &str) -> Result<&Kpi, MetricsError> {
        self.index
            .get(id)
            .and_then(|&i| self.kpis.get(i))
            .ok_or_else(|| MetricsError::UnknownKpi(id.to_owned()))
    }

    /// The position of `id` in the library.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// All KPIs in definition order.
    pub fn kpis(&self) -> &[Kpi] {
        &self.kpis
    }

    /// Number of KPIs.
    pub fn len(&self) -> usize {
        self.kpis.len()
    }

    /// Whether the library is empty.
    pub fn is_empty(&self) -> bool {
        self.kpis.is_empty()
    }
}

fn non_negative(what: &str, value: Decimal) -> Result<(), MetricsError> {
    if value.is_sign_negative() && !value.is_zero() {
        Err(MetricsError::NegativeCount {
            what: what.to_owned(),
            value,
        })
    } else {
        Ok(())
    }
}

/// OTIF as a fraction: `on_time_in_full / total`.
///
/// # Errors
/// Negative counts, on-time above total, or a zero total.
///
/// ```
/// use kam_core::metrics::kpi::otif;
/// use rust_decimal_macros::dec;
/// assert_eq!(otif(dec!(1080), dec!(1200))?, dec!(0.9));
/// assert!(otif(dec!(1201), dec!(1200)).is_err());
/// # Ok::<(), kam_core::metrics::MetricsError>(())
/// ```
pub fn otif(on_time_in_full: Decimal, total: Decimal) -> Result<Decimal, MetricsError> {
    non_negative("otif: on_time_in_full", on_time_in_full)?;
    non_negative("otif: total", total)?;
    if on_time_in_full > total {
        return Err(MetricsError::PartExceedsTotal {
            what: "otif".into(),
            part: on_time_in_full,
            total,
        });
    }
    if total.is_zero() {
        return Err(MetricsError::ZeroTotal { what: "otif".into() });
    }
    Ok(num::div(on_time_in_full, total, "otif: on_time_in_full / total")?.normalize())
}

/// Multiplicative perfect order rate: the product of component rates (each in 0..=1).
///
/// # Errors
/// An empty list or a rate outside 0..=1.
pub fn perfect_order_rate(rates: &[Decimal]) -> Result<Decimal, MetricsError> {
    if rates.is_empty() {
        return Err(MetricsError::Empty {
            what: "perfect_order_rate: rates".into(),
        });
    }
    let mut product = Decimal::ONE;
    for (i, &r) in rates.iter().enumerate() {
        if r < Decimal::ZERO || r > Decimal::ONE {
            return Err(MetricsError::RateOutOfRange {
                what: format!("perfect_order_rate: rates[{i}]"),
                rate: r,
            });
        }
        product = num::mul(product, r, "perfect_order_rate: product")?;
    }
    Ok(product)
}

/// One counted location: system quantity and physically counted quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationCount {
    /// Quantity the warehouse management system holds.
    pub system: Decimal,
    /// Quantity counted.
    pub physical: Decimal,
}

/// Inventory accuracy components: (locations within tolerance, locations counted).
///
/// # Errors
/// Negative quantities or tolerance.
pub fn inventory_accuracy(
    counts: &[LocationCount],
    tolerance: Tolerance,
) -> Result<(Decimal, Decimal), MetricsError> {
    let tol_value = match tolerance {
        Tolerance::Units(u) | Tolerance::Percent(u) => u,
    };
    non_negative("inventory_accuracy: tolerance", tol_value)?;
    let mut accurate = Decimal::ZERO;
    for (i, c) in counts.iter().enumerate() {
        non_negative(&format!("inventory_accuracy: counts[{i}].system"), c.system)?;
        non_negative(&format!("inventory_accuracy: counts[{i}].physical"), c.physical)?;
        let diff = num::sub(c.physical, c.system, "inventory_accuracy: difference")?.abs();
        let allowed = match tolerance {
            Tolerance::Units(u) => u,
            Tolerance::Percent(p) => num::div(
                num::mul(c.system, p, "inventory_accuracy: tolerance")?,
                Decimal::ONE_HUNDRED,
                "inventory_accuracy: tolerance",
            )?,
        };
        if diff <= allowed {
            accurate += Decimal::ONE;
        }
    }
    Ok((accurate, Decimal::from(counts.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn otif_errors() {
        assert!(matches!(
            otif(dec!(-1), dec!(10)),
            Err(MetricsError::NegativeCount { .. })
        ));
        assert!(matches!(
            otif(dec!(11), dec!(10)),
            Err(MetricsError::PartExceedsTotal { .. })
        ));
        assert!(matches!(
            otif(dec!(0), dec!(0)),
            Err(MetricsError::ZeroTotal { .. })
        ));
    }

    #[test]
    fn thresholds_must_sit_on_the_bad_side() {
        assert!(
            Kpi::otif(CountBasis::Order, DateBasis::Commit)
                .with_thresholds(dec!(95), dec!(98))
                .is_err()
        );
        assert!(Kpi::cost_per_line(dec!(0.65), dec!(0.60)).is_err());
        assert!(Kpi::cost_per_line(dec!(0.65), dec!(0.75)).is_ok());
    }

    #[test]
    fn library_checks_product_components() {
        let lib = KpiLibrary::new(vec![Kpi::perfect_order_multiplicative(&["nope"])]);
        assert_eq!(lib, Err(MetricsError::UnknownKpi("nope".into())));
        let lib = KpiLibrary::new(vec![
            Kpi::dock_to_stock_hours(),
            Kpi::perfect_order_multiplicative(&["dock_to_stock_hours"]),
        ]);
        assert!(matches!(lib, Err(MetricsError::InvalidKpi { .. })));
        let lib = KpiLibrary::new(vec![Kpi::order_accuracy(), Kpi::order_accuracy()]);
        assert!(matches!(lib, Err(MetricsError::DuplicateKpi(_))));
        // The built-in library is itself valid.
        let std_lib = KpiLibrary::contract_logistics();
        assert_eq!(KpiLibrary::new(std_lib.kpis().to_vec()).unwrap(), std_lib);
    }

    #[test]
    fn inventory_accuracy_tolerance() {
        let counts = [
            LocationCount {
                system: dec!(100),
                physical: dec!(100),
            },
            LocationCount {
                system: dec!(100),
                physical: dec!(98),
            },
            LocationCount {
                system: dec!(50),
                physical: dec!(53),
            },
        ];
        assert_eq!(
            inventory_accuracy(&counts, Tolerance::Units(dec!(0))).unwrap(),
            (dec!(1), dec!(3))
        );
        assert_eq!(
            inventory_accuracy(&counts, Tolerance::Units(dec!(2))).unwrap(),
            (dec!(2), dec!(3))
        );
        assert_eq!(
            inventory_accuracy(&counts, Tolerance::Percent(dec!(6))).unwrap(),
            (dec!(3), dec!(3))
        );
        assert!(inventory_accuracy(&counts, Tolerance::Units(dec!(-1))).is_err());
    }

    #[test]
    fn perfect_order_forms() {
        assert_eq!(perfect_order_rate(&[dec!(0.9), dec!(0.9)]).unwrap(), dec!(0.81));
        assert!(perfect_order_rate(&[]).is_err());
        assert!(perfect_order_rate(&[dec!(1.1)]).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let lib = KpiLibrary::contract_logistics()
            .with(Kpi::cost_per_line(dec!(0.65), dec!(0.75)).unwrap())
            .unwrap();
        let json = serde_json::to_string(&lib).unwrap();
        assert_eq!(serde_json::from_str::<KpiLibrary>(&json).unwrap(), lib);
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Doc {
            kpis: KpiLibrary,
        }
        let doc = Doc { kpis: lib };
        let t = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&t).unwrap(), doc);
    }
}
