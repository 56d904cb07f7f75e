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

/// A max-heap entry for the max-product Dijkstra: strongest first, then lowest index.
#[derive(PartialEq, Eq)]
struct Candidate(Decimal, NodeIndex);

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0).then_with(|| other.1.cmp(&self.1))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

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
        let mut acc: HashMap<(u32, u32, BuyingRole), CellAcc> = HashMap::new();
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
            ours: HashSet<NodeIndex>,
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
        // (target, kind, strength): the row is the source.
        let mut steps: Vec<(u32, u8, Decimal)> =
            vec![(0, 0, Decimal::ZERO); start.get(bound).copied().unwrap_or(0)];
        let mut next = start.clone();
        each(&mut |a, b, kind, w| {
            if let Some(at) = next.get_mut(a as usize)
                && let Some(slot) = steps.get_mut(*at)
            {
                *slot = (b, kind, w);
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

        let mut best: Vec<Option<Decimal>> = vec![None; bound];
        let mut pred: Vec<Option<(NodeIndex, PathLink, Decimal)>> = vec![None; bound];
        let mut done = vec![false; bound];
        let mut heap = BinaryHeap::new();
        for n in self.graph.node_indices() {
            if matches!(self.graph.node_weight(n), Some(Node::Ours(_))) {
                if let Some(b) = best.get_mut(n.index()) {
                    *b = Some(Decimal::ONE);
                }
                heap.push(Candidate(Decimal::ONE, n));
            }
        }
        while let Some(Candidate(strength, u)) = heap.pop() {
            match done.get_mut(u.index()) {
                Some(d) if !*d => *d = true,
                _ => continue,
            }
            let (s, e) = (
                start.get(u.index()).copied().unwrap_or(0),
                start.get(u.index() + 1).copied().unwrap_or(0),
            );
            for &(v, kind, w) in steps.get(s..e).unwrap_or(&[]) {
                let v = NodeIndex::new(v as usize);
                if done.get(v.index()).copied().unwrap_or(true) {
                    continue;
                }
                let s = num::mul(strength, w, "relationship path strength")?;
                let improves = match best.get(v.index()) {
                    Some(Some(old)) => s > *old,
                    Some(None) => true,
                    None => false,
                };
                if improves {
                    if let Some(b) = best.get_mut(v.index()) {
                        *b = Some(s);
                    }
                    if let Some(p) = pred.get_mut(v.index()) {
                        *p = Some((u, link_of(kind, w), w));
                    }
                    heap.push(Candidate(s, v));
                }
            }
        }

        let mut out = Vec::new();
        for (n, _, p) in self.their_nodes() {
            if !is_decider(p) {
                continue;
            }
            let path = match best.get(n.index()).copied().flatten() {
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
