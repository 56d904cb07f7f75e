//! Influence ranking: weighted PageRank over the customer's influence relations.
//!
//! The formula is documented on [`StakeholderGraph::influence_ranking`]; the iteration is
//! [`crate::pagerank`]'s, shared with the analyst API's `pagerank`. Not a graph library:
//! this module only maps people to node indices and back.

use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::pagerank::{PageRankError, PageRankOptions, pagerank};

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

fn out_of_range(path: &str, value: Decimal, range: &'static str) -> StakeholderError {
    StakeholderError::OutOfRange {
        path: path.to_owned(),
        value,
        range,
    }
}

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
    /// The iteration is [`crate::pagerank::pagerank`]'s: `f64`, starting from the
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
            other => other,
        };

        // Dense positions for the customer people still in the graph.
        let mut pos = vec![usize::MAX; self.graph.node_bound()];
        let mut nodes = Vec::new();
        for (n, _, _) in self.their_nodes() {
            if let Some(p) = pos.get_mut(n.index()) {
                *p = nodes.len();
            }
            nodes.push(n);
        }
        let at = |node: petgraph::stable_graph::NodeIndex| {
            pos.get(node.index()).copied().filter(|&p| p != usize::MAX)
        };

        // Links (source, target, weight) from one sequential pass over the edge array.
        let mut links: Vec<(usize, usize, Decimal)> = Vec::with_capacity(self.graph.edge_count());
        for e in self.graph.edge_references() {
            let (Some(a), Some(b)) = (at(e.source()), at(e.target())) else {
                continue;
            };
            match *e.weight() {
                // Rank flows from the influenced (b) to the influencer (a).
                Link::Influences(w) => links.push((b, a, w)),
                Link::ReportsTo => {
                    if let Some(w) = reports_to {
                        links.push((a, b, w));
                    }
                }
                Link::ConflictsWith | Link::Covers(_) => {}
            }
        }
        let generic = PageRankOptions {
            damping: options.damping,
            tolerance: options.tolerance,
            max_iterations: options.max_iterations,
        };
        // The options were checked above and influence weights when the graph was built,
        // so what remains is a weight the iteration cannot use.
        let rank = pagerank(nodes.len(), &links, &generic).map_err(|e| match e {
            PageRankError::Weight { weight, .. } => out_of_range("relations.weight", weight, "(0, 1]"),
            _ => out_of_range("options.damping", options.damping, "[0, 1)"),
        })?;

        // Same scale everywhere, so ordering by score is ordering by units.
        let mut order: Vec<(Decimal, &str)> = nodes
            .iter()
            .zip(rank.scores)
            .map(|(&node, s)| (s, self.id(node)))
            .collect();
        order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let scores = order
            .into_iter()
            .map(|(score, id)| InfluenceScore {
                person: id.to_owned(),
                score,
            })
            .collect();
        Ok(InfluenceRanking {
            scores,
            iterations: rank.iterations,
            converged: rank.converged,
        })
    }
}
