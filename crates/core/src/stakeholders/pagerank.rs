//! Influence ranking: weighted PageRank over the customer's influence relations.
//!
//! The formula is documented on [`StakeholderGraph::influence_ranking`].

use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::graph::Link;
use super::{StakeholderError, StakeholderGraph};

/// Parameters of [`StakeholderGraph::influence_ranking`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfluenceOptions {
    /// Damping factor `d` in [0, 1); 0.85 by default.
    pub damping: Decimal,
    /// Stop when the L1 change between iterations is below this (> 0); 1e-10 by default.
    pub tolerance: Decimal,
    /// Upper bound on iterations (≥ 1); 200 by default.
    pub max_iterations: u32,
    /// If set (in (0, 1]), reports-to lines also carry influence from report to manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports_to_weight: Option<Decimal>,
}

impl Default for InfluenceOptions {
    fn default() -> Self {
        InfluenceOptions {
            damping: Decimal::new(85, 2),
            tolerance: Decimal::new(1, 10),
            max_iterations: 200,
            reports_to_weight: None,
        }
    }
}

/// One person's influence score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfluenceScore {
    /// Customer person id.
    pub person: String,
    /// PageRank score (12 decimal places); all scores sum to exactly 1.
    pub score: Decimal,
}

/// The result of [`StakeholderGraph::influence_ranking`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfluenceRanking {
    /// Scores, highest first (ties by id).
    pub scores: Vec<InfluenceScore>,
    /// Iterations run.
    pub iterations: u32,
    /// Whether the tolerance was reached within `max_iterations`.
    pub converged: bool,
}

fn to_f64(value: Decimal, path: &str, range: &'static str) -> Result<f64, StakeholderError> {
    value.to_f64().ok_or_else(|| StakeholderError::OutOfRange {
        path: path.to_owned(),
        value,
        range,
    })
}

fn out_of_range(path: &str, value: Decimal, range: &'static str) -> StakeholderError {
    StakeholderError::OutOfRange {
        path: path.to_owned(),
        value,
        range,
    }
}

const SCALE: u32 = 12;
const UNITS: i64 = 1_000_000_000_000;

impl StakeholderGraph {
    /// Ranks the customer's people by weighted PageRank.
    ///
    /// # Formula
    ///
    /// Over the N customer people in the graph, with damping `d`:
    ///
    /// ```text
    /// PR(v) = (1 − d)/N  +  d · Σ_{u → v} PR(u) · w(u, v) / W(u)  +  d · Σ_{u dangling} PR(u)/N
    /// ```
    ///
    /// A link `u → v` means *u defers to v*: every `influences { from: v, to: u, weight }`
    /// relation is the link `u → v` with weight `w(u, v) = weight`, so rank flows to the
    /// influencer and a person ranks high when they influence people who themselves rank
    /// high. With [`InfluenceOptions::reports_to_weight`] set, each `reports_to` relation is
    /// also a link from the report to the manager with that weight. `W(u)` is the sum of
    /// `u`'s outgoing link weights; a person with no outgoing link (*dangling*) spreads
    /// their rank uniformly over everyone. Conflicts carry no influence.
    ///
    /// The iteration runs in `f64` (the only floats in this module), starting from the
    /// uniform vector, until the L1 change between two iterations is below
    /// [`InfluenceOptions::tolerance`] or [`InfluenceOptions::max_iterations`] is reached.
    /// The result is normalised and converted to `Decimal` with 12 decimal places by the
    /// largest-remainder method, so the scores sum to **exactly 1** and each differs from
    /// the iteration's value by less than 10⁻¹².
    ///
    /// ```
    /// use kam_core::stakeholders::*;
    /// use rust_decimal::Decimal;
    ///
    /// let p = |id| Person::new(id, id, "emea", "ops", BuyingRole::User,
    ///                          PoliticalPower::Low, Support::Neutral);
    /// let map = StakeholderMap {
    ///     people: vec![p("a"), p("b"), p("c")],
    ///     relations: vec![
    ///         Relation::Influences { from: "a".into(), to: "b".into(), weight: Decimal::ONE },
    ///         Relation::Influences { from: "a".into(), to: "c".into(), weight: Decimal::ONE },
    ///     ],
    ///     ..Default::default()
    /// };
    /// let ranking = map.graph()?.influence_ranking(&InfluenceOptions::default())?;
    /// assert_eq!(ranking.scores[0].person, "a");
    /// let total: Decimal = ranking.scores.iter().map(|s| s.score).sum();
    /// assert_eq!(total, Decimal::ONE);
    /// # Ok::<(), StakeholderError>(())
    /// ```
    ///
    /// # Errors
    /// Damping outside [0, 1), a tolerance ≤ 0, zero iterations, a reports-to weight
    /// outside (0, 1].
    pub fn influence_ranking(
        &self,
        options: &InfluenceOptions,
    ) -> Result<InfluenceRanking, StakeholderError> {
        if options.damping < Decimal::ZERO || options.damping >= Decimal::ONE {
            return Err(out_of_range("options.damping", options.damping, "[0, 1)"));
        }
        if options.tolerance <= Decimal::ZERO {
            return Err(out_of_range("options.tolerance", options.tolerance, "(0, ∞)"));
        }
        if options.max_iterations == 0 {
            return Err(out_of_range("options.max_iterations", Decimal::ZERO, "[1, ∞)"));
        }
        let reports_to = match options.reports_to_weight {
            Some(w) if w <= Decimal::ZERO || w > Decimal::ONE => {
                return Err(out_of_range("options.reports_to_weight", w, "(0, 1]"));
            }
            Some(w) => Some(to_f64(w, "options.reports_to_weight", "(0, 1]")?),
            None => None,
        };
        let d = to_f64(options.damping, "options.damping", "[0, 1)")?;
        let tolerance = to_f64(options.tolerance, "options.tolerance", "(0, ∞)")?;

        // Dense positions for the customer people still in the graph.
        let mut pos = vec![u32::MAX; self.graph.node_bound()];
        let mut nodes = Vec::new();
        for (n, _, _) in self.their_nodes() {
            if let Some(p) = pos.get_mut(n.index()) {
                *p = nodes.len() as u32;
            }
            nodes.push(n);
        }
        let n = nodes.len();
        if n == 0 {
            return Ok(InfluenceRanking {
                scores: Vec::new(),
                iterations: 0,
                converged: true,
            });
        }
        let at = |node: petgraph::stable_graph::NodeIndex| {
            pos.get(node.index()).copied().filter(|&p| p != u32::MAX)
        };

        // Links (source, target, weight) from one sequential pass over the edge array,
        // then placed in compressed rows by source (a counting sort, stable).
        let mut triples: Vec<(u32, u32, f64)> = Vec::with_capacity(self.graph.edge_count());
        for e in self.graph.edge_references() {
            let (Some(a), Some(b)) = (at(e.source()), at(e.target())) else {
                continue;
            };
            match *e.weight() {
                // Rank flows from the influenced (b) to the influencer (a).
                Link::Influences(w) => triples.push((b, a, to_f64(w, "relations.weight", "(0, 1]")?)),
                Link::ReportsTo => {
                    if let Some(w) = reports_to {
                        triples.push((a, b, w));
                    }
                }
                Link::ConflictsWith | Link::Covers(_) => {}
            }
        }
        // Rows by *target* (pull): each iteration reads the sources' contributions and
        // writes its own entry once, which is kinder to the cache than scattering.
        let mut start = vec![0usize; n + 1];
        let mut total = vec![0.0f64; n];
        for &(s, t, w) in &triples {
            if let Some(x) = start.get_mut(t as usize + 1) {
                *x += 1;
            }
            if let Some(x) = total.get_mut(s as usize) {
                *x += w;
            }
        }
        for i in 0..n {
            let prev = start.get(i).copied().unwrap_or(0);
            if let Some(x) = start.get_mut(i + 1) {
                *x += prev;
            }
        }
        let mut fill = start.clone();
        let mut sources = vec![0u32; triples.len()];
        let mut share = vec![0.0f64; triples.len()];
        for &(s, t, w) in &triples {
            let Some(slot) = fill.get_mut(t as usize) else {
                continue;
            };
            if let (Some(x), Some(y)) = (sources.get_mut(*slot), share.get_mut(*slot)) {
                *x = s;
                *y = w / total.get(s as usize).copied().unwrap_or(1.0);
            }
            *slot += 1;
        }
        drop(triples);
        drop(fill);
        let dangles: Vec<bool> = total.iter().map(|&t| t <= 0.0).collect();

        let nf = n as f64;
        let mut rank = vec![1.0 / nf; n];
        let mut next = vec![0.0; n];
        let mut contrib = vec![0.0; n];
        let mut iterations = 0;
        let mut converged = false;
        while iterations < options.max_iterations {
            iterations += 1;
            let mut dangling = 0.0;
            for ((c, r), dangles) in contrib.iter_mut().zip(&rank).zip(&dangles) {
                if *dangles {
                    dangling += r;
                    *c = 0.0;
                } else {
                    *c = d * r;
                }
            }
            let base = (1.0 - d) / nf + d * dangling / nf;
            let mut change = 0.0;
            for ((x, old), row) in next.iter_mut().zip(&rank).zip(start.windows(2)) {
                let (s, e) = match row {
                    [s, e] => (*s, *e),
                    _ => (0, 0),
                };
                let mut acc = base;
                for (u, w) in sources
                    .get(s..e)
                    .unwrap_or(&[])
                    .iter()
                    .zip(share.get(s..e).unwrap_or(&[]))
                {
                    acc += contrib.get(*u as usize).copied().unwrap_or(0.0) * w;
                }
                *x = acc;
                change += (acc - old).abs();
            }
            std::mem::swap(&mut rank, &mut next);
            if change < tolerance {
                converged = true;
                break;
            }
        }

        let units = apportion(&rank);
        // Same scale everywhere, so ordering by units is ordering by score.
        let mut order: Vec<(i64, &str)> = nodes
            .iter()
            .zip(&units)
            .map(|(&node, &u)| (u, self.id(node)))
            .collect();
        order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let scores = order
            .into_iter()
            .map(|(u, id)| InfluenceScore {
                person: id.to_owned(),
                score: Decimal::new(u, SCALE),
            })
            .collect();
        Ok(InfluenceRanking {
            scores,
            iterations,
            converged,
        })
    }
}

/// Integer units of 10⁻¹² that sum to exactly 10¹², by largest remainder.
fn apportion(rank: &[f64]) -> Vec<i64> {
    if rank.is_empty() {
        return Vec::new();
    }
    let total: f64 = rank.iter().sum();
    let scaled: Vec<f64> = rank.iter().map(|r| r / total * UNITS as f64).collect();
    let mut units: Vec<i64> = scaled.iter().map(|s| s.floor() as i64).collect();
    let mut missing = UNITS - units.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..units.len()).collect();
    let remainder =
        |i: usize| scaled.get(i).copied().unwrap_or(0.0) - units.get(i).copied().unwrap_or(0) as f64;
    if missing > 0 {
        order.sort_by(|&a, &b| remainder(b).total_cmp(&remainder(a)).then(a.cmp(&b)));
        while missing > 0 {
            for &i in &order {
                if missing == 0 {
                    break;
                }
                if let Some(u) = units.get_mut(i) {
                    *u += 1;
                    missing -= 1;
                }
            }
        }
    } else if missing < 0 {
        order.sort_by(|&a, &b| remainder(a).total_cmp(&remainder(b)).then(a.cmp(&b)));
        while missing < 0 {
            let before = missing;
            for &i in &order {
                if missing == 0 {
                    break;
                }
                if let Some(u) = units.get_mut(i).filter(|u| **u > 0) {
                    *u -= 1;
                    missing += 1;
                }
            }
            if missing == before {
                break;
            }
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_exactly_and_stays_within_one_unit() {
        for rank in [
            vec![1.0 / 3.0; 3],
            vec![0.1, 0.2, 0.7],
            vec![1e-15, 1.0 - 1e-15],
            // Not normalised, and a float sum slightly above 1 after scaling.
            vec![0.333_333_333_333_4, 0.333_333_333_333_4, 0.333_333_333_333_4],
            vec![2.0, 6.0],
        ] {
            let units = apportion(&rank);
            assert_eq!(units.iter().sum::<i64>(), UNITS, "{rank:?}");
            let total: f64 = rank.iter().sum();
            for (u, r) in units.iter().zip(&rank) {
                let exact = r / total * UNITS as f64;
                assert!((*u as f64 - exact).abs() <= 1.0 + exact * 1e-15, "{rank:?}");
            }
        }
        assert_eq!(apportion(&[2.0, 6.0]), vec![250_000_000_000, 750_000_000_000]);
        assert!(apportion(&[]).is_empty());
    }
}
