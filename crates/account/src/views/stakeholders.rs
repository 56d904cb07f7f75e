//! The stakeholder map (`kam stakeholders`): status, coverage gaps, key players without
//! a supporter, single threads and the region × function heat map.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use kam_core::stakeholders::{
    BuyingRole, Departure, InfluenceOptions, InfluenceScore, PathLink, Rag, Reach, Relation,
    RelationshipPath, Support, ThreadScope,
};
use serde::Serialize;

use crate::error::AccountError;
use crate::model::Account;

/// A coverage gap.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// Region.
    pub region: String,
    /// Function.
    pub function: String,
    /// Buying role.
    pub buying_role: BuyingRole,
    /// Key players in the cell none of ours covers.
    pub key_players: u32,
}

/// A key player without a supporter.
#[derive(Debug, Serialize)]
pub struct Unsupported {
    /// Person id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Region.
    pub region: String,
}

/// A region or buying centre hanging on one relationship.
#[derive(Debug, Serialize)]
pub struct SingleThread {
    /// Region or buying centre.
    pub scope: ThreadScope,
    /// Its id.
    pub id: String,
    /// Customer people in it.
    pub people: u32,
}

/// One cell of the region × function heat map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HeatCell {
    /// Customer people in the cell.
    pub people: u32,
    /// Of them, covered by one of ours.
    pub covered: u32,
    /// Best relationship level in the cell, 1 (vendor) to 4 (trusted advisor); 0: none.
    pub best_level: u8,
}

/// `kam stakeholders`.
#[derive(Debug, Serialize)]
pub struct StakeholderReport {
    /// Map status.
    pub status: Rag,
    /// Customer people.
    pub people: usize,
    /// Our people.
    pub our_people: usize,
    /// Key players.
    pub key_players: u32,
    /// Supportive key players.
    pub supportive_key_players: u32,
    /// Decision makers and approvers.
    pub deciders: u32,
    /// Supportive deciders.
    pub supportive_deciders: u32,
    /// Cells with uncovered key players.
    pub gaps: Vec<Gap>,
    /// Key players without a supporter.
    pub unsupported_key_players: Vec<Unsupported>,
    /// Single-threaded regions and buying centres.
    pub single_threaded: Vec<SingleThread>,
    /// Regions (heat-map rows).
    pub regions: Vec<String>,
    /// Functions (heat-map columns).
    pub functions: Vec<String>,
    /// Per region × function.
    pub heat: Vec<Vec<HeatCell>>,
    /// Influence ranking of the customer's people (weighted PageRank over influence
    /// relations, damping 0.85), highest first; every person.
    pub influence: Vec<InfluenceScore>,
    /// The strongest relationship path from one of our people to each decision maker
    /// and approver (none: nobody of ours reaches them).
    pub paths: Vec<Reach>,
    /// Key players who work against us, or who conflict with one of our mentors.
    pub hostile: Vec<Hostile>,
}

/// A key player who is an enemy, or who conflicts with one of our mentors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hostile {
    /// The key player.
    pub person: String,
    /// Title.
    pub title: String,
    /// Region.
    pub region: String,
    /// Why: `enemy`, or `conflicts with mentor ID`.
    pub why: String,
}

/// A path as one line: `ad —covers→ brandt —influences→ mueller`.
pub fn route(path: &RelationshipPath) -> String {
    let mut hops = String::new();
    for (i, step) in path.steps.iter().enumerate() {
        if i == 0 {
            hops.push_str(&step.from);
        }
        let link = match step.link {
            PathLink::Coverage { .. } => "covers",
            PathLink::Influences { .. } => "influences",
            PathLink::ReportsTo => "reports to",
            PathLink::ManagerOf => "manages",
        };
        hops.push_str(" —");
        hops.push_str(link);
        hops.push_str("→ ");
        hops.push_str(&step.to);
    }
    hops
}

/// Analyses the stakeholder map (`stakeholders.toml` and any imported tables).
///
/// # Errors
/// The account has no stakeholder map, or it does not form a valid graph (unknown
/// person in a relation, a reports-to cycle…), located in the file.
pub fn stakeholders(account: &Account) -> Result<StakeholderReport, AccountError> {
    let name = "stakeholders.toml";
    let map = account.need(&account.stakeholders, name, "the stakeholder analysis")?;
    let err = |e| account.error_in(name, None, e);
    let graph = map.graph().map_err(|e| account.stakeholder_error(e))?;
    // The strongest paths, the heaviest analysis, run on a second thread beside the
    // others: each only reads the graph, and at 100,000 people that halves its wait.
    std::thread::scope(|scope| -> Result<StakeholderReport, AccountError> {
        let paths_job = scope.spawn(|| graph.strongest_paths());
        let status = graph.map_status();
        let matrix = graph.coverage_matrix();
        let gaps = matrix
            .gaps()
            .map(|c| Gap {
                region: c.region.clone(),
                function: c.function.clone(),
                buying_role: c.buying_role,
                key_players: c.key_players - c.covered_key_players.min(c.key_players),
            })
            .collect();
        let unsupported = graph
            .unsupported_key_players()
            .into_iter()
            .map(|id| {
                let p = graph.person(&id);
                Unsupported {
                    title: p.map(|p| p.title.clone()).unwrap_or_default(),
                    region: p.map(|p| p.region.clone()).unwrap_or_default(),
                    id,
                }
            })
            .collect();
        let single_threaded = graph
            .single_threaded()
            .into_iter()
            .map(|t| SingleThread {
                scope: t.scope,
                id: t.id,
                people: t.people,
            })
            .collect();
        // Borrowed into the sets, owned once each: not a copy per person.
        let regions: Vec<String> = map
            .people
            .iter()
            .map(|p| p.region.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let functions: Vec<String> = map
            .people
            .iter()
            .map(|p| p.function.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut cells: BTreeMap<(&str, &str), HeatCell> = BTreeMap::new();
        for r in &regions {
            for fnc in &functions {
                for role in [
                    BuyingRole::DecisionMaker,
                    BuyingRole::Approver,
                    BuyingRole::Evaluator,
                    BuyingRole::User,
                ] {
                    if let Some(c) = matrix.cell(r, fnc, role) {
                        let e = cells.entry((r, fnc)).or_default();
                        e.people += c.people;
                        e.covered += c.covered_people;
                        let lvl = c.best_level.map_or(0, |l| l as u8 + 1);
                        e.best_level = e.best_level.max(lvl);
                    }
                }
            }
        }
        let heat = regions
            .iter()
            .map(|r| {
                functions
                    .iter()
                    .map(|fnc| {
                        cells
                            .get(&(r.as_str(), fnc.as_str()))
                            .copied()
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let influence = graph
            .influence_ranking(&InfluenceOptions::default())
            .map_err(err)?
            .scores;
        // One pass over the relations: each person's conflicts with one of our mentors, in
        // relation order (a scan per key player would be quadratic at 100,000 people).
        let mentors: HashSet<&str> = map
            .people
            .iter()
            .filter(|p| p.support == Support::Mentor)
            .map(|p| p.id.as_str())
            .collect();
        let mut mentor_conflicts: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in &map.relations {
            if let Relation::ConflictsWith { from, to } = r {
                if mentors.contains(to.as_str()) {
                    mentor_conflicts
                        .entry(from.as_str())
                        .or_default()
                        .push(to.as_str());
                }
                if mentors.contains(from.as_str()) {
                    mentor_conflicts
                        .entry(to.as_str())
                        .or_default()
                        .push(from.as_str());
                }
            }
        }
        let mut hostile = Vec::new();
        for p in map.people.iter().filter(|p| p.is_key_player()) {
            let mut push = |why: String| {
                hostile.push(Hostile {
                    person: p.id.clone(),
                    title: p.title.clone(),
                    region: p.region.clone(),
                    why,
                })
            };
            if p.support == Support::Enemy {
                push("enemy".into());
            }
            for other in mentor_conflicts.get(p.id.as_str()).into_iter().flatten() {
                push(format!("conflicts with our mentor {other}"));
            }
        }
        // Joined last: the path search is the longest analysis, and the rest ran beside it.
        let paths = paths_job
            .join()
            .map_err(|_| AccountError::invalid("the strongest-path analysis failed unexpectedly"))?
            .map_err(err)?;
        Ok(StakeholderReport {
            status: status.status,
            people: map.people.len(),
            our_people: map.our_people.len(),
            key_players: status.key_players,
            supportive_key_players: status.supportive_key_players,
            deciders: status.deciders,
            supportive_deciders: status.supportive_deciders,
            gaps,
            unsupported_key_players: unsupported,
            single_threaded,
            regions,
            functions,
            heat,
            influence,
            paths,
            hostile,
        })
    })
}

/// `kam stakeholders --if-leaves ID`: what coverage, paths and key-player support are
/// lost if person `id` (theirs or ours) leaves.
///
/// # Errors
/// No stakeholder map, or no such person (an error naming the id).
pub fn departure(account: &Account, id: &str) -> Result<Departure, AccountError> {
    let name = "stakeholders.toml";
    let map = account.need(&account.stakeholders, name, "the departure what-if")?;
    let graph = map.graph().map_err(|e| account.stakeholder_error(e))?;
    graph.departure(id).map_err(|e| {
        AccountError::invalid(format!(
            "--if-leaves {id:?}: {e} (not a person of {})",
            account.display(name)
        ))
    })
}
