//! The customer's stakeholder map: who is who in the customer's global organisation,
//! how they relate, how well we cover them — and what that means for the account.
//!
//! A [`StakeholderMap`] is plain data: serde records with string ids (people, our people,
//! relations, coverage), the form in which maps are stored in TOML/JSON and exchanged.
//! [`StakeholderMap::graph`] validates it once and builds a [`StakeholderGraph`], a petgraph
//! `StableGraph` over both sides' people, on which the analytics run:
//!
//! - [`StakeholderGraph::coverage_matrix`] — region × function × buying role, with gaps
//!   (cells holding key players that none of our people covers);
//! - [`StakeholderGraph::key_players`] / [`StakeholderGraph::unsupported_key_players`];
//! - [`StakeholderGraph::thread_counts`] / [`StakeholderGraph::single_threaded`] —
//!   regions and buying centres hanging on exactly one relationship;
//! - [`StakeholderGraph::influence_ranking`] — weighted PageRank with a stated formula;
//! - [`StakeholderGraph::strongest_paths`] — the strongest relationship path from any
//!   of our people to each decision maker and approver;
//! - [`StakeholderGraph::departure`] — what opens up when a person leaves;
//! - [`StakeholderGraph::map_status`] — red / amber / green;
//! - [`StakeholderGraph::contact_freshness`] — last contacts against a [`ContactPolicy`].
//!
//! It is **not** a CRM: it stores no history of contacts (only the last date), does no
//! I/O and reads no clock (`as_of` is passed in). Graph node indices never leave this
//! module: results name people by id, and [`StakeholderGraph::to_map`] turns a graph
//! (also one with people removed) back into records.
//!
//! ## Definitions
//!
//! - **Political power** is [`PoliticalPower`] `low < medium < high` — an ordinal
//!   judgement, deliberately not a number that suggests false precision.
//! - **Support** is [`Support`], ordered `enemy < non_supporter < neutral < supporter <
//!   mentor`; *supportive* means supporter or mentor.
//! - A **key player** is a decision maker, an approver, or anyone with high power.
//! - A key player **has a supporter** when they are supportive themself, or a supportive
//!   person influences them (an `influences` relation into them), or they report to a
//!   supportive manager.
//! - A coverage **gap** is a region × function × buying-role cell that holds at least
//!   one key player and receives no coverage relationship at all.
//! - A region or buying centre is **single-threaded** when exactly one coverage
//!   relationship reaches its people.
//! - **Map status**: red when no key player is supportive; green when every decision
//!   maker and approver (at least one) is supportive; amber otherwise.
//! - **Path strength** is the product of step strengths in (0, 1]: coverage by level
//!   (vendor 0.25, credible source 0.5, problem solver 0.75, trusted advisor 1),
//!   influence by its weight, a reports-to step (either way) 0.5 by default. The
//!   strongest path maximises the product — a max-product Dijkstra, exact in `Decimal`.
//! - **Influence** is weighted PageRank; the formula is in
//!   [`StakeholderGraph::influence_ranking`] (f64 iteration, `Decimal` scores with 12
//!   places that sum to exactly 1).
//!
//! ```
//! use kam_core::stakeholders::*;
//! use rust_decimal::Decimal;
//!
//! let map = StakeholderMap {
//!     people: vec![
//!         Person::new("cpo", "Chief Procurement Officer", "emea", "procurement",
//!                     BuyingRole::DecisionMaker, PoliticalPower::High, Support::Supporter),
//!         Person::new("buyer", "Logistics buyer", "emea", "procurement",
//!                     BuyingRole::Evaluator, PoliticalPower::Medium, Support::Mentor),
//!     ],
//!     our_people: vec![OurPerson::new("ad", "Account Director", "global account director")],
//!     relations: vec![
//!         Relation::ReportsTo { from: "buyer".into(), to: "cpo".into() },
//!         Relation::Influences { from: "buyer".into(), to: "cpo".into(), weight: Decimal::new(6, 1) },
//!     ],
//!     coverage: vec![Coverage::new("ad", "buyer", RelationshipLevel::TrustedAdvisor)],
//! };
//! let graph = map.graph()?;
//! assert_eq!(graph.map_status().status, Rag::Green);
//! let paths = graph.strongest_paths()?;
//! let to_cpo = paths[0].path.as_ref().map(|p| p.strength);
//! assert_eq!(to_cpo, Some(Decimal::new(6, 1))); // trusted advisor (1) × influence 0.6
//! # Ok::<(), StakeholderError>(())
//! ```

mod analytics;
mod graph;
mod ids;
mod pagerank;

pub use analytics::*;
pub use graph::StakeholderGraph;
pub use pagerank::{InfluenceOptions, InfluenceRanking, InfluenceScore};

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::num::ArithmeticError;

/// What is wrong with a stakeholder map, or with an analysis request on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StakeholderError {
    /// Two people (on either side) share an id.
    #[error("{path}: duplicate person id {id:?}")]
    DuplicateId {
        /// Where the second occurrence is, e.g. `our_people[2].id`.
        path: String,
        /// The repeated id.
        id: String,
    },
    /// An id is empty.
    #[error("{path}: empty id")]
    EmptyId {
        /// Where.
        path: String,
    },
    /// A relation or coverage names someone who is not on the map (or on the wrong side).
    #[error("{path}: unknown {side} {id:?}")]
    UnknownPerson {
        /// The field, e.g. `relations[4].to`.
        path: String,
        /// `"customer person"` or `"our person"`.
        side: &'static str,
        /// The id that was not found.
        id: String,
    },
    /// A relation from a person to themself.
    #[error("{path}: {kind} relation from {id:?} to itself")]
    SelfEdge {
        /// The relation, e.g. `relations[4]`.
        path: String,
        /// Relation kind.
        kind: &'static str,
        /// The person.
        id: String,
    },
    /// The same relation (or coverage pair) appears twice.
    #[error("{path}: duplicate {kind} relation between {from:?} and {to:?}")]
    DuplicateRelation {
        /// The second occurrence.
        path: String,
        /// Relation kind.
        kind: &'static str,
        /// One end.
        from: String,
        /// The other end.
        to: String,
    },
    /// `reports_to` relations form a cycle; the ids are the cycle in reporting order.
    #[error("reports-to cycle: {}", cycle.join(" → "))]
    ReportsToCycle {
        /// `a → b → … → a`.
        cycle: Vec<String>,
    },
    /// A weight or parameter is outside its range.
    #[error("{path}: {value} is outside {range}")]
    OutOfRange {
        /// The field, e.g. `relations[3].weight` or `options.damping`.
        path: String,
        /// The offending value.
        value: Decimal,
        /// The allowed range, e.g. `(0, 1]`.
        range: &'static str,
    },
    /// A person's region is not a node of the account.
    #[error("{path}: unknown account node {id:?}")]
    UnknownRegion {
        /// e.g. `people[7].region`.
        path: String,
        /// The id.
        id: String,
    },
    /// A person names a buying centre the account does not have.
    #[error("{path}: unknown buying centre {id:?}")]
    UnknownBuyingCentre {
        /// e.g. `people[7].buying_centres[0]`.
        path: String,
        /// The id.
        id: String,
    },
    /// An analysis names a person that is not in the graph.
    #[error("no person {id:?} in the stakeholder graph")]
    NotInGraph {
        /// The id.
        id: String,
    },
    /// The account the map is checked against is itself invalid.
    #[error("account: {0}")]
    Account(#[from] crate::account::StructureError),
    /// Checked arithmetic failed.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

/// A person's part in a buying decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyingRole {
    /// Uses the service day to day (a warehouse manager, a plant logistics lead).
    User,
    /// Evaluates offers (procurement, engineering, quality).
    Evaluator,
    /// Makes the decision.
    DecisionMaker,
    /// Signs it off (budget holder, board member).
    Approver,
}

impl BuyingRole {
    /// All roles, in order.
    pub const ALL: [BuyingRole; 4] = [
        BuyingRole::User,
        BuyingRole::Evaluator,
        BuyingRole::DecisionMaker,
        BuyingRole::Approver,
    ];
}

impl fmt::Display for BuyingRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuyingRole::User => "user",
            BuyingRole::Evaluator => "evaluator",
            BuyingRole::DecisionMaker => "decision maker",
            BuyingRole::Approver => "approver",
        })
    }
}

/// How much weight a person carries in the customer's organisation (an ordinal judgement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoliticalPower {
    /// Little say beyond their own job.
    Low,
    /// Heard on decisions in their area.
    Medium,
    /// Shapes decisions beyond their formal role.
    High,
}

/// A person's stance towards us, ordered from `Enemy` (lowest) to `Mentor` (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// Works against us, e.g. backs a competitor.
    Enemy,
    /// Prefers another option.
    NonSupporter,
    /// No stance yet.
    Neutral,
    /// Favours us.
    Supporter,
    /// Favours us and coaches us through the organisation.
    Mentor,
}

impl Support {
    /// Supporter or mentor.
    pub fn is_supportive(self) -> bool {
        self >= Support::Supporter
    }
}

/// How one of our people stands with one of theirs, ordered from `Vendor` (lowest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipLevel {
    /// Seen as a supplier of a commodity.
    Vendor,
    /// Trusted for accurate information.
    CredibleSource,
    /// Brought in to solve operational problems.
    ProblemSolver,
    /// Consulted on strategy before decisions are made.
    TrustedAdvisor,
}

impl RelationshipLevel {
    /// The strength of a coverage edge in path analysis: vendor 0.25, credible source
    /// 0.5, problem solver 0.75, trusted advisor 1.
    pub fn strength(self) -> Decimal {
        match self {
            RelationshipLevel::Vendor => Decimal::new(25, 2),
            RelationshipLevel::CredibleSource => Decimal::new(5, 1),
            RelationshipLevel::ProblemSolver => Decimal::new(75, 2),
            RelationshipLevel::TrustedAdvisor => Decimal::ONE,
        }
    }
}

/// A person in the customer's organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Unique id (unique across both sides of the map).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Job title.
    #[serde(default)]
    pub title: String,
    /// The account node (region, country or site id) the person works for.
    pub region: String,
    /// Business function, e.g. `"procurement"`, `"supply chain"`, `"finance"`.
    pub function: String,
    /// Part in the buying decision.
    pub buying_role: BuyingRole,
    /// Political power.
    pub power: PoliticalPower,
    /// Stance towards us.
    pub support: Support,
    /// Date of the last meaningful contact, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<NaiveDate>,
    /// Buying centres (account buying-centre ids) the person belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buying_centres: Vec<String>,
}

impl Person {
    /// A person with an empty title, no last contact and no buying centre.
    pub fn new(
        id: &str,
        name: &str,
        region: &str,
        function: &str,
        buying_role: BuyingRole,
        power: PoliticalPower,
        support: Support,
    ) -> Self {
        Person {
            id: id.to_owned(),
            name: name.to_owned(),
            title: String::new(),
            region: region.to_owned(),
            function: function.to_owned(),
            buying_role,
            power,
            support,
            last_contact: None,
            buying_centres: Vec::new(),
        }
    }

    /// Decision maker, approver, or high power.
    pub fn is_key_player(&self) -> bool {
        matches!(self.buying_role, BuyingRole::DecisionMaker | BuyingRole::Approver)
            || self.power == PoliticalPower::High
    }
}

/// One of our people (account director, regional account manager, site manager…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OurPerson {
    /// Unique id (unique across both sides of the map).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Role in the account team.
    #[serde(default)]
    pub role: String,
}

impl OurPerson {
    /// One of our people.
    pub fn new(id: &str, name: &str, role: &str) -> Self {
        OurPerson {
            id: id.to_owned(),
            name: name.to_owned(),
            role: role.to_owned(),
        }
    }
}

/// A relation between two customer people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Relation {
    /// `from` reports to `to` (a person may have more than one manager, e.g. a dotted
    /// line, but the reporting lines may not form a cycle).
    ReportsTo {
        /// The report.
        from: String,
        /// The manager.
        to: String,
    },
    /// `from` influences `to`'s decisions with a weight in (0, 1].
    Influences {
        /// The influencer.
        from: String,
        /// The influenced.
        to: String,
        /// How strongly, in (0, 1].
        weight: Decimal,
    },
    /// `from` and `to` are in conflict (symmetric).
    ConflictsWith {
        /// One party.
        from: String,
        /// The other party.
        to: String,
    },
}

impl Relation {
    /// `"reports_to"`, `"influences"` or `"conflicts_with"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Relation::ReportsTo { .. } => "reports_to",
            Relation::Influences { .. } => "influences",
            Relation::ConflictsWith { .. } => "conflicts_with",
        }
    }

    /// The two ends, `(from, to)`.
    pub fn ends(&self) -> (&str, &str) {
        match self {
            Relation::ReportsTo { from, to }
            | Relation::Influences { from, to, .. }
            | Relation::ConflictsWith { from, to } => (from, to),
        }
    }
}

/// One of our people's relationship with a customer person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Our person's id.
    pub ours: String,
    /// The customer person's id.
    pub theirs: String,
    /// How the customer person sees ours.
    pub level: RelationshipLevel,
}

impl Coverage {
    /// A coverage record.
    pub fn new(ours: &str, theirs: &str, level: RelationshipLevel) -> Self {
        Coverage {
            ours: ours.to_owned(),
            theirs: theirs.to_owned(),
            level,
        }
    }
}

/// The stakeholder map as stored: records with ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeholderMap {
    /// The customer's people.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Our account team.
    #[serde(default)]
    pub our_people: Vec<OurPerson>,
    /// Relations among the customer's people.
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// Our people's relationships with theirs.
    #[serde(default)]
    pub coverage: Vec<Coverage>,
}

impl StakeholderMap {
    /// Validates the map and builds the graph.
    ///
    /// # Errors
    /// Empty or duplicate ids, relations or coverage naming unknown people (or people
    /// on the wrong side), self-edges, duplicate relations, a reports-to cycle, an
    /// influence weight outside (0, 1].
    pub fn graph(&self) -> Result<StakeholderGraph, StakeholderError> {
        StakeholderGraph::build_borrowed(self, None)
    }

    /// Like [`StakeholderMap::graph`], moving the records into the graph instead of
    /// copying them.
    ///
    /// # Errors
    /// As [`StakeholderMap::graph`].
    pub fn into_graph(self) -> Result<StakeholderGraph, StakeholderError> {
        StakeholderGraph::build(self, None)
    }

    /// Like [`StakeholderMap::graph`], and also checks every person's region and buying
    /// centres against `account`; people are then grouped by the *region* their node
    /// belongs to (a person at site `leipzig` counts for `emea`; one at the global node
    /// stays global).
    ///
    /// # Errors
    /// Everything [`StakeholderMap::graph`] rejects, an invalid account, a region that is
    /// not an account node, a buying centre the account does not have.
    pub fn graph_for_account(
        &self,
        account: &crate::account::Account,
    ) -> Result<StakeholderGraph, StakeholderError> {
        StakeholderGraph::build_borrowed(self, Some(account))
    }
}

/// A seeded stream of numbers below a bound, for the randomized tests of this module's
/// analyses (a 64-bit LCG: the same maps on every run and platform).
#[cfg(test)]
fn test_numbers(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    }
}
