//! Building the petgraph `StableGraph` from records, and turning it back into records.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use petgraph::stable_graph::{NodeIndex, StableGraph};
use rust_decimal::Decimal;

use super::ids::Ids;
use super::{Coverage, OurPerson, Person, Relation, RelationshipLevel, StakeholderError, StakeholderMap};
use crate::account::Account;
use crate::fxhash::{FxBuild, FxSet};

/// A node: an index into the customer's people or into our people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Node {
    Their(u32),
    Ours(u32),
}

/// An edge. Reports-to and influences point from the report / influencer; conflicts
/// are stored once, in record order; coverage points from our person to theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    ReportsTo,
    Influences(Decimal),
    ConflictsWith,
    Covers(RelationshipLevel),
}

/// Grouping keys computed during validation.
struct Groups {
    region: Vec<u32>,
    function: Vec<u32>,
    centres_of: Vec<Vec<u32>>,
    regions: Vec<String>,
    functions: Vec<String>,
    centres: Vec<String>,
    /// Reports-to lines (report, manager) in record order, for the cycle check.
    reports: Vec<(u32, u32)>,
}

/// What never changes when people are removed: the records and the grouping keys.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) people: Vec<Person>,
    pub(super) ours: Vec<OurPerson>,
    /// Person id → node (the node index is the id's position: nodes are added in
    /// the same order).
    pub(super) index: Ids,
    /// Per customer person: index into `regions` (rolled up to the region when built
    /// for an account).
    pub(super) region: Vec<u32>,
    /// Per customer person: index into `functions`.
    pub(super) function: Vec<u32>,
    /// Per customer person: indices into `centres`.
    pub(super) centres_of: Vec<Vec<u32>>,
    pub(super) regions: Vec<String>,
    pub(super) functions: Vec<String>,
    pub(super) centres: Vec<String>,
}

/// A validated stakeholder map as a graph (petgraph `StableGraph`), ready for analysis.
///
/// Build it with [`StakeholderMap::graph`](super::StakeholderMap::graph). Removing a
/// person ([`StakeholderGraph::without`]) keeps every other node's index stable, which
/// is what the departure what-if relies on. Node indices never appear in results.
#[derive(Debug, Clone)]
pub struct StakeholderGraph {
    pub(super) graph: StableGraph<Node, Link>,
    pub(super) shared: Arc<Shared>,
}

fn intern<'a>(map: &mut HashMap<&'a str, u32>, list: &mut Vec<String>, key: &'a str) -> u32 {
    if let Some(&i) = map.get(key) {
        return i;
    }
    let i = list.len() as u32;
    list.push(key.to_owned());
    map.insert(key, i);
    i
}

const THEIRS: &str = "customer person";
/// An id [`resolve`] did not find.
const NONE: u32 = u32::MAX;

/// The positions of both ends of every relation (`NONE`: unknown), looked up on up to
/// four threads when there are many: the lookups are independent reads of `index`,
/// and at 500,000 relations they were the largest part of building the graph. The
/// result is the same whatever the number of threads.
fn resolve(index: &Ids, relations: &[Relation]) -> Vec<[u32; 2]> {
    let find = |id: &str| index.get(id).map_or(NONE, |p| p as u32);
    let one = |chunk: &[Relation]| -> Vec<[u32; 2]> {
        chunk
            .iter()
            .map(|r| {
                let (a, b) = r.ends();
                [find(a), find(b)]
            })
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    // Below this a thread costs more than it saves.
    if threads < 2 || relations.len() < 50_000 {
        return one(relations);
    }
    let size = relations.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let jobs: Vec<_> = relations
            .chunks(size)
            .map(|c| scope.spawn(move || one(c)))
            .collect();
        let mut out = Vec::with_capacity(relations.len());
        for job in jobs {
            out.extend(job.join().ok()?);
        }
        Some(out)
    })
    // A lookup cannot panic; should a thread fail anyway, look up on this one.
    .unwrap_or_else(|| one(relations))
}
const OURS: &str = "our person";

impl StakeholderGraph {
    /// Validates and builds; takes the map by value so the records move into the graph.
    pub(super) fn build(map: StakeholderMap, account: Option<&Account>) -> Result<Self, StakeholderError> {
        let (graph, index, groups) = Self::validate(&map, account)?;
        Self::assemble(graph, index, groups, map.people, map.our_people)
    }

    /// Validates and builds from borrowed records: only the people are copied into the
    /// graph (relations live on as edges), so a caller that keeps its map does not pay
    /// for a copy of every relation.
    pub(super) fn build_borrowed(
        map: &StakeholderMap,
        account: Option<&Account>,
    ) -> Result<Self, StakeholderError> {
        let (graph, index, groups) = Self::validate(map, account)?;
        Self::assemble(graph, index, groups, map.people.clone(), map.our_people.clone())
    }

    fn assemble(
        graph: StableGraph<Node, Link>,
        index: Ids,
        groups: Groups,
        people: Vec<Person>,
        ours: Vec<OurPerson>,
    ) -> Result<Self, StakeholderError> {
        let (g, reports) = Self::unchecked(graph, index, groups, people, ours);
        g.check_reporting_cycles(&reports)?;
        Ok(g)
    }

    /// The graph from validated parts, and its reporting lines, before the reports-to
    /// cycle check that [`StakeholderGraph::assemble`] runs on them.
    fn unchecked(
        graph: StableGraph<Node, Link>,
        index: Ids,
        groups: Groups,
        people: Vec<Person>,
        ours: Vec<OurPerson>,
    ) -> (Self, Vec<(u32, u32)>) {
        let reports = groups.reports;
        let g = StakeholderGraph {
            graph,
            shared: Arc::new(Shared {
                people,
                ours,
                index,
                region: groups.region,
                function: groups.function,
                centres_of: groups.centres_of,
                regions: groups.regions,
                functions: groups.functions,
                centres: groups.centres,
            }),
        };
        (g, reports)
    }

    #[allow(clippy::type_complexity)]
    fn validate(
        map: &StakeholderMap,
        account: Option<&Account>,
    ) -> Result<(StableGraph<Node, Link>, Ids, Groups), StakeholderError> {
        // Node indices are u32 and the dedup key packs two of them, so cap the size.
        let nodes = map.people.len() + map.our_people.len();
        if u32::try_from(nodes).is_err() || nodes >= (1 << 31) {
            return Err(StakeholderError::OutOfRange {
                path: "people".into(),
                value: Decimal::from(nodes as u64),
                range: "[0, 2^31)",
            });
        }
        let mut graph = StableGraph::with_capacity(nodes, map.relations.len() + map.coverage.len());
        let bytes = map.people.iter().map(|p| p.id.len()).sum::<usize>()
            + map.our_people.iter().map(|p| p.id.len()).sum::<usize>();
        let mut index = Ids::with_capacity(nodes, bytes);
        // Node `n` is the id at position `n`: people first, then ours, in record order.
        let ids = map
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| ("people", i, &p.id, Node::Their(i as u32)))
            .chain(
                map.our_people
                    .iter()
                    .enumerate()
                    .map(|(i, p)| ("our_people", i, &p.id, Node::Ours(i as u32))),
            );
        for (part, i, id, node) in ids {
            // The path is formatted on error only: 100,000 of them showed in a profile.
            if id.is_empty() {
                return Err(StakeholderError::EmptyId {
                    path: format!("{part}[{i}].id"),
                });
            }
            if index.insert(id).is_err() {
                return Err(StakeholderError::DuplicateId {
                    path: format!("{part}[{i}].id"),
                    id: id.clone(),
                });
            }
            graph.add_node(node);
        }
        let theirs = map.people.len();

        let hierarchy = account.map(Account::hierarchy).transpose()?;
        let known_centres: Option<HashSet<&str>> =
            account.map(|a| a.buying_centres.iter().map(|c| c.id.as_str()).collect());
        let (mut regions, mut functions, mut centres) = (Vec::new(), Vec::new(), Vec::new());
        let (mut region_ix, mut function_ix, mut centre_ix) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        let mut region = Vec::with_capacity(map.people.len());
        let mut function = Vec::with_capacity(map.people.len());
        let mut centres_of = Vec::with_capacity(map.people.len());
        for (i, p) in map.people.iter().enumerate() {
            let group: &str = match &hierarchy {
                Some(h) => {
                    if !h.contains(&p.region) {
                        return Err(StakeholderError::UnknownRegion {
                            path: format!("people[{i}].region"),
                            id: p.region.clone(),
                        });
                    }
                    h.region_of(&p.region).unwrap_or(&p.region)
                }
                None => &p.region,
            };
            // `group` may borrow the hierarchy, which is dropped at the end; own it.
            let r = match region_ix.get(group) {
                Some(&r) => r,
                None => {
                    let r = regions.len() as u32;
                    regions.push(group.to_owned());
                    region_ix.insert(group.to_owned(), r);
                    r
                }
            };
            region.push(r);
            function.push(intern(&mut function_ix, &mut functions, &p.function));
            let mut mine = Vec::with_capacity(p.buying_centres.len());
            for (j, c) in p.buying_centres.iter().enumerate() {
                if let Some(known) = &known_centres
                    && !known.contains(c.as_str())
                {
                    return Err(StakeholderError::UnknownBuyingCentre {
                        path: format!("people[{i}].buying_centres[{j}]"),
                        id: c.clone(),
                    });
                }
                let c = intern(&mut centre_ix, &mut centres, c);
                if !mine.contains(&c) {
                    mine.push(c);
                }
            }
            centres_of.push(mine);
        }

        // `path` is built only on error: formatting it for every relation would dominate.
        // `at` is the id's position when already looked up (`NONE`: unknown).
        let lookup = |path: &dyn Fn() -> String,
                      id: &str,
                      at: Option<u32>,
                      side: &'static str|
         -> Result<NodeIndex, StakeholderError> {
            let at = match at {
                Some(NONE) => None,
                Some(p) => Some(p as usize),
                None => index.get(id),
            };
            match at {
                Some(p) if (p < theirs) == (side == THEIRS) => Ok(NodeIndex::new(p)),
                _ => Err(StakeholderError::UnknownPerson {
                    path: path(),
                    side,
                    id: id.to_owned(),
                }),
            }
        };
        let ends = resolve(&index, &map.relations);
        let mut reports = Vec::new();

        let mut seen: FxSet<u64> =
            HashSet::with_capacity_and_hasher(map.relations.len() + map.coverage.len(), FxBuild::default());
        for (i, (r, [x, y])) in map.relations.iter().zip(ends).enumerate() {
            let (from, to) = r.ends();
            let a = lookup(&|| format!("relations[{i}].from"), from, Some(x), THEIRS)?;
            let b = lookup(&|| format!("relations[{i}].to"), to, Some(y), THEIRS)?;
            if a == b {
                return Err(StakeholderError::SelfEdge {
                    path: format!("relations[{i}]"),
                    kind: r.kind(),
                    id: from.to_owned(),
                });
            }
            let (link, tag, x, y) = match r {
                Relation::ReportsTo { .. } => {
                    reports.push((a.index() as u32, b.index() as u32));
                    (Link::ReportsTo, 0u64, a, b)
                }
                Relation::Influences { weight, .. } => {
                    if *weight <= Decimal::ZERO || *weight > Decimal::ONE {
                        return Err(StakeholderError::OutOfRange {
                            path: format!("relations[{i}].weight"),
                            value: *weight,
                            range: "(0, 1]",
                        });
                    }
                    (Link::Influences(*weight), 1, a, b)
                }
                // Symmetric: a–b and b–a are the same conflict.
                Relation::ConflictsWith { .. } => (Link::ConflictsWith, 2, a.min(b), a.max(b)),
            };
            let key = (tag << 62) | ((x.index() as u64) << 31) | y.index() as u64;
            if !seen.insert(key) {
                return Err(StakeholderError::DuplicateRelation {
                    path: format!("relations[{i}]"),
                    kind: r.kind(),
                    from: from.to_owned(),
                    to: to.to_owned(),
                });
            }
            // Straight into the graph (a failed build drops it): a staging vector of
            // 600,000 edges was 19 MB of fresh pages.
            graph.add_edge(a, b, link);
        }
        for (i, c) in map.coverage.iter().enumerate() {
            let a = lookup(&|| format!("coverage[{i}].ours"), &c.ours, None, OURS)?;
            let b = lookup(&|| format!("coverage[{i}].theirs"), &c.theirs, None, THEIRS)?;
            let key = (3u64 << 62) | ((a.index() as u64) << 31) | b.index() as u64;
            if !seen.insert(key) {
                return Err(StakeholderError::DuplicateRelation {
                    path: format!("coverage[{i}]"),
                    kind: "coverage",
                    from: c.ours.clone(),
                    to: c.theirs.clone(),
                });
            }
            graph.add_edge(a, b, Link::Covers(c.level));
        }

        Ok((
            graph,
            index,
            Groups {
                region,
                function,
                centres_of,
                regions,
                functions,
                centres,
                reports,
            },
        ))
    }

    /// Depth-first search over reports-to lines; a back edge closes a cycle. `reports`
    /// are the lines (report, manager) in record order.
    fn check_reporting_cycles(&self, reports: &[(u32, u32)]) -> Result<(), StakeholderError> {
        use petgraph::visit::NodeIndexable;
        const WHITE: u8 = 0;
        const GREY: u8 = 1;
        const BLACK: u8 = 2;
        let bound = self.graph.node_bound();
        // Each person's managers in compressed rows, newest line first — the order in
        // which petgraph's adjacency lists gave them, so the same cycle is found — and
        // without walking all 600,000 edges' lists for the 100,000 reporting lines.
        let mut start = vec![0usize; bound + 1];
        for &(a, _) in reports {
            if let Some(x) = start.get_mut(a as usize + 1) {
                *x += 1;
            }
        }
        for i in 0..bound {
            let prev = start.get(i).copied().unwrap_or(0);
            if let Some(x) = start.get_mut(i + 1) {
                *x += prev;
            }
        }
        let mut fill: Vec<usize> = start.get(1..).unwrap_or(&[]).to_vec();
        let mut managers = vec![0u32; reports.len()];
        for &(a, b) in reports {
            if let Some(at) = fill.get_mut(a as usize) {
                *at -= 1;
                if let Some(m) = managers.get_mut(*at) {
                    *m = b;
                }
            }
        }
        let end = |n: usize| start.get(n + 1).copied().unwrap_or(0);
        let mut colour = vec![WHITE; bound];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for first in self.graph.node_indices().map(|n| n.index()) {
            if colour.get(first).copied() != Some(WHITE) {
                continue;
            }
            if let Some(c) = colour.get_mut(first) {
                *c = GREY;
            }
            stack.push((first, start.get(first).copied().unwrap_or(0)));
            while let Some((node, at)) = stack.last_mut() {
                let node = *node;
                if *at >= end(node) {
                    if let Some(c) = colour.get_mut(node) {
                        *c = BLACK;
                    }
                    stack.pop();
                    continue;
                }
                let next = managers.get(*at).copied().unwrap_or(0) as usize;
                *at += 1;
                match colour.get(next).copied() {
                    Some(WHITE) => {
                        if let Some(c) = colour.get_mut(next) {
                            *c = GREY;
                        }
                        stack.push((next, start.get(next).copied().unwrap_or(0)));
                    }
                    Some(GREY) => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<String> = stack
                            .get(from..)
                            .unwrap_or(&[])
                            .iter()
                            .map(|(n, _)| self.id(NodeIndex::new(*n)).to_owned())
                            .collect();
                        cycle.push(self.id(NodeIndex::new(next)).to_owned());
                        return Err(StakeholderError::ReportsToCycle { cycle });
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The id of a node (empty for a removed one, which callers never ask for).
    pub(super) fn id(&self, n: NodeIndex) -> &str {
        match self.graph.node_weight(n) {
            Some(Node::Their(i)) => self.shared.people.get(*i as usize).map_or("", |p| p.id.as_str()),
            Some(Node::Ours(i)) => self.shared.ours.get(*i as usize).map_or("", |p| p.id.as_str()),
            None => "",
        }
    }

    /// The customer person at a node.
    pub(super) fn their(&self, n: NodeIndex) -> Option<(usize, &Person)> {
        match self.graph.node_weight(n) {
            Some(Node::Their(i)) => self.shared.people.get(*i as usize).map(|p| (*i as usize, p)),
            _ => None,
        }
    }

    /// The node of a person still in the graph.
    pub(super) fn node(&self, id: &str) -> Result<NodeIndex, StakeholderError> {
        self.shared
            .index
            .get(id)
            .map(NodeIndex::new)
            .filter(|n| self.graph.contains_node(*n))
            .ok_or_else(|| StakeholderError::NotInGraph { id: id.to_owned() })
    }

    /// Customer people still in the graph, with their record index, in record order.
    pub(super) fn their_nodes(&self) -> impl Iterator<Item = (NodeIndex, usize, &Person)> + '_ {
        self.graph
            .node_indices()
            .filter_map(move |n| self.their(n).map(|(i, p)| (n, i, p)))
    }

    /// Whether a person (either side) is in the graph.
    pub fn contains(&self, id: &str) -> bool {
        self.node(id).is_ok()
    }

    /// A customer person's record, if they are in the graph.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.node(id).ok().and_then(|n| self.their(n)).map(|(_, p)| p)
    }

    /// The customer people in the graph, in record order.
    pub fn people(&self) -> impl Iterator<Item = &Person> + '_ {
        self.their_nodes().map(|(_, _, p)| p)
    }

    /// Number of people (both sides) and of edges (relations + coverage).
    pub fn size(&self) -> (usize, usize) {
        (self.graph.node_count(), self.graph.edge_count())
    }

    /// The graph with person `id` (either side) and all their relations removed.
    ///
    /// # Errors
    /// [`StakeholderError::NotInGraph`] if there is no such person.
    pub fn without(&self, id: &str) -> Result<StakeholderGraph, StakeholderError> {
        let mut g = self.clone();
        g.remove(id)?;
        Ok(g)
    }

    /// Removes person `id` (either side) and all their relations.
    ///
    /// # Errors
    /// [`StakeholderError::NotInGraph`] if there is no such person.
    pub fn remove(&mut self, id: &str) -> Result<(), StakeholderError> {
        let n = self.node(id)?;
        self.graph.remove_node(n);
        Ok(())
    }

    /// The graph as records again: the people still in it, in record order, and their
    /// relations and coverage in record order. A graph built from a map gives that map
    /// back unchanged.
    pub fn to_map(&self) -> StakeholderMap {
        let mut map = StakeholderMap::default();
        for n in self.graph.node_indices() {
            match self.graph.node_weight(n) {
                Some(Node::Their(i)) => map.people.extend(self.shared.people.get(*i as usize).cloned()),
                Some(Node::Ours(i)) => map.our_people.extend(self.shared.ours.get(*i as usize).cloned()),
                None => {}
            }
        }
        for e in self.graph.edge_indices() {
            let (Some((a, b)), Some(link)) = (self.graph.edge_endpoints(e), self.graph.edge_weight(e)) else {
                continue;
            };
            let (from, to) = (self.id(a).to_owned(), self.id(b).to_owned());
            match *link {
                Link::ReportsTo => map.relations.push(Relation::ReportsTo { from, to }),
                Link::Influences(weight) => map.relations.push(Relation::Influences { from, to, weight }),
                Link::ConflictsWith => map.relations.push(Relation::ConflictsWith { from, to }),
                Link::Covers(level) => map.coverage.push(Coverage {
                    ours: from,
                    theirs: to,
                    level,
                }),
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use petgraph::Direction::Outgoing;
    use petgraph::visit::EdgeRef;

    use super::*;

    /// The depth-first search as it was over petgraph's adjacency lists: the oracle
    /// for the compressed rows, which must find the same cycle.
    fn cycle_over_adjacency(g: &StakeholderGraph) -> Option<Vec<String>> {
        let mut colour = vec![0u8; g.graph.node_count()];
        let managers = |n: NodeIndex| {
            g.graph
                .edges_directed(n, Outgoing)
                .filter(|e| matches!(e.weight(), Link::ReportsTo))
                .map(|e| e.target())
                .collect::<Vec<_>>()
        };
        for start in g.graph.node_indices() {
            if colour[start.index()] != 0 {
                continue;
            }
            colour[start.index()] = 1;
            let mut stack = vec![(start, managers(start), 0usize)];
            while let Some((node, next, at)) = stack.last_mut() {
                let node = *node;
                match next.get(*at).copied() {
                    Some(m) => {
                        *at += 1;
                        match colour[m.index()] {
                            0 => {
                                colour[m.index()] = 1;
                                stack.push((m, managers(m), 0));
                            }
                            1 => {
                                let from = stack.iter().position(|(n, ..)| *n == m).unwrap_or(0);
                                let mut cycle: Vec<String> =
                                    stack[from..].iter().map(|(n, ..)| g.id(*n).to_owned()).collect();
                                cycle.push(g.id(m).to_owned());
                                return Some(cycle);
                            }
                            _ => {}
                        }
                    }
                    None => {
                        colour[node.index()] = 2;
                        stack.pop();
                    }
                }
            }
        }
        None
    }

    #[test]
    fn the_cycle_found_is_the_adjacency_lists_one() {
        use super::super::{BuyingRole, Person, PoliticalPower, Support};
        let mut below = super::super::test_numbers(7);
        let mut cycles = 0;
        for _ in 0..2_000 {
            let n = 2 + below(10) as usize;
            let mut map = StakeholderMap::default();
            for i in 0..n {
                let id = format!("p{i}");
                map.people.push(Person::new(
                    &id,
                    &id,
                    "r",
                    "f",
                    BuyingRole::User,
                    PoliticalPower::Low,
                    Support::Neutral,
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..below(2 * n as u64) {
                let (a, b) = (below(n as u64), below(n as u64));
                if a != b && seen.insert((a, b)) {
                    map.relations.push(Relation::ReportsTo {
                        from: format!("p{a}"),
                        to: format!("p{b}"),
                    });
                }
            }
            let (graph, index, groups) = StakeholderGraph::validate(&map, None).unwrap();
            let (g, reports) =
                StakeholderGraph::unchecked(graph, index, groups, map.people.clone(), Vec::new());
            let want = cycle_over_adjacency(&g);
            cycles += usize::from(want.is_some());
            let got = match g.check_reporting_cycles(&reports) {
                Ok(()) => None,
                Err(StakeholderError::ReportsToCycle { cycle }) => Some(cycle),
                Err(e) => panic!("{e}"),
            };
            assert_eq!(got, want, "{:?}", map.relations);
        }
        assert!(cycles > 200, "only {cycles} maps with a cycle");
    }
}
