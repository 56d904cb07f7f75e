//! Weighted PageRank over a directed graph given as index edges — the one implementation
//! behind the stakeholders' influence ranking and the analyst API's `pagerank`.
//!
//! Nodes are `0..n`; an edge is `(from, to, weight)` with a weight > 0. With damping `d`
//! and `W(u)` the sum of `u`'s out-edge weights:
//!
//! ```text
//! PR(v) = (1 − d)/N  +  d · Σ_{u → v} PR(u) · w(u, v) / W(u)  +  d · Σ_{u dangling} PR(u)/N
//! ```
//!
//! - A node with no out-edge (*dangling*) spreads its score uniformly over all N nodes.
//! - Parallel edges are kept: their weights add (networkx's convention for a
//!   `MultiDiGraph`), so `[(a, b, 1), (a, b, 2)]` is `[(a, b, 3)]`.
//! - Self-loops are kept, as in standard PageRank: `u → u` returns part of `u`'s score to
//!   itself and counts in `W(u)`.
//!
//! The power iteration runs in `f64` from the uniform vector until the L1 change between
//! two iterations is below the tolerance (or the iteration bound is reached); the scores
//! are then normalised and converted to `Decimal`s with 12 decimal places by the
//! largest-remainder method, so they sum to **exactly 1** and each is within 10⁻¹² of
//! the iteration's value. Since the iteration contracts by `d` in L1, a change below
//! `t` means the result is within `t·d/(1 − d)` of the true ranking
//! ([`PageRankOptions::to_accuracy`] picks the tolerance for a wanted accuracy).
//!
//! It is **not** a graph library: no node names (callers map ids to indices), no
//! personalisation vector, and no I/O.
//!
//! ```
//! use kam_core::pagerank::{pagerank, PageRankOptions};
//! use rust_decimal::Decimal;
//!
//! // 0 and 1 point at each other; 2 points at 0.
//! let edges = [(0, 1, Decimal::ONE), (1, 0, Decimal::ONE), (2, 0, Decimal::ONE)];
//! let r = pagerank(3, &edges, &PageRankOptions::default())?;
//! assert!(r.converged);
//! assert_eq!(r.scores.iter().sum::<Decimal>(), Decimal::ONE);
//! assert!(r.scores[0] > r.scores[1] && r.scores[1] > r.scores[2]);
//! # Ok::<(), kam_core::pagerank::PageRankError>(())
//! ```

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// Parameters of [`pagerank`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRankOptions {
    /// Damping factor `d` in [0, 1); 0.85 by default.
    pub damping: Decimal,
    /// Stop when the L1 change between iterations is below this (> 0); 1e-10 by default.
    pub tolerance: Decimal,
    /// Upper bound on iterations (≥ 1); 200 by default.
    pub max_iterations: u32,
}

impl Default for PageRankOptions {
    fn default() -> Self {
        PageRankOptions {
            damping: Decimal::new(85, 2),
            tolerance: Decimal::new(1, 10),
            max_iterations: 200,
        }
    }
}

impl PageRankOptions {
    /// Options whose result is within `accuracy` (L1, > 0) of the true ranking: the
    /// tolerance on the change is `accuracy · (1 − d)/d` (any change will do when
    /// `d = 0`, where one iteration gives the exact uniform vector). f64 rounding (about
    /// 1e-16 per score) is not counted.
    ///
    /// # Errors
    /// Damping outside [0, 1), an accuracy ≤ 0, or a tolerance below `Decimal`'s 28
    /// places.
    pub fn to_accuracy(
        damping: Decimal,
        accuracy: Decimal,
        max_iterations: u32,
    ) -> Result<Self, PageRankError> {
        check_damping(damping)?;
        if accuracy <= Decimal::ZERO {
            return Err(PageRankError::Tolerance { value: accuracy });
        }
        let tolerance = if damping.is_zero() {
            accuracy
        } else {
            accuracy
                .checked_mul(Decimal::ONE - damping)
                .and_then(|x| x.checked_div(damping))
                .filter(|t| *t > Decimal::ZERO)
                .ok_or(PageRankError::Tolerance { value: accuracy })?
        };
        Ok(PageRankOptions {
            damping,
            tolerance,
            max_iterations,
        })
    }
}

/// The result of [`pagerank`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRank {
    /// The score of node `i` at index `i` (12 decimal places); they sum to exactly 1
    /// (empty for no nodes).
    pub scores: Vec<Decimal>,
    /// Iterations run.
    pub iterations: u32,
    /// Whether the tolerance was reached within the iteration bound.
    pub converged: bool,
}

/// Why [`pagerank`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageRankError {
    /// Damping outside [0, 1).
    #[error("damping {value} is outside [0, 1)")]
    Damping {
        /// The value given.
        value: Decimal,
    },
    /// A tolerance (or accuracy) that is not positive.
    #[error("tolerance {value} must be positive")]
    Tolerance {
        /// The value given.
        value: Decimal,
    },
    /// Zero iterations allowed.
    #[error("max_iterations must be at least 1")]
    MaxIterations,
    /// An edge weight that is not positive (or too large for the iteration).
    #[error("edge {edge}: weight {weight} must be positive")]
    Weight {
        /// Index of the edge.
        edge: usize,
        /// The weight.
        weight: Decimal,
    },
    /// An edge naming a node outside `0..n`.
    #[error("edge {edge}: node {node} is not below the node count {nodes}")]
    Node {
        /// Index of the edge.
        edge: usize,
        /// The node index.
        node: usize,
        /// The node count.
        nodes: usize,
    },
}

fn check_damping(d: Decimal) -> Result<(), PageRankError> {
    if d < Decimal::ZERO || d >= Decimal::ONE {
        return Err(PageRankError::Damping { value: d });
    }
    Ok(())
}

const SCALE: u32 = 12;
const UNITS: i64 = 1_000_000_000_000;

/// Weighted PageRank of the `nodes` nodes `0..nodes` over `edges` `(from, to, weight)`;
/// the formula and conventions are in the [module docs](self).
///
/// # Errors
/// Damping outside [0, 1), a tolerance ≤ 0, zero iterations, a weight ≤ 0 (or beyond
/// `f64`), an edge naming a node ≥ `nodes`.
pub fn pagerank(
    nodes: usize,
    edges: &[(usize, usize, Decimal)],
    options: &PageRankOptions,
) -> Result<PageRank, PageRankError> {
    check_damping(options.damping)?;
    if options.tolerance <= Decimal::ZERO {
        return Err(PageRankError::Tolerance {
            value: options.tolerance,
        });
    }
    if options.max_iterations == 0 {
        return Err(PageRankError::MaxIterations);
    }
    let d = options.damping.to_f64().unwrap_or(0.0);
    let tolerance = options.tolerance.to_f64().unwrap_or(f64::MIN_POSITIVE);
    let n = nodes;
    for (i, &(s, t, w)) in edges.iter().enumerate() {
        for node in [s, t] {
            if node >= n {
                return Err(PageRankError::Node {
                    edge: i,
                    node,
                    nodes: n,
                });
            }
        }
        if w <= Decimal::ZERO {
            return Err(PageRankError::Weight { edge: i, weight: w });
        }
    }
    if n == 0 {
        return Ok(PageRank {
            scores: Vec::new(),
            iterations: 0,
            converged: true,
        });
    }

    // Rows by *target* (pull): each iteration reads the sources' contributions and
    // writes its own entry once, which is kinder to the cache than scattering. A
    // counting sort keeps the edges of a row in input order.
    let mut start = vec![0usize; n + 1];
    let mut total = vec![0.0f64; n];
    let mut weights = Vec::with_capacity(edges.len());
    for (i, &(s, t, w)) in edges.iter().enumerate() {
        let wf = w
            .to_f64()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or(PageRankError::Weight { edge: i, weight: w })?;
        weights.push(wf);
        if let Some(x) = start.get_mut(t + 1) {
            *x += 1;
        }
        if let Some(x) = total.get_mut(s) {
            *x += wf;
        }
    }
    if total.iter().any(|t| !t.is_finite()) {
        // Only reachable with weights near f64::MAX; name the first edge of such a node.
        let edge = edges
            .iter()
            .position(|&(s, _, _)| total.get(s).is_some_and(|t| !t.is_finite()))
            .unwrap_or(0);
        let weight = edges.get(edge).map(|e| e.2).unwrap_or_default();
        return Err(PageRankError::Weight { edge, weight });
    }
    for i in 0..n {
        let prev = start.get(i).copied().unwrap_or(0);
        if let Some(x) = start.get_mut(i + 1) {
            *x += prev;
        }
    }
    let mut fill = start.clone();
    let mut sources = vec![0u32; edges.len()];
    let mut share = vec![0.0f64; edges.len()];
    for (&(s, t, _), w) in edges.iter().zip(&weights) {
        let Some(slot) = fill.get_mut(t) else {
            continue;
        };
        if let (Some(x), Some(y)) = (sources.get_mut(*slot), share.get_mut(*slot)) {
            *x = s as u32;
            *y = w / total.get(s).copied().unwrap_or(1.0);
        }
        *slot += 1;
    }
    drop(fill);
    drop(weights);
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
    let scores = apportion(&rank)
        .into_iter()
        .map(|u| Decimal::new(u, SCALE))
        .collect();
    Ok(PageRank {
        scores,
        iterations,
        converged,
    })
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
    use rust_decimal_macros::dec;

    fn one(s: usize, t: usize) -> (usize, usize, Decimal) {
        (s, t, Decimal::ONE)
    }

    fn close(got: &[Decimal], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            let g = g.to_f64().unwrap();
            assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
        }
    }

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

    /// Source: networkx, `networkx/algorithms/link_analysis/tests/test_pagerank.py`,
    /// `TestPageRank.setup_class` (the graph of Langville & Meyer, "A survey of eigenvector
    /// methods of web information retrieval"): alpha 0.9, node 2 dangling; expected
    /// scores for nodes 1..6 as published there (8 places).
    #[test]
    fn networkx_test_graph() {
        let edges: Vec<_> = [
            (1, 2),
            (1, 3),
            (3, 1),
            (3, 2),
            (3, 5),
            (4, 5),
            (4, 6),
            (5, 4),
            (5, 6),
            (6, 4),
        ]
        .iter()
        .map(|&(s, t)| one(s - 1, t - 1))
        .collect();
        let options = PageRankOptions::to_accuracy(dec!(0.9), dec!(1e-10), 10_000).unwrap();
        let r = pagerank(6, &edges, &options).unwrap();
        assert!(r.converged);
        close(
            &r.scores,
            &[
                0.03721197, 0.05395735, 0.04150565, 0.37508082, 0.20599833, 0.28624589,
            ],
            1e-6,
        );
        assert_eq!(r.scores.iter().sum::<Decimal>(), Decimal::ONE);
    }

    #[test]
    fn hand_checked_small_graphs() {
        // Two nodes pointing at each other: symmetric, ½ each, for any damping.
        let r = pagerank(2, &[one(0, 1), one(1, 0)], &PageRankOptions::default()).unwrap();
        assert_eq!(r.scores, vec![dec!(0.5), dec!(0.5)]);
        // 0 → 1, 1 dangling, d = 0.5, N = 2: PR0 = 0.25 + 0.25·PR1 and PR0 + PR1 = 1,
        // so PR0 = 0.4, PR1 = 0.6 (check: PR1 = 0.25 + 0.5·0.4 + 0.25·0.6 = 0.6).
        let o = PageRankOptions::to_accuracy(dec!(0.5), dec!(1e-12), 1000).unwrap();
        let r = pagerank(2, &[one(0, 1)], &o).unwrap();
        assert_eq!(r.scores, vec![dec!(0.4), dec!(0.6)]);
        // Damping 0: uniform whatever the edges.
        let o = PageRankOptions::to_accuracy(Decimal::ZERO, dec!(1e-10), 10).unwrap();
        let r = pagerank(4, &[one(0, 1), one(2, 1)], &o).unwrap();
        assert_eq!(r.scores, vec![dec!(0.25); 4]);
        // A lone self-loop keeps all of its own score: with d = 0.5 and nodes {0, 1},
        // 0 → 0, 1 dangling: PR0 = 0.25 + 0.5·PR0 + 0.25·PR1, PR1 = 0.25 + 0.25·PR1
        // → PR1 = 1/3, PR0 = 2/3.
        let o = PageRankOptions::to_accuracy(dec!(0.5), dec!(1e-12), 1000).unwrap();
        let r = pagerank(2, &[one(0, 0)], &o).unwrap();
        assert_eq!(r.scores, vec![dec!(0.666666666667), dec!(0.333333333333)]);
    }

    #[test]
    fn parallel_edges_add_their_weights() {
        let o = PageRankOptions::to_accuracy(dec!(0.85), dec!(1e-12), 1000).unwrap();
        let split = pagerank(
            3,
            &[(0, 1, dec!(1)), (0, 1, dec!(2)), (0, 2, dec!(1)), one(1, 0)],
            &o,
        )
        .unwrap();
        let merged = pagerank(3, &[(0, 1, dec!(3)), (0, 2, dec!(1)), one(1, 0)], &o).unwrap();
        close(
            &split.scores,
            &merged
                .scores
                .iter()
                .map(|d| d.to_f64().unwrap())
                .collect::<Vec<_>>(),
            1e-11,
        );
        // Source: networkx 3.6 `pagerank` on a MultiDiGraph (parallel weights add,
        // self-loops kept), alpha 0.85, edges a→b 1, a→b 2, a→c 1, b→c 0.5, c→a 1,
        // c→c 2, d→a 1: a 0.226412409278, b 0.181837910915, c 0.554249679806, d 0.0375.
        let edges = [
            (0, 1, dec!(1)),
            (0, 1, dec!(2)),
            (0, 2, dec!(1)),
            (1, 2, dec!(0.5)),
            (2, 0, dec!(1)),
            (2, 2, dec!(2)),
            (3, 0, dec!(1)),
        ];
        let r = pagerank(4, &edges, &o).unwrap();
        close(
            &r.scores,
            &[0.226412409278, 0.181837910915, 0.554249679806, 0.0375],
            1e-9,
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let o = PageRankOptions::default();
        assert_eq!(
            pagerank(2, &[(0, 1, Decimal::ZERO)], &o),
            Err(PageRankError::Weight {
                edge: 0,
                weight: Decimal::ZERO
            })
        );
        assert!(matches!(
            pagerank(2, &[one(0, 2)], &o),
            Err(PageRankError::Node { node: 2, .. })
        ));
        for d in [dec!(1), dec!(-0.1)] {
            let o = PageRankOptions {
                damping: d,
                ..PageRankOptions::default()
            };
            assert_eq!(pagerank(1, &[], &o), Err(PageRankError::Damping { value: d }));
            assert!(PageRankOptions::to_accuracy(d, dec!(1e-10), 10).is_err());
        }
        assert!(PageRankOptions::to_accuracy(dec!(0.5), Decimal::ZERO, 10).is_err());
        assert_eq!(pagerank(0, &[], &o).map(|r| r.scores.len()), Ok(0));
    }
}
