//! Package grids, the exact Pareto frontier, the ZOPA in utility space, the recommended
//! (generalized Nash) package and logrolling suggestions.
//!
//! ## How the frontier is found
//!
//! Utilities are additive, so each issue level's weighted value is computed once per side
//! and held as an exact integer count of 10⁻²⁸ (every weighted value is a decimal in
//! \[0, 1\] with at most 28 decimal places, so this is lossless and a package's utility is a
//! sum of integers). The frontier is then built issue by issue: the packages over the
//! first *k* issues are extended by every level of issue *k + 1* and pruned to their own
//! non-dominated set (a sort and one sweep). Pruning is exact: if a partial package is
//! dominated, so is every completion of it (add the same remaining contributions to the
//! dominating one), so no frontier package is lost, and the last prune removes every
//! dominated package. Packages with identical utility pairs are all kept (neither
//! dominates the other).
//!
//! "Dominates" means at least as good for both sides and strictly better for one.

use std::cmp::Ordering;

use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

use super::issues::{IssueDomain, NegotiationSpace, Package};
use super::{NegotiationError, Side};
use crate::num;

/// Most evenly spaced levels [`PackageGrid::new`] puts on one continuous issue.
pub const MAX_LEVELS: usize = 100_000;

/// Largest candidate set the frontier builder holds at once.
pub const MAX_CANDIDATES: usize = 20_000_000;

/// Largest grid whose packages inside the utility ZOPA are counted (about 10 ns each).
pub const MAX_COUNTED_PACKAGES: u64 = 50_000_000;

/// A finite set of levels per issue; its packages are every combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageGrid {
    issues: Vec<String>,
    levels: Vec<Vec<Decimal>>,
}

impl PackageGrid {
    /// `levels_per_range` evenly spaced levels (ends included) for each continuous issue
    /// and every option of each discrete one, in the space's issue order.
    ///
    /// # Errors
    /// Space validation errors; [`NegotiationError::TooFewLevels`] for fewer than 2,
    /// [`NegotiationError::TooManyLevels`] for more than [`MAX_LEVELS`];
    /// [`NegotiationError::GridTooLarge`] when the package count exceeds `u64`.
    pub fn new(space: &NegotiationSpace, levels_per_range: usize) -> Result<Self, NegotiationError> {
        space.validate()?;
        if levels_per_range < 2 {
            return Err(NegotiationError::TooFewLevels {
                levels: levels_per_range,
            });
        }
        if levels_per_range > MAX_LEVELS {
            return Err(NegotiationError::TooManyLevels {
                levels: levels_per_range,
                limit: MAX_LEVELS,
            });
        }
        let steps = Decimal::from(levels_per_range - 1);
        let mut levels = Vec::with_capacity(space.issues.len());
        for issue in &space.issues {
            let l = match &issue.domain {
                IssueDomain::Range { min, max } => {
                    let span = num::sub(*max, *min, "grid: max − min")?;
                    let mut v = Vec::with_capacity(levels_per_range);
                    for k in 0..levels_per_range {
                        let offset = num::div(
                            num::mul(span, Decimal::from(k), "grid: span × k")?,
                            steps,
                            "grid: span × k / steps",
                        )?;
                        v.push(num::add(*min, offset, "grid: level")?.normalize());
                    }
                    v
                }
                IssueDomain::Options { values } => {
                    let mut v = values.clone();
                    v.sort();
                    v
                }
            };
            levels.push(l);
        }
        Self::checked(space, levels)
    }

    /// A grid with the given levels per issue (in the space's issue order).
    ///
    /// # Errors
    /// [`NegotiationError::UnknownIssue`] when the count differs from the space's issues,
    /// [`NegotiationError::NoOptions`] for an issue without levels,
    /// [`NegotiationError::ValueOutsideDomain`], [`NegotiationError::GridTooLarge`].
    pub fn with_levels(
        space: &NegotiationSpace,
        levels: Vec<Vec<Decimal>>,
    ) -> Result<Self, NegotiationError> {
        space.validate()?;
        if levels.len() != space.issues.len() {
            return Err(NegotiationError::UnknownIssue {
                issue: format!("{} level lists", levels.len()),
                context: format!("a grid over {} issues", space.issues.len()),
            });
        }
        for (issue, l) in space.issues.iter().zip(&levels) {
            if l.is_empty() {
                return Err(NegotiationError::NoOptions {
                    issue: issue.name.clone(),
                });
            }
            for v in l {
                issue.check_value(*v)?;
            }
        }
        Self::checked(space, levels)
    }

    fn checked(space: &NegotiationSpace, levels: Vec<Vec<Decimal>>) -> Result<Self, NegotiationError> {
        let mut count: u64 = 1;
        for l in &levels {
            count = u64::try_from(l.len())
                .ok()
                .and_then(|n| count.checked_mul(n))
                .ok_or(NegotiationError::GridTooLarge { limit: u64::MAX })?;
        }
        Ok(PackageGrid {
            issues: space.issues.iter().map(|i| i.name.clone()).collect(),
            levels,
        })
    }

    /// The issue names, in grid order.
    pub fn issues(&self) -> &[String] {
        &self.issues
    }

    /// The levels of each issue.
    pub fn levels(&self) -> &[Vec<Decimal>] {
        &self.levels
    }

    /// The number of packages (the product of the level counts).
    pub fn len(&self) -> u64 {
        self.levels
            .iter()
            .fold(1u64, |acc, l| acc.saturating_mul(l.len() as u64))
    }

    /// Whether the grid has no packages (never, for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The package with grid index `index` (0 ≤ index < len): the first issue varies
    /// slowest, the last fastest.
    pub fn package(&self, index: u64) -> Option<Package> {
        if index >= self.len() {
            return None;
        }
        let mut rest = index;
        let mut values = Vec::with_capacity(self.levels.len());
        for (name, l) in self.issues.iter().zip(&self.levels).rev() {
            let n = l.len() as u64;
            let k = usize::try_from(rest % n).ok()?;
            rest /= n;
            values.push((name.clone(), *l.get(k)?));
        }
        Some(Package::from_pairs(values))
    }
}

/// A package with both sides' utilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontierPoint {
    /// Its grid index (see [`PackageGrid::package`]).
    pub index: u64,
    /// The package.
    pub package: Package,
    /// Utility to the seller.
    pub seller_utility: Decimal,
    /// Utility to the buyer.
    pub buyer_utility: Decimal,
}

/// The part of the Pareto frontier both sides prefer to walking away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtilityZopa {
    /// Frontier packages with both utilities at or above the reservation utilities.
    pub frontier_packages: usize,
    /// Packages of the whole grid (frontier or not) in that zone; `None` for grids of
    /// more than [`MAX_COUNTED_PACKAGES`] packages (counting visits every package).
    pub grid_packages: Option<u64>,
    /// The zone's end best for the seller.
    pub best_for_seller: FrontierPoint,
    /// The zone's end best for the buyer.
    pub best_for_buyer: FrontierPoint,
}

/// The recommended package: the maximum generalized Nash product among frontier packages
/// in the utility ZOPA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NashRecommendation {
    /// The package.
    pub point: FrontierPoint,
    /// `(u_s − d_s)^w × (u_b − d_b)^(1 − w)`.
    pub nash_product: Decimal,
    /// `w`, the seller's bargaining power.
    pub seller_power: Decimal,
}

/// The frontier, the utility ZOPA and the recommendation for one grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParetoAnalysis {
    /// Packages in the grid.
    pub packages: u64,
    /// Every non-dominated package, by seller utility descending (buyer utility
    /// ascending), ties by grid index.
    pub frontier: Vec<FrontierPoint>,
    /// `None` when no package is acceptable to both sides.
    pub zopa: Option<UtilityZopa>,
    /// `None` exactly when `zopa` is `None`.
    pub recommendation: Option<NashRecommendation>,
}

const SCALE: u32 = 28;

/// An exact decimal in \[0, 1\] as a count of 10⁻²⁸.
fn to_units(d: Decimal) -> Result<i128, NegotiationError> {
    let shift = SCALE.saturating_sub(d.scale());
    10i128
        .checked_pow(shift)
        .and_then(|p| d.mantissa().checked_mul(p))
        .ok_or_else(|| {
            NegotiationError::Arithmetic(num::ArithmeticError::Overflow {
                operation: "utility: scale to 28 places".to_owned(),
            })
        })
}

fn from_units(u: i128) -> Result<Decimal, NegotiationError> {
    Decimal::try_from_i128_with_scale(u, SCALE)
        .map(|d| d.normalize())
        .map_err(|_| {
            NegotiationError::Arithmetic(num::ArithmeticError::Overflow {
                operation: "utility: from 28 places".to_owned(),
            })
        })
}

/// Weighted value of `x` on `issue` for the party on `side` (0 without a criterion).
fn contribution(
    space: &NegotiationSpace,
    side: Side,
    issue: &str,
    x: Decimal,
) -> Result<Decimal, NegotiationError> {
    match space.party(side).criterion(issue) {
        Some(c) => Ok(num::mul(c.weight, c.value.value(x)?, "utility: weight × value")?),
        None => Ok(Decimal::ZERO),
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    s: i128,
    b: i128,
    code: u64,
}

/// Per-issue, per-level weighted values of both sides in 10⁻²⁸ units.
struct Table {
    seller: Vec<Vec<i128>>,
    buyer: Vec<Vec<i128>>,
}

fn table(space: &NegotiationSpace, grid: &PackageGrid) -> Result<Table, NegotiationError> {
    if grid.issues.len() != space.issues.len()
        || grid.issues.iter().zip(&space.issues).any(|(g, i)| *g != i.name)
    {
        return Err(NegotiationError::UnknownIssue {
            issue: grid.issues.join(", "),
            context: "a grid built for another negotiation space".to_owned(),
        });
    }
    let mut seller = Vec::with_capacity(grid.levels.len());
    let mut buyer = Vec::with_capacity(grid.levels.len());
    for (name, levels) in grid.issues.iter().zip(&grid.levels) {
        let mut s = Vec::with_capacity(levels.len());
        let mut b = Vec::with_capacity(levels.len());
        for x in levels {
            s.push(to_units(contribution(space, Side::Seller, name, *x)?)?);
            b.push(to_units(contribution(space, Side::Buyer, name, *x)?)?);
        }
        seller.push(s);
        buyer.push(b);
    }
    Ok(Table { seller, buyer })
}

/// Keeps the non-dominated nodes of `nodes` (ties kept), sorted by seller utility
/// descending, buyer ascending, then code.
fn prune(nodes: &mut Vec<Node>) {
    nodes.sort_unstable_by(|x, y| y.s.cmp(&x.s).then(y.b.cmp(&x.b)).then(x.code.cmp(&y.code)));
    let mut best_b: Option<i128> = None; // max buyer utility among strictly higher seller utility
    let mut write = 0;
    let mut read = 0;
    while read < nodes.len() {
        let Some(first) = nodes.get(read).copied() else {
            break;
        };
        let mut end = read;
        while nodes.get(end).is_some_and(|n| n.s == first.s) {
            end += 1;
        }
        if best_b.is_none_or(|bb| first.b > bb) {
            for i in read..end {
                if let Some(n) = nodes.get(i).copied()
                    && n.b == first.b
                {
                    if let Some(slot) = nodes.get_mut(write) {
                        *slot = n;
                    }
                    write += 1;
                }
            }
            best_b = Some(first.b);
        }
        read = end;
    }
    nodes.truncate(write);
    // Within the frontier, seller utility falls as buyer utility rises; ties by code.
    nodes.sort_unstable_by(|x, y| y.s.cmp(&x.s).then(x.code.cmp(&y.code)));
}

fn frontier_nodes(grid: &PackageGrid, t: &Table) -> Result<Vec<Node>, NegotiationError> {
    let mut nodes = vec![Node { s: 0, b: 0, code: 0 }];
    let mut next: Vec<Node> = Vec::new();
    for (i, levels) in grid.levels.iter().enumerate() {
        let (Some(cs), Some(cb)) = (t.seller.get(i), t.buyer.get(i)) else {
            continue;
        };
        let n = levels.len();
        if nodes.len().saturating_mul(n) > MAX_CANDIDATES {
            return Err(NegotiationError::FrontierTooLarge {
                limit: MAX_CANDIDATES,
            });
        }
        next.clear();
        next.reserve(nodes.len() * n);
        let radix = n as u64;
        for node in &nodes {
            for (k, (s, b)) in cs.iter().zip(cb).enumerate() {
                next.push(Node {
                    s: node.s + s,
                    b: node.b + b,
                    // first issue slowest: code = code × n + k
                    code: node.code.saturating_mul(radix).saturating_add(k as u64),
                });
            }
        }
        prune(&mut next);
        std::mem::swap(&mut nodes, &mut next);
    }
    Ok(nodes)
}

fn point(grid: &PackageGrid, node: &Node) -> Result<FrontierPoint, NegotiationError> {
    Ok(FrontierPoint {
        index: node.code,
        package: grid.package(node.code).unwrap_or_default(),
        seller_utility: from_units(node.s)?,
        buyer_utility: from_units(node.b)?,
    })
}

/// Every non-dominated package of `grid` with both utilities (see the module doc).
///
/// # Errors
/// Space validation errors; [`NegotiationError::UnknownIssue`] for a grid of another
/// space; [`NegotiationError::FrontierTooLarge`].
pub fn pareto_frontier(
    space: &NegotiationSpace,
    grid: &PackageGrid,
) -> Result<Vec<FrontierPoint>, NegotiationError> {
    space.validate()?;
    let t = table(space, grid)?;
    frontier_nodes(grid, &t)?.iter().map(|n| point(grid, n)).collect()
}

/// Ranking value of a Nash product; exact for powers 0, ½ and 1.
#[derive(Debug, Clone, Copy)]
enum NashScore {
    /// One of the gains is zero (product 0).
    Zero,
    /// Power 0 or 1: the single gain that counts.
    Single(i128),
    /// Power ½: the product of the gains (ranking-equivalent to its square root).
    Product(u128, u128),
    /// Other powers: `w ln Δs + (1 − w) ln Δb`.
    Log(Decimal),
}

/// `a × b` as a 256-bit number (hi, lo) for exact comparison.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let mask = u128::from(u64::MAX);
    let (a1, a0) = (a >> 64, a & mask);
    let (b1, b0) = (b >> 64, b & mask);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);
    let lo = (p00 & mask) | ((mid & mask) << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

fn cmp_score(x: &NashScore, y: &NashScore) -> Ordering {
    match (x, y) {
        (NashScore::Zero, NashScore::Zero) => Ordering::Equal,
        (NashScore::Zero, _) => Ordering::Less,
        (_, NashScore::Zero) => Ordering::Greater,
        (NashScore::Single(a), NashScore::Single(b)) => a.cmp(b),
        (NashScore::Product(a1, a2), NashScore::Product(b1, b2)) => {
            mul_wide(*a1, *a2).cmp(&mul_wide(*b1, *b2))
        }
        (NashScore::Log(a), NashScore::Log(b)) => a.cmp(b),
        // One power per ranking, so mixed kinds never meet.
        _ => Ordering::Equal,
    }
}

fn nash_score(ds: i128, db: i128, w: Decimal) -> Result<NashScore, NegotiationError> {
    if w.is_zero() {
        return Ok(if db == 0 {
            NashScore::Zero
        } else {
            NashScore::Single(db)
        });
    }
    if w == Decimal::ONE {
        return Ok(if ds == 0 {
            NashScore::Zero
        } else {
            NashScore::Single(ds)
        });
    }
    if ds == 0 || db == 0 {
        return Ok(NashScore::Zero);
    }
    if w == Decimal::new(5, 1) {
        return Ok(NashScore::Product(ds.unsigned_abs(), db.unsigned_abs()));
    }
    let ln = |u: i128| -> Result<Decimal, NegotiationError> {
        from_units(u)?
            .checked_ln()
            .ok_or_else(|| NegotiationError::Maths {
                operation: "Nash product: ln of a utility gain".to_owned(),
            })
    };
    let rest = num::sub(Decimal::ONE, w, "Nash product: 1 − w")?;
    let log = num::add(
        num::mul(w, ln(ds)?, "Nash product: w ln Δs")?,
        num::mul(rest, ln(db)?, "Nash product: (1 − w) ln Δb")?,
        "Nash product: log sum",
    )?;
    Ok(NashScore::Log(log))
}

/// `Δs^w × Δb^(1−w)` as a decimal for reporting.
fn nash_value(ds: Decimal, db: Decimal, w: Decimal) -> Result<Decimal, NegotiationError> {
    let rest = num::sub(Decimal::ONE, w, "Nash product: 1 − w")?;
    let pow = |x: Decimal, e: Decimal| -> Result<Decimal, NegotiationError> {
        if e.is_zero() {
            return Ok(Decimal::ONE);
        }
        if x.is_zero() {
            return Ok(Decimal::ZERO);
        }
        if e == Decimal::ONE {
            return Ok(x);
        }
        let y = num::mul(
            x.checked_ln().ok_or_else(|| NegotiationError::Maths {
                operation: "Nash product: ln".to_owned(),
            })?,
            e,
            "Nash product: e ln x",
        )?;
        y.checked_exp().ok_or_else(|| NegotiationError::Maths {
            operation: "Nash product: exp".to_owned(),
        })
    };
    Ok(num::mul(pow(ds, w)?, pow(db, rest)?, "Nash product")?.normalize())
}

/// Frontier, utility ZOPA and recommendation in one pass over `grid`.
///
/// The recommendation maximizes the generalized Nash product
/// `(u_s − d_s)^w × (u_b − d_b)^(1 − w)` (`d` = reservation utilities, `w` =
/// `seller_power`) over frontier packages with `u_s ≥ d_s` and `u_b ≥ d_b`. The ranking is
/// exact for `w` of 0, ½ and 1 (integer arithmetic) and uses 28-digit `ln` otherwise.
/// **Tie-break**: among equal Nash products the larger joint utility `u_s + u_b` wins,
/// then the package earliest in grid order (smallest grid index: first issue's lowest
/// level first).
///
/// ```
/// use kam_core::negotiation::{frontier, Criterion, Issue, IssueKind, NegotiationSpace, PackageGrid, Party};
/// use kam_core::Direction;
/// use rust_decimal::Decimal;
///
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let price = Issue::range("price", IssueKind::UnitPrice, d("0.58"), d("0.70"))?;
/// let term = Issue::range("term_years", IssueKind::ContractTerm, d("1"), d("5"))?;
/// let seller = Party::new("3PL", vec![
///     Criterion::linear(&price, d("0.5"), Direction::HigherIsBetter)?,
///     Criterion::linear(&term, d("0.5"), Direction::HigherIsBetter)?], d("0.3"));
/// let buyer = Party::new("OEM", vec![
///     Criterion::linear(&price, d("0.9"), Direction::LowerIsBetter)?,
///     Criterion::linear(&term, d("0.1"), Direction::LowerIsBetter)?], d("0.3"));
/// let space = NegotiationSpace::new(vec![price, term], seller, buyer)?;
/// let grid = PackageGrid::new(&space, 5)?;
/// let a = frontier::analyze(&space, &grid, d("0.5"))?;
/// let rec = a.recommendation.expect("a zone exists");
/// // The seller gets the long term it values; the buyer the price it values.
/// assert_eq!(rec.point.package.get("term_years")?, d("5"));
/// # Ok::<(), kam_core::negotiation::NegotiationError>(())
/// ```
///
/// # Errors
/// Space validation errors; [`NegotiationError::InvalidPower`] outside \[0, 1\];
/// [`NegotiationError::FrontierTooLarge`]; maths failures.
pub fn analyze(
    space: &NegotiationSpace,
    grid: &PackageGrid,
    seller_power: Decimal,
) -> Result<ParetoAnalysis, NegotiationError> {
    space.validate()?;
    if seller_power < Decimal::ZERO || seller_power > Decimal::ONE {
        return Err(NegotiationError::InvalidPower { power: seller_power });
    }
    let t = table(space, grid)?;
    let nodes = frontier_nodes(grid, &t)?;
    let rs = to_units(space.seller.reservation_utility)?;
    let rb = to_units(space.buyer.reservation_utility)?;

    let mut zone_count = 0usize;
    let mut best: Option<(&Node, NashScore)> = None;
    let mut seller_end: Option<&Node> = None;
    let mut buyer_end: Option<&Node> = None;
    for node in &nodes {
        if node.s < rs || node.b < rb {
            continue;
        }
        zone_count += 1;
        // Frontier order is seller utility descending: the first in the zone is best for
        // the seller, the last best for the buyer (ties: smallest index kept).
        if seller_end.is_none() {
            seller_end = Some(node);
        }
        if buyer_end.is_none_or(|e| node.b > e.b) {
            buyer_end = Some(node);
        }
        let score = nash_score(node.s - rs, node.b - rb, seller_power)?;
        let better = match &best {
            None => true,
            Some((cur, cur_score)) => match cmp_score(&score, cur_score) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => match (node.s + node.b).cmp(&(cur.s + cur.b)) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal => node.code < cur.code,
                },
            },
        };
        if better {
            best = Some((node, score));
        }
    }
    let (zopa, recommendation) = match (seller_end, buyer_end, best) {
        (Some(se), Some(be), Some((bn, _))) => {
            let p = point(grid, bn)?;
            let product = nash_value(
                num::sub(p.seller_utility, space.seller.reservation_utility, "Nash: Δs")?,
                num::sub(p.buyer_utility, space.buyer.reservation_utility, "Nash: Δb")?,
                seller_power,
            )?;
            (
                Some(UtilityZopa {
                    frontier_packages: zone_count,
                    grid_packages: (grid.len() <= MAX_COUNTED_PACKAGES).then(|| count_in_zone(&t, rs, rb)),
                    best_for_seller: point(grid, se)?,
                    best_for_buyer: point(grid, be)?,
                }),
                Some(NashRecommendation {
                    point: p,
                    nash_product: product,
                    seller_power,
                }),
            )
        }
        _ => (None, None),
    };
    Ok(ParetoAnalysis {
        packages: grid.len(),
        frontier: nodes.iter().map(|n| point(grid, n)).collect::<Result<_, _>>()?,
        zopa,
        recommendation,
    })
}

/// The recommended package alone (see [`analyze`] for the rule and tie-break); `None`
/// when no package is acceptable to both sides.
///
/// # Errors
/// As for [`analyze`].
pub fn recommend(
    space: &NegotiationSpace,
    grid: &PackageGrid,
    seller_power: Decimal,
) -> Result<Option<NashRecommendation>, NegotiationError> {
    Ok(analyze(space, grid, seller_power)?.recommendation)
}

/// Counts every grid package with `s ≥ rs` and `b ≥ rb` by depth-first enumeration over
/// prefix sums, pruning branches that cannot reach either reservation.
fn count_in_zone(t: &Table, rs: i128, rb: i128) -> u64 {
    // Best remaining contribution per side from issue i onwards.
    let n = t.seller.len();
    let mut rest_s = vec![0i128; n + 1];
    let mut rest_b = vec![0i128; n + 1];
    for i in (0..n).rev() {
        let ms = t.seller.get(i).and_then(|v| v.iter().max().copied()).unwrap_or(0);
        let mb = t.buyer.get(i).and_then(|v| v.iter().max().copied()).unwrap_or(0);
        let (ns, nb) = (
            rest_s.get(i + 1).copied().unwrap_or(0),
            rest_b.get(i + 1).copied().unwrap_or(0),
        );
        if let Some(slot) = rest_s.get_mut(i) {
            *slot = ns + ms;
        }
        if let Some(slot) = rest_b.get_mut(i) {
            *slot = nb + mb;
        }
    }
    struct Walk<'a> {
        t: &'a Table,
        rs: i128,
        rb: i128,
        rest_s: Vec<i128>,
        rest_b: Vec<i128>,
    }
    impl Walk<'_> {
        fn count(&self, i: usize, s: i128, b: i128) -> u64 {
            let (Some(cs), Some(cb)) = (self.t.seller.get(i), self.t.buyer.get(i)) else {
                return u64::from(s >= self.rs && b >= self.rb);
            };
            let (Some(&ms), Some(&mb)) = (self.rest_s.get(i), self.rest_b.get(i)) else {
                return 0;
            };
            if s + ms < self.rs || b + mb < self.rb {
                return 0;
            }
            cs.iter()
                .zip(cb)
                .map(|(x, y)| self.count(i + 1, s + x, b + y))
                .sum()
        }
    }
    Walk {
        t,
        rs,
        rb,
        rest_s,
        rest_b,
    }
    .count(0, 0, 0)
}

/// A suggested trade from `from`: the seller gives ground on `give` (an issue the buyer
/// weighs more, relatively) and gets it back on `get` (one the seller weighs more), so
/// both sides end up better off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogrollSuggestion {
    /// Issue the seller concedes on (the buyer gains on it).
    pub give: String,
    /// Issue the seller gains on (the buyer concedes on it).
    pub get: String,
    /// Seller's and buyer's weights on `give`.
    pub give_weights: (Decimal, Decimal),
    /// Seller's and buyer's weights on `get`.
    pub get_weights: (Decimal, Decimal),
    /// The package after the trade.
    pub package: Package,
    /// Seller utility gain (> 0).
    pub seller_gain: Decimal,
    /// Buyer utility gain (> 0).
    pub buyer_gain: Decimal,
}

/// Logrolling suggestions from `from`: for each ordered pair of issues (give, get), the
/// move over the grid levels of those two issues (others fixed) in which the seller's
/// weighted value falls on `give` while the buyer's rises, the seller's rises on `get`
/// while the buyer's does not, and both utilities strictly increase; among such moves the
/// one with the largest joint gain (ties: earliest levels). Sorted by joint gain
/// descending, then by the issues' order.
///
/// # Errors
/// Space, grid and package validation errors.
pub fn logrolling(
    space: &NegotiationSpace,
    grid: &PackageGrid,
    from: &Package,
) -> Result<Vec<LogrollSuggestion>, NegotiationError> {
    space.validate()?;
    space.check_package(from)?;
    let t = table(space, grid)?;
    let mut base_s = Vec::with_capacity(grid.issues.len());
    let mut base_b = Vec::with_capacity(grid.issues.len());
    for name in &grid.issues {
        let x = from.get(name)?;
        base_s.push(to_units(contribution(space, Side::Seller, name, x)?)?);
        base_b.push(to_units(contribution(space, Side::Buyer, name, x)?)?);
    }
    let mut out: Vec<(i128, usize, usize, LogrollSuggestion)> = Vec::new();
    for (gi, give) in grid.issues.iter().enumerate() {
        for (ti, get) in grid.issues.iter().enumerate() {
            if gi == ti {
                continue;
            }
            let (Some(gs), Some(gb), Some(ts), Some(tb)) = (
                t.seller.get(gi),
                t.buyer.get(gi),
                t.seller.get(ti),
                t.buyer.get(ti),
            ) else {
                continue;
            };
            let (bgs, bgb, bts, btb) = (
                base_s.get(gi).copied().unwrap_or(0),
                base_b.get(gi).copied().unwrap_or(0),
                base_s.get(ti).copied().unwrap_or(0),
                base_b.get(ti).copied().unwrap_or(0),
            );
            let mut best: Option<(i128, usize, usize, i128, i128)> = None;
            for (kg, (&s1, &b1)) in gs.iter().zip(gb).enumerate() {
                let (ds1, db1) = (s1 - bgs, b1 - bgb);
                if ds1 >= 0 || db1 <= 0 {
                    continue;
                }
                for (kt, (&s2, &b2)) in ts.iter().zip(tb).enumerate() {
                    let (ds2, db2) = (s2 - bts, b2 - btb);
                    if ds2 <= 0 || db2 > 0 {
                        continue;
                    }
                    let (ds, db) = (ds1 + ds2, db1 + db2);
                    if ds <= 0 || db <= 0 {
                        continue;
                    }
                    if best.is_none_or(|(j, ..)| ds + db > j) {
                        best = Some((ds + db, kg, kt, ds, db));
                    }
                }
            }
            if let Some((joint, kg, kt, ds, db)) = best {
                let mut package = from.clone();
                if let (Some(vg), Some(vt)) = (
                    grid.levels.get(gi).and_then(|l| l.get(kg)),
                    grid.levels.get(ti).and_then(|l| l.get(kt)),
                ) {
                    package.0.insert(give.clone(), *vg);
                    package.0.insert(get.clone(), *vt);
                }
                out.push((
                    joint,
                    gi,
                    ti,
                    LogrollSuggestion {
                        give: give.clone(),
                        get: get.clone(),
                        give_weights: (space.seller.weight(give), space.buyer.weight(give)),
                        get_weights: (space.seller.weight(get), space.buyer.weight(get)),
                        package,
                        seller_gain: from_units(ds)?,
                        buyer_gain: from_units(db)?,
                    },
                ));
            }
        }
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    Ok(out.into_iter().map(|(.., s)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_wide_matches_known_products() {
        assert_eq!(mul_wide(0, u128::MAX), (0, 0));
        assert_eq!(mul_wide(u128::MAX, 1), (0, u128::MAX));
        // (2^128 − 1)² = 2^256 − 2^129 + 1
        assert_eq!(mul_wide(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        assert_eq!(mul_wide(1 << 64, 1 << 64), (1, 0));
    }

    #[test]
    fn prune_keeps_ties_and_drops_dominated() {
        let n = |s, b, code| Node { s, b, code };
        let mut nodes = vec![
            n(5, 1, 0),
            n(5, 1, 1), // tie with 0: both kept
            n(5, 0, 2), // dominated by 0 (same s, lower b)
            n(4, 1, 3), // dominated by 0 (lower s, same b)
            n(3, 3, 4),
            n(2, 3, 5), // dominated by 4
            n(1, 4, 6),
        ];
        prune(&mut nodes);
        let codes: Vec<u64> = nodes.iter().map(|x| x.code).collect();
        assert_eq!(codes, vec![0, 1, 4, 6]);
    }

    #[test]
    fn units_round_trip_exactly() {
        for s in ["0", "1", "0.3333333333333333333333333333", "0.05", "0.6"] {
            let d: Decimal = s.parse().unwrap_or_default();
            assert_eq!(from_units(to_units(d).unwrap_or(-1)).ok(), Some(d.normalize()));
        }
    }
}
