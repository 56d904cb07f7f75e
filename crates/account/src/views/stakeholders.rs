//! The stakeholder map (`kam stakeholders`): status, coverage gaps, key players without
//! a supporter, single threads and the region × function heat map.

use std::collections::{BTreeMap, BTreeSet};

use kam_core::stakeholders::{BuyingRole, Rag, ThreadScope};
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
}

/// Analyses `stakeholders.toml`.
///
/// # Errors
/// The account has no stakeholder map, or it does not form a valid graph (unknown
/// person in a relation, a reports-to cycle…), located in the file.
pub fn stakeholders(account: &Account) -> Result<StakeholderReport, AccountError> {
    let name = "stakeholders.toml";
    let map = account.need(&account.stakeholders, name, "the stakeholder analysis")?;
    let err = |e| account.error_in(name, None, e);
    let graph = map.graph().map_err(err)?;
    let status = graph.map_status().map_err(err)?;
    let matrix = graph.coverage_matrix().map_err(err)?;
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
        .map_err(err)?
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
        .map_err(err)?
        .into_iter()
        .map(|t| SingleThread {
            scope: t.scope,
            id: t.id,
            people: t.people,
        })
        .collect();
    let regions: Vec<String> = map
        .people
        .iter()
        .map(|p| p.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let functions: Vec<String> = map
        .people
        .iter()
        .map(|p| p.function.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
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
    })
}
