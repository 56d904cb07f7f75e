//! Analytics on a [`StakeholderGraph`]: coverage, key players, threads, paths, departure
//! what-if, map status and contact freshness.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::NaiveDate;
use petgraph::Direction::{Incoming, Outgoing};
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::graph::{Link, Node};
use super::pagerank::{InfluenceOptions, InfluenceRanking};
use super::{
    BuyingRole, Person, PoliticalPower, RelationshipLevel, StakeholderError, StakeholderGraph, Support,
};
use crate::fxhash::{FxMap, FxSet};
use crate::num;

/// One cell of the coverage matrix: the customer people of one region, function and
/// buying role, and how our people cover them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageCell {
    /// Region (the person's `region`, rolled up to the account region when the graph
    /// was built for an account).
    pub region: String,
    /// Function.
    pub function: String,
    /// Buying role.
    pub buying_role: BuyingRole,
    /// People in the cell.
    pub people: u32,
    /// Key players in the cell.
    pub key_players: u32,
    /// People covered by at least one of our people.
    pub covered_people: u32,
    /// Key players covered by at least one of our people.
    pub covered_key_players: u32,
    /// Coverage relationships into the cell.
    pub relationships: u32,
    /// The best relationship level in the cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_level: Option<RelationshipLevel>,
    /// A gap: the cell holds key players and none of our people covers anyone in it.
    pub gap: bool,
}

/// Coverage by region × function × buying role; only cells with people appear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageMatrix {
    /// Cells ordered by region, function, buying role.
    pub cells: Vec<CoverageCell>,
}

impl CoverageMatrix {
    /// The gap cells.
    pub fn gaps(&self) -> impl Iterator<Item = &CoverageCell> + '_ {
        self.cells.iter().filter(|c| c.gap)
    }

    /// One cell, if it has people.
    pub fn cell(&self, region: &str, function: &str, role: BuyingRole) -> Option<&CoverageCell> {
        self.cells
            .iter()
            .find(|c| c.region == region && c.function == function && c.buying_role == role)
    }

    /// Covered people over all cells.
    pub fn covered_people(&self) -> u64 {
        self.cells.iter().map(|c| u64::from(c.covered_people)).sum()
    }

    /// Coverage relationships over all cells.
    pub fn relationships(&self) -> u64 {
        self.cells.iter().map(|c| u64::from(c.relationships)).sum()
    }
}

/// A key player (decision maker, approver or high power) and who backs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPlayer {
    /// Customer person id.
    pub person: String,
    /// Buying role.
    pub buying_role: BuyingRole,
    /// Power.
    pub power: PoliticalPower,
    /// Their own stance.
    pub support: Support,
    /// Supportive people who influence them or to whom they report, by id.
    pub supported_by: Vec<String>,
    /// Whether any of our people covers them.
    pub covered: bool,
}

impl KeyPlayer {
    /// Supportive themself or backed by a supportive influencer or manager.
    pub fn has_supporter(&self) -> bool {
        self.support.is_supportive() || !self.supported_by.is_empty()
    }
}

/// What a thread count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadScope {
    /// A region.
    Region,
    /// A buying centre.
    BuyingCentre,
}

/// How many of our relationships reach a region or buying centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadCount {
    /// Region or buying centre.
    pub scope: ThreadScope,
    /// Its id.
    pub id: String,
    /// Customer people in it.
    pub people: u32,
    /// Coverage relationships into it.
    pub relationships: u32,
    /// Distinct people of ours holding those relationships.
    pub our_people: u32,
}

impl ThreadCount {
    /// Exactly one relationship: the scope hangs on one thread.
    pub fn is_single_threaded(&self) -> bool {
        self.relationships == 1
    }
}

/// One step of a relationship path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathLink {
    /// Our person's coverage of theirs.
    Coverage {
        /// Relationship level.
        level: RelationshipLevel,
    },
    /// `from` influences `to`.
    Influences {
        /// Influence weight.
        weight: Decimal,
    },
    /// `from` reports to `to` (walking up the line).
    ReportsTo,
    /// `to` reports to `from` (walking down the line).
    ManagerOf,
}

/// One step of a relationship path, with its strength.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    /// Where the step starts.
    pub from: String,
    /// Where it ends.
    pub to: String,
    /// The relation walked.
    pub link: PathLink,
    /// Its strength in (0, 1].
    pub strength: Decimal,
}

/// The strongest path from one of our people to a customer person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipPath {
    /// Product of the steps' strengths.
    pub strength: Decimal,
    /// Steps, from our person to the target.
    pub steps: Vec<PathStep>,
}

/// A decision maker or approver and the strongest way to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    /// Customer person id.
    pub person: String,
    /// Decision maker or approver.
    pub buying_role: BuyingRole,
    /// The strongest path, if any path exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<RelationshipPath>,
}

/// Strengths used by [`StakeholderGraph::strongest_paths_with`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathOptions {
    /// Strength of a reports-to step, either direction, in (0, 1]; 0.5 by default.
    pub reports_to_strength: Decimal,
}

impl Default for PathOptions {
    fn default() -> Self {
        PathOptions {
            reports_to_strength: Decimal::new(5, 1),
        }
    }
}

/// The map's colour: red when no key player is supportive, amber when some are but not
/// every decision maker and approver, green when every decision maker and approver (at
/// least one) is supportive.
pub use crate::rag::Rag;

/// The map's overall status and the counts behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapStatus {
    /// Red / amber / green.
    pub status: Rag,
    /// Key players on the map.
    pub key_players: u32,
    /// Of which supportive (supporter or mentor).
    pub supportive_key_players: u32,
    /// Decision makers and approvers on the map.
    pub deciders: u32,
    /// Of which supportive.
    pub supportive_deciders: u32,
}

/// The longest a contact may be ago, in days, by buying role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPolicy {
    /// Users.
    pub user: u32,
    /// Evaluators.
    pub evaluator: u32,
    /// Decision makers.
    pub decision_maker: u32,
    /// Approvers.
    pub approver: u32,
    /// If set, a tighter limit for every key player (the smaller limit applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_player: Option<u32>,
}

impl Default for ContactPolicy {
    /// Users 180 days, evaluators 90, decision makers 60, approvers 90, key players 60.
    fn default() -> Self {
        ContactPolicy {
            user: 180,
            evaluator: 90,
            decision_maker: 60,
            approver: 90,
            key_player: Some(60),
        }
    }
}

impl ContactPolicy {
    /// The limit in days for a person.
    pub fn limit_for(&self, person: &Person) -> u32 {
        let role = match person.buying_role {
            BuyingRole::User => self.user,
            BuyingRole::Evaluator => self.evaluator,
            BuyingRole::DecisionMaker => self.decision_maker,
            BuyingRole::Approver => self.approver,
        };
        match self.key_player {
            Some(k) if person.is_key_player() => role.min(k),
            _ => role,
        }
    }
}

/// How recent a contact is against the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Within the limit.
    Fresh,
    /// Older than the limit.
    Stale,
    /// No contact recorded.
    NeverContacted,
    /// The last contact is after `as_of` — a data error worth fixing.
    InFuture,
}

/// One person's contact freshness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCheck {
    /// Customer person id.
    pub person: String,
    /// The limit that applies, in days.
    pub limit_days: u32,
    /// Days from the last contact to `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_since: Option<i64>,
    /// The verdict.
    pub freshness: Freshness,
}

/// Which side of the map a person is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The customer's organisation.
    Customer,
    /// Our account team.
    Ours,
}

/// A coverage cell's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellKey {
    /// Region.
    pub region: String,
    /// Function.
    pub function: String,
    /// Buying role.
    pub buying_role: BuyingRole,
}

/// A path that got weaker (but still exists) after a departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathChange {
    /// The decision maker or approver.
    pub person: String,
    /// Strength before.
    pub before: Decimal,
    /// Strength after.
    pub after: Decimal,
}

/// What changes when one person leaves the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departure {
    /// Who leaves.
    pub person: String,
    /// Their side.
    pub side: Side,
    /// Coverage relationships that go with them, as `(ours, theirs)`.
    pub relationships_lost: Vec<(String, String)>,
    /// Customer people who had coverage and now have none.
    pub newly_uncovered: Vec<String>,
    /// Coverage cells that become gaps.
    pub gaps_opened: Vec<CellKey>,
    /// Regions and buying centres that now hang on exactly one relationship.
    pub newly_single_threaded: Vec<(ThreadScope, String)>,
    /// Regions and buying centres that lose their last relationship.
    pub newly_uncovered_scopes: Vec<(ThreadScope, String)>,
    /// Decision makers and approvers we could reach before and cannot after (not
    /// counting the departing person).
    pub paths_broken: Vec<String>,
    /// Decision makers and approvers whose strongest path got weaker.
    pub paths_weakened: Vec<PathChange>,
    /// Map status before.
    pub status_before: Rag,
    /// Map status after.
    pub status_after: Rag,
}

/// The standard analysis bundle: see [`StakeholderGraph::analyse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// Coverage matrix with gaps.
    pub coverage: CoverageMatrix,
    /// Key players with no supporter, by id.
    pub unsupported_key_players: Vec<String>,
    /// Regions and buying centres with exactly one relationship.
    pub single_threaded: Vec<ThreadCount>,
    /// Influence ranking.
    pub influence: InfluenceRanking,
    /// Map status.
    pub status: MapStatus,
}

#[derive(Default, Clone, Copy)]
struct CellAcc {
    people: u32,
    key_players: u32,
    covered_people: u32,
    covered_key_players: u32,
    relationships: u32,
    best_level: Option<RelationshipLevel>,
}

/// A path strength: the exact product of its steps' strengths (what is reported and
/// what decides every comparison) and an `f64` shadow of it that settles comparisons
/// cheaply when the two strengths are clearly apart.
///
/// Why the shadow is safe: strengths are in [0, 1]. The exact product is rounded to
/// 28 decimal places per step (absolute error ≤ ½·10⁻²⁸ a step, never amplified by
/// factors ≤ 1); the shadow multiplies the steps' `f64` values (relative error ≤ 4ε a
/// step: the mantissa's rounding, the power of ten's, the division's, the product's). Over fewer than 2³² steps the two differ by less than [`SHADOW_REL`] × value +
/// [`SHADOW_ABS`], so when the shadows differ by more than that, they order the exact
/// values the same way; otherwise the exact values are compared. Every comparison thus
/// has the exact answer, and the search visits, relaxes and ties exactly as with
/// decimals alone — a test holds the two equal on graphs built to tie.
#[derive(Clone, Copy, Debug)]
struct Strength {
    shadow: f64,
    exact: Decimal,
}

/// Relative bound on |shadow − exact|, see [`Strength`]: under 2³² steps × 4ε (a
/// step's value read as mantissa ÷ 10^scale, then multiplied), with a factor 8 of room.
const SHADOW_REL: f64 = 1.0 / (1u64 << 16) as f64;
/// Absolute bound on |shadow − exact| (2³² steps × ½·10⁻²⁸, with room), see [`Strength`].
const SHADOW_ABS: f64 = 1e-18;

/// The `f64` shadow of a step's strength: mantissa ÷ 10^scale, within 3ε (a tenth of
/// the cost of `Decimal`'s own conversion, for a million steps). A scale beyond the
/// table gives NaN, which never settles a comparison: the exact values decide.
fn shadow_of(w: Decimal) -> f64 {
    const POW10: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    POW10
        .get(w.scale() as usize)
        .map_or(f64::NAN, |p| w.mantissa() as f64 / p)
}

/// How two shadows compare when they settle it, `None` when the exact values must.
fn shadow_order(a: f64, b: f64, exact_only: bool) -> Option<Ordering> {
    if exact_only {
        return None;
    }
    let tol = SHADOW_REL * a.max(b) + SHADOW_ABS;
    if a > b + tol {
        Some(Ordering::Greater)
    } else if b > a + tol {
        Some(Ordering::Less)
    } else {
        None
    }
}

/// A max-heap entry for the max-product Dijkstra: strongest first, then lowest index.
struct Candidate {
    strength: Strength,
    node: NodeIndex,
    /// Compare the exact values only (the reference the shadowed search is tested
    /// against).
    exact_only: bool,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        shadow_order(self.strength.shadow, other.strength.shadow, self.exact_only)
            .unwrap_or_else(|| self.strength.exact.cmp(&other.strength.exact))
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

fn is_decider(p: &Person) -> bool {
    matches!(p.buying_role, BuyingRole::DecisionMaker | BuyingRole::Approver)
}

/// Per-node coverage facts from one sequential pass over the edge array (walking each
/// node's incoming list instead would chase pointers all over memory).
struct Census {
    /// By node index: coverage relationships into the node.
    cover_count: Vec<u32>,
    /// By node index: the best relationship level into the node.
    best_level: Vec<Option<RelationshipLevel>>,
    /// Every coverage edge as (our node, their node), in edge order.
    covers: Vec<(NodeIndex, NodeIndex)>,
}

impl StakeholderGraph {
    fn census(&self) -> Census {
        let bound = self.graph.node_bound();
        let mut c = Census {
            cover_count: vec![0; bound],
            best_level: vec![None; bound],
            covers: Vec::new(),
        };
        for e in self.graph.edge_references() {
            if let Link::Covers(level) = *e.weight() {
                let t = e.target().index();
                if let Some(x) = c.cover_count.get_mut(t) {
                    *x = x.saturating_add(1);
                }
                if let Some(b) = c.best_level.get_mut(t) {
                    *b = (*b).max(Some(level));
                }
                c.covers.push((e.source(), e.target()));
            }
        }
        c
    }

    /// Coverage relationships into a customer person.
    fn cover_count(&self, census: &Census, n: NodeIndex) -> u32 {
        census.cover_count.get(n.index()).copied().unwrap_or(0)
    }

    /// The coverage matrix: region × function × buying role, with gaps.
    pub fn coverage_matrix(&self) -> CoverageMatrix {
        self.coverage_matrix_from(&self.census())
    }

    fn coverage_matrix_from(&self, census: &Census) -> CoverageMatrix {
        let s = &self.shared;
        let mut acc: FxMap<(u32, u32, BuyingRole), CellAcc> = FxMap::default();
        for (n, i, p) in self.their_nodes() {
            let (Some(&r), Some(&f)) = (s.region.get(i), s.function.get(i)) else {
                continue;
            };
            let count = self.cover_count(census, n);
            let best = census.best_level.get(n.index()).copied().flatten();
            let key = p.is_key_player();
            let c = acc.entry((r, f, p.buying_role)).or_default();
            c.people += 1;
            c.key_players += u32::from(key);
            c.covered_people += u32::from(count > 0);
            c.covered_key_players += u32::from(key && count > 0);
            c.relationships = c.relationships.saturating_add(count);
            c.best_level = c.best_level.max(best);
        }
        let name = |list: &[String], i: u32| list.get(i as usize).cloned().unwrap_or_default();
        let mut cells: Vec<CoverageCell> = acc
            .into_iter()
            .map(|((r, f, role), c)| CoverageCell {
                region: name(&s.regions, r),
                function: name(&s.functions, f),
                buying_role: role,
                people: c.people,
                key_players: c.key_players,
                covered_people: c.covered_people,
                covered_key_players: c.covered_key_players,
                relationships: c.relationships,
                best_level: c.best_level,
                gap: c.key_players > 0 && c.relationships == 0,
            })
            .collect();
        cells.sort_by(|a, b| {
            (&a.region, &a.function, a.buying_role).cmp(&(&b.region, &b.function, b.buying_role))
        });
        CoverageMatrix { cells }
    }

    /// Every key player (decision maker, approver or high power), in record order, with
    /// the supportive people who influence them or to whom they report.
    pub fn key_players(&self) -> Vec<KeyPlayer> {
        self.key_players_from(&self.census())
    }

    /// By node index: the supportive influencers and managers of each key player.
    fn backers(&self) -> Vec<Vec<NodeIndex>> {
        let bound = self.graph.node_bound();
        // Node flags first (sequential), then one pass over the edge array.
        let mut key = vec![false; bound];
        let mut supportive = vec![false; bound];
        for (n, _, p) in self.their_nodes() {
            if let Some(k) = key.get_mut(n.index()) {
                *k = p.is_key_player();
            }
            if let Some(s) = supportive.get_mut(n.index()) {
                *s = p.support.is_supportive();
            }
        }
        let flag = |v: &[bool], n: NodeIndex| v.get(n.index()).copied().unwrap_or(false);
        let mut backers: Vec<Vec<NodeIndex>> = vec![Vec::new(); bound];
        for e in self.graph.edge_references() {
            // An influencer backs whom they influence; a manager backs their report.
            let (player, backer) = match e.weight() {
                Link::Influences(_) => (e.target(), e.source()),
                Link::ReportsTo => (e.source(), e.target()),
                Link::ConflictsWith | Link::Covers(_) => continue,
            };
            if flag(&key, player)
                && flag(&supportive, backer)
                && let Some(b) = backers.get_mut(player.index())
            {
                b.push(backer);
            }
        }
        backers
    }

    fn key_players_from(&self, census: &Census) -> Vec<KeyPlayer> {
        let backers = self.backers();
        let mut out = Vec::new();
        for (n, _, p) in self.their_nodes() {
            if !p.is_key_player() {
                continue;
            }
            let mut supported_by: Vec<String> = backers
                .get(n.index())
                .map(|b| b.iter().map(|&m| self.id(m).to_owned()).collect())
                .unwrap_or_default();
            supported_by.sort();
            supported_by.dedup();
            out.push(KeyPlayer {
                person: p.id.clone(),
                buying_role: p.buying_role,
                power: p.power,
                support: p.support,
                supported_by,
                covered: self.cover_count(census, n) > 0,
            });
        }
        out
    }

    /// Key players who are not supportive themselves and have no supportive influencer
    /// or manager, by id in record order.
    pub fn unsupported_key_players(&self) -> Vec<String> {
        self.unsupported_from()
    }

    fn unsupported_from(&self) -> Vec<String> {
        let backers = self.backers();
        self.their_nodes()
            .filter(|(n, _, p)| {
                p.is_key_player()
                    && !p.support.is_supportive()
                    && backers.get(n.index()).is_none_or(Vec::is_empty)
            })
            .map(|(_, _, p)| p.id.clone())
            .collect()
    }

    /// Coverage relationships per region and per buying centre (regions first, each
    /// ordered by id; only scopes with people in the graph).
    pub fn thread_counts(&self) -> Vec<ThreadCount> {
        self.thread_counts_from(&self.census())
    }

    fn thread_counts_from(&self, census: &Census) -> Vec<ThreadCount> {
        let s = &self.shared;
        #[derive(Default, Clone)]
        struct Acc {
            people: u32,
            relationships: u32,
            ours: FxSet<NodeIndex>,
        }
        let mut regions = vec![Acc::default(); s.regions.len()];
        let mut centres = vec![Acc::default(); s.centres.len()];
        let scopes_of = |i: usize| {
            let region = s.region.get(i).copied();
            let centres = s.centres_of.get(i).map(Vec::as_slice).unwrap_or(&[]);
            (region, centres)
        };
        for (_, i, _) in self.their_nodes() {
            let (region, cs) = scopes_of(i);
            if let Some(a) = region.and_then(|r| regions.get_mut(r as usize)) {
                a.people += 1;
            }
            for &c in cs {
                if let Some(a) = centres.get_mut(c as usize) {
                    a.people += 1;
                }
            }
        }
        for &(ours, theirs) in &census.covers {
            let Some((i, _)) = self.their(theirs) else {
                continue;
            };
            let (region, cs) = scopes_of(i);
            if let Some(a) = region.and_then(|r| regions.get_mut(r as usize)) {
                a.relationships = a.relationships.saturating_add(1);
                a.ours.insert(ours);
            }
            for &c in cs {
                if let Some(a) = centres.get_mut(c as usize) {
                    a.relationships = a.relationships.saturating_add(1);
                    a.ours.insert(ours);
                }
            }
        }
        let collect = |scope: ThreadScope, names: &[String], accs: Vec<Acc>| {
            let mut v: Vec<ThreadCount> = names
                .iter()
                .zip(accs)
                .filter(|(_, a)| a.people > 0)
                .map(|(id, a)| ThreadCount {
                    scope,
                    id: id.clone(),
                    people: a.people,
                    relationships: a.relationships,
                    our_people: a.ours.len() as u32,
                })
                .collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            v
        };
        let mut out = collect(ThreadScope::Region, &s.regions, regions);
        out.extend(collect(ThreadScope::BuyingCentre, &s.centres, centres));
        out
    }

    /// Regions and buying centres reached by exactly one coverage relationship.
    pub fn single_threaded(&self) -> Vec<ThreadCount> {
        self.thread_counts()
            .into_iter()
            .filter(ThreadCount::is_single_threaded)
            .collect()
    }

    /// Red / amber / green: red when no key player is supportive, green when every
    /// decision maker and approver (and there is at least one) is supportive, amber
    /// otherwise.
    pub fn map_status(&self) -> MapStatus {
        let mut st = MapStatus {
            status: Rag::Red,
            key_players: 0,
            supportive_key_players: 0,
            deciders: 0,
            supportive_deciders: 0,
        };
        for (_, _, p) in self.their_nodes() {
            let supportive = p.support.is_supportive();
            if p.is_key_player() {
                st.key_players += 1;
                st.supportive_key_players += u32::from(supportive);
            }
            if is_decider(p) {
                st.deciders += 1;
                st.supportive_deciders += u32::from(supportive);
            }
        }
        st.status = if st.deciders > 0 && st.supportive_deciders == st.deciders {
            Rag::Green
        } else if st.supportive_key_players > 0 {
            Rag::Amber
        } else {
            Rag::Red
        };
        st
    }

    /// Each customer person's last contact against `policy` as of `as_of`, in record
    /// order.
    pub fn contact_freshness(&self, policy: &ContactPolicy, as_of: NaiveDate) -> Vec<ContactCheck> {
        self.their_nodes()
            .map(|(_, _, p)| {
                let limit_days = policy.limit_for(p);
                let days_since = p.last_contact.map(|d| (as_of - d).num_days());
                let freshness = match days_since {
                    None => Freshness::NeverContacted,
                    Some(d) if d < 0 => Freshness::InFuture,
                    Some(d) if d > i64::from(limit_days) => Freshness::Stale,
                    Some(_) => Freshness::Fresh,
                };
                ContactCheck {
                    person: p.id.clone(),
                    limit_days,
                    days_since,
                    freshness,
                }
            })
            .collect()
    }

    /// [`StakeholderGraph::strongest_paths_with`] with the default [`PathOptions`].
    ///
    /// # Errors
    /// See [`StakeholderGraph::strongest_paths_with`].
    pub fn strongest_paths(&self) -> Result<Vec<Reach>, StakeholderError> {
        self.strongest_paths_with(&PathOptions::default())
    }

    /// The strongest relationship path from any of our people to each decision maker
    /// and approver (record order).
    ///
    /// A path starts with one of our people's coverage of a customer person and then
    /// walks the customer's relations: `influences` from influencer to influenced, and
    /// `reports_to` in either direction; conflicts are not walked. Each step has a
    /// strength in (0, 1] — coverage by [`RelationshipLevel::strength`], influence by its
    /// weight, reports-to by [`PathOptions::reports_to_strength`] — and a path's strength
    /// is the product of its steps'. The strongest path maximises that product (a
    /// max-product Dijkstra, exact in `Decimal`; equal strengths resolve to the path
    /// found first in record order).
    ///
    /// # Errors
    /// A reports-to strength outside (0, 1]; arithmetic overflow (not reachable with
    /// strengths in (0, 1]).
    pub fn strongest_paths_with(&self, options: &PathOptions) -> Result<Vec<Reach>, StakeholderError> {
        self.strongest_paths_search(options, false)
    }

    /// [`StakeholderGraph::strongest_paths_with`], comparing strengths through their
    /// shadows ([`Strength`]) unless `exact_only`.
    fn strongest_paths_search(
        &self,
        options: &PathOptions,
        exact_only: bool,
    ) -> Result<Vec<Reach>, StakeholderError> {
        let rs = options.reports_to_strength;
        if rs <= Decimal::ZERO || rs > Decimal::ONE {
            return Err(StakeholderError::OutOfRange {
                path: "options.reports_to_strength".into(),
                value: rs,
                range: "(0, 1]",
            });
        }
        let bound = self.graph.node_bound();
        // Walkable steps in compressed rows by source node, from one sequential pass
        // over the edge array (kind: 0–3 coverage level, 4 influence, 5 up, 6 down).
        // Coverage edges leave our people only, so every path starts with one.
        // A counting sort: count each row, then place the steps in edge order, which
        // keeps record order within a row (so ties resolve the same way every run)
        // without the stable sort's scratch copy of a million steps.
        let each = |f: &mut dyn FnMut(u32, u32, u8, Decimal)| {
            for e in self.graph.edge_references() {
                let (a, b) = (e.source().index() as u32, e.target().index() as u32);
                match *e.weight() {
                    Link::Covers(level) => f(a, b, level as u8, level.strength()),
                    Link::Influences(w) => f(a, b, 4, w),
                    Link::ReportsTo => {
                        f(a, b, 5, rs);
                        f(b, a, 6, rs);
                    }
                    Link::ConflictsWith => {}
                }
            }
        };
        let mut start = vec![0usize; bound + 1];
        each(&mut |a, _, _, _| {
            if let Some(x) = start.get_mut(a as usize + 1) {
                *x += 1;
            }
        });
        for i in 0..bound {
            let prev = start.get(i).copied().unwrap_or(0);
            if let Some(x) = start.get_mut(i + 1) {
                *x += prev;
            }
        }
        // (target, kind, strength, its shadow): the row is the source.
        let mut steps: Vec<(u32, u8, Decimal, f64)> =
            vec![(0, 0, Decimal::ZERO, 0.0); start.get(bound).copied().unwrap_or(0)];
        let mut next = start.clone();
        each(&mut |a, b, kind, w| {
            if let Some(at) = next.get_mut(a as usize)
                && let Some(slot) = steps.get_mut(*at)
            {
                *slot = (b, kind, w, shadow_of(w));
                *at += 1;
            }
        });
        let link_of = |kind: u8, w: Decimal| match kind {
            0 => PathLink::Coverage {
                level: RelationshipLevel::Vendor,
            },
            1 => PathLink::Coverage {
                level: RelationshipLevel::CredibleSource,
            },
            2 => PathLink::Coverage {
                level: RelationshipLevel::ProblemSolver,
            },
            3 => PathLink::Coverage {
                level: RelationshipLevel::TrustedAdvisor,
            },
            4 => PathLink::Influences { weight: w },
            5 => PathLink::ReportsTo,
            _ => PathLink::ManagerOf,
        };

        let one = Strength {
            shadow: 1.0,
            exact: Decimal::ONE,
        };
        let mut best: Vec<Option<Strength>> = vec![None; bound];
        let mut pred: Vec<Option<(NodeIndex, PathLink, Decimal)>> = vec![None; bound];
        let mut done = vec![false; bound];
        let mut heap = BinaryHeap::new();
        for n in self.graph.node_indices() {
            if matches!(self.graph.node_weight(n), Some(Node::Ours(_))) {
                if let Some(b) = best.get_mut(n.index()) {
                    *b = Some(one);
                }
                heap.push(Candidate {
                    strength: one,
                    node: n,
                    exact_only,
                });
            }
        }
        let op = "relationship path strength";
        while let Some(Candidate {
            strength, node: u, ..
        }) = heap.pop()
        {
            match done.get_mut(u.index()) {
                Some(d) if !*d => *d = true,
                _ => continue,
            }
            let (s, e) = (
                start.get(u.index()).copied().unwrap_or(0),
                start.get(u.index() + 1).copied().unwrap_or(0),
            );
            for &(v, kind, w, w_shadow) in steps.get(s..e).unwrap_or(&[]) {
                let v = NodeIndex::new(v as usize);
                if done.get(v.index()).copied().unwrap_or(true) {
                    continue;
                }
                let shadow = strength.shadow * w_shadow;
                // The exact product is computed only when the shadows cannot settle
                // whether the step improves on the best so far, or when it does.
                let candidate = match best.get(v.index()) {
                    Some(Some(old)) => match shadow_order(shadow, old.shadow, exact_only) {
                        Some(Ordering::Less | Ordering::Equal) => None,
                        Some(Ordering::Greater) => Some(num::mul(strength.exact, w, op)?),
                        None => {
                            let exact = num::mul(strength.exact, w, op)?;
                            (exact > old.exact).then_some(exact)
                        }
                    },
                    Some(None) => Some(num::mul(strength.exact, w, op)?),
                    None => None,
                };
                if let Some(exact) = candidate {
                    let reached = Strength { shadow, exact };
                    if let Some(b) = best.get_mut(v.index()) {
                        *b = Some(reached);
                    }
                    if let Some(p) = pred.get_mut(v.index()) {
                        *p = Some((u, link_of(kind, w), w));
                    }
                    heap.push(Candidate {
                        strength: reached,
                        node: v,
                        exact_only,
                    });
                }
            }
        }

        let mut out = Vec::new();
        for (n, _, p) in self.their_nodes() {
            if !is_decider(p) {
                continue;
            }
            let path = match best.get(n.index()).copied().flatten().map(|b| b.exact) {
                None => None,
                Some(strength) => {
                    let mut steps = Vec::new();
                    let mut cur = n;
                    while let Some(Some((prev, link, w))) = pred.get(cur.index()).copied() {
                        steps.push(PathStep {
                            from: self.id(prev).to_owned(),
                            to: self.id(cur).to_owned(),
                            link,
                            strength: w,
                        });
                        cur = prev;
                    }
                    steps.reverse();
                    Some(RelationshipPath { strength, steps })
                }
            };
            out.push(Reach {
                person: p.id.clone(),
                buying_role: p.buying_role,
                path,
            });
        }
        Ok(out)
    }

    /// What happens if person `id` (customer or ours) leaves: coverage lost, gaps
    /// opened, regions and buying centres newly single-threaded or uncovered, paths to
    /// decision makers and approvers broken or weakened, and the map status before and
    /// after. Paths use the default [`PathOptions`].
    ///
    /// # Errors
    /// [`StakeholderError::NotInGraph`] if there is no such person.
    pub fn departure(&self, id: &str) -> Result<Departure, StakeholderError> {
        let n = self.node(id)?;
        let side = match self.graph.node_weight(n) {
            Some(Node::Ours(_)) => Side::Ours,
            _ => Side::Customer,
        };
        let after = self.without(id)?;
        let (census, census_after) = (self.census(), after.census());

        let relationships_lost = self
            .graph
            .edges_directed(n, Incoming)
            .chain(self.graph.edges_directed(n, Outgoing))
            .filter(|e| matches!(e.weight(), Link::Covers(_)))
            .map(|e| (self.id(e.source()).to_owned(), self.id(e.target()).to_owned()))
            .collect();

        let newly_uncovered = self
            .their_nodes()
            .filter(|(m, _, _)| {
                *m != n && self.cover_count(&census, *m) > 0 && after.cover_count(&census_after, *m) == 0
            })
            .map(|(_, _, p)| p.id.clone())
            .collect();

        let key = |c: &CoverageCell| CellKey {
            region: c.region.clone(),
            function: c.function.clone(),
            buying_role: c.buying_role,
        };
        let gaps_before: HashSet<CellKey> = self.coverage_matrix_from(&census).gaps().map(key).collect();
        let gaps_opened = after
            .coverage_matrix_from(&census_after)
            .gaps()
            .map(key)
            .filter(|k| !gaps_before.contains(k))
            .collect();

        let threads_before: HashMap<(ThreadScope, String), u32> = self
            .thread_counts_from(&census)
            .into_iter()
            .map(|t| ((t.scope, t.id), t.relationships))
            .collect();
        let mut newly_single_threaded = Vec::new();
        let mut newly_uncovered_scopes = Vec::new();
        for t in after.thread_counts_from(&census_after) {
            let before = threads_before.get(&(t.scope, t.id.clone())).copied().unwrap_or(0);
            if t.relationships == 1 && before > 1 {
                newly_single_threaded.push((t.scope, t.id));
            } else if t.relationships == 0 && before > 0 {
                newly_uncovered_scopes.push((t.scope, t.id));
            }
        }

        let paths_after: HashMap<String, Option<Decimal>> = after
            .strongest_paths()?
            .into_iter()
            .map(|r| (r.person, r.path.map(|p| p.strength)))
            .collect();
        let mut paths_broken = Vec::new();
        let mut paths_weakened = Vec::new();
        for r in self.strongest_paths()? {
            let Some(before) = r.path.map(|p| p.strength) else {
                continue;
            };
            match paths_after.get(&r.person) {
                Some(None) => paths_broken.push(r.person),
                Some(Some(after)) if *after < before => paths_weakened.push(PathChange {
                    person: r.person,
                    before,
                    after: *after,
                }),
                _ => {}
            }
        }

        Ok(Departure {
            person: id.to_owned(),
            side,
            relationships_lost,
            newly_uncovered,
            gaps_opened,
            newly_single_threaded,
            newly_uncovered_scopes,
            paths_broken,
            paths_weakened,
            status_before: self.map_status().status,
            status_after: after.map_status().status,
        })
    }

    /// The standard analysis: coverage matrix with gaps, key players with no
    /// supporter, single-threaded regions and buying centres, influence ranking, map
    /// status.
    ///
    /// # Errors
    /// Invalid influence options (see [`StakeholderGraph::influence_ranking`]).
    pub fn analyse(&self, influence: &InfluenceOptions) -> Result<Analysis, StakeholderError> {
        let census = self.census();
        Ok(Analysis {
            coverage: self.coverage_matrix_from(&census),
            unsupported_key_players: self.unsupported_from(),
            single_threaded: self
                .thread_counts_from(&census)
                .into_iter()
                .filter(ThreadCount::is_single_threaded)
                .collect(),
            influence: self.influence_ranking(influence)?,
            status: self.map_status(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        BuyingRole, Coverage, OurPerson, Person, PoliticalPower, Relation, RelationshipLevel, StakeholderMap,
        Support,
    };
    use super::*;

    /// The shadowed search against the decimals-only one on maps built to tie: weights
    /// from a few values whose products coincide (½ × ½ = ¼…), near-ties one unit of the
    /// 28th place apart, thirds that round, and long chains whose strength falls under
    /// 10⁻²⁸ (zero as a decimal, not as an `f64`). Same paths, strengths and steps.
    #[test]
    fn shadowed_strengths_find_the_exact_searchs_paths() {
        let mut below = super::super::test_numbers(20261207);
        let weights: Vec<Decimal> = [
            "1",
            "0.5",
            "0.25",
            "0.125",
            "0.3333333333333333333333333333",
            "0.3333333333333333333333333334",
            "0.6666666666666666666666666667",
            "0.9999999999999999999999999999",
            // Two-step products a few units of the 28th place around 0.1, which an
            // `f64` cannot order: 0.3 × ⅓, 0.9 × ⅑, 0.7 × ⅐, 0.2 × 0.5, 0.1 itself.
            "0.3",
            "0.9",
            "0.1111111111111111111111111111",
            "0.7",
            "0.1428571428571428571428571429",
            "0.2",
            "0.1",
            "0.01",
        ]
        .iter()
        .map(|w| w.parse().expect("a weight"))
        .collect();
        let levels = [
            RelationshipLevel::Vendor,
            RelationshipLevel::CredibleSource,
            RelationshipLevel::ProblemSolver,
            RelationshipLevel::TrustedAdvisor,
        ];
        let (mut reached, mut zero) = (0, 0);
        for round in 0..400 {
            let n = 3 + below(if round % 2 == 0 { 60 } else { 12 }) as usize;
            let mut map = StakeholderMap::default();
            for i in 0..n {
                let id = format!("p{i}");
                let role = if below(3) == 0 {
                    BuyingRole::DecisionMaker
                } else {
                    BuyingRole::User
                };
                map.people.push(Person::new(
                    &id,
                    &id,
                    "r",
                    "f",
                    role,
                    PoliticalPower::Low,
                    Support::Neutral,
                ));
            }
            let ours = 1 + below(3) as usize;
            for o in 0..ours {
                map.our_people.push(OurPerson::new(&format!("o{o}"), "o", "am"));
                let covered = below(n as u64);
                map.coverage.push(Coverage::new(
                    &format!("o{o}"),
                    &format!("p{covered}"),
                    levels[below(4) as usize],
                ));
            }
            let mut seen = std::collections::HashSet::new();
            let chain = round % 4 == 0;
            if chain {
                // A long chain from a covered first person: strengths fall under the
                // 28th decimal place.
                if !map.coverage.iter().any(|c| c.ours == "o0" && c.theirs == "p0") {
                    map.coverage
                        .push(Coverage::new("o0", "p0", RelationshipLevel::TrustedAdvisor));
                }
                for i in 1..n {
                    seen.insert((i - 1, i));
                    map.relations.push(Relation::Influences {
                        from: format!("p{}", i - 1),
                        to: format!("p{i}"),
                        weight: weights[weights.len() - 2 + below(2) as usize],
                    });
                }
            }
            let extra = if chain { n as u64 / 4 } else { 4 * n as u64 };
            for _ in 0..below(extra.max(1)) {
                let (a, b) = (below(n as u64) as usize, below(n as u64) as usize);
                if a == b || !seen.insert((a, b)) {
                    continue;
                }
                if below(4) == 0 && a > b {
                    // Reporting lines point from higher to lower index: no cycle.
                    map.relations.push(Relation::ReportsTo {
                        from: format!("p{a}"),
                        to: format!("p{b}"),
                    });
                } else {
                    map.relations.push(Relation::Influences {
                        from: format!("p{a}"),
                        to: format!("p{b}"),
                        weight: weights[below(weights.len() as u64) as usize],
                    });
                }
            }
            let g = map.graph().expect("a valid map");
            let options = PathOptions::default();
            let exact = g.strongest_paths_search(&options, true).expect("exact search");
            let shadowed = g
                .strongest_paths_search(&options, false)
                .expect("shadowed search");
            for r in &exact {
                match &r.path {
                    Some(p) if p.strength.is_zero() => zero += 1,
                    Some(_) => reached += 1,
                    None => {}
                }
            }
            assert_eq!(shadowed, exact, "round {round}: {:?}", map.relations);
        }
        // The maps did reach decision makers, some only with a strength of zero.
        assert!(reached > 1_000 && zero > 50, "reached {reached}, zero {zero}");
    }
}
