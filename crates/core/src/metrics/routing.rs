//! Who owns an alert: a routing table of (KPIs, nodes, level) → owner, first match
//! wins, with a fallback, so every problem has an owner.
//!
//! A route's `nodes` match the node itself and everything below it (`emea` routes EMEA,
//! its countries and its sites); an empty list matches every node, as an empty `kpis`
//! list matches every KPI; `level` narrows to one level of the hierarchy. The table is
//! compiled once against the hierarchy ([`RoutingTable::compile`]), after which finding
//! an owner is a hash lookup and a scan of the routes.
//!
//! ```
//! use kam_core::account::{Account, AccountNode, NodeLevel};
//! use kam_core::metrics::routing::{Route, RoutingTable};
//!
//! let account = Account {
//!     id: "oem".into(), name: "OEM".into(), service_lines: vec![], buying_centres: vec![],
//!     nodes: vec![
//!         AccountNode::new("global", "Global", NodeLevel::Global, None),
//!         AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
//!         AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("emea")),
//!     ],
//! };
//! let table = RoutingTable {
//!     routes: vec![
//!         Route { kpis: vec!["otif_order_commit".into()], nodes: vec![], level: Some(NodeLevel::Site), owner: "ops-emea".into() },
//!         Route { kpis: vec![], nodes: vec!["emea".into()], level: None, owner: "am-emea".into() },
//!     ],
//!     fallback: "ad".into(),
//! };
//! let hierarchy = account.hierarchy()?;
//! let router = table.compile(&hierarchy);
//! assert_eq!(router.owner("leipzig", "otif_order_commit"), ("ops-emea", Some(0)));
//! assert_eq!(router.owner("emea", "otif_order_commit"), ("am-emea", Some(1)));
//! assert_eq!(router.owner("global", "margin_pct"), ("ad", None));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use super::problem::FxMap;
use crate::account::{Hierarchy, NodeLevel};

/// One route: alerts of these KPIs at these nodes go to `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// KPI ids (empty: every KPI).
    #[serde(default)]
    pub kpis: Vec<String>,
    /// Nodes, each with everything below it (empty: every node).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Only nodes of this level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<NodeLevel>,
    /// Who owns the alert.
    pub owner: String,
}

/// Routes in order (first match wins) and the owner of anything no route matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingTable {
    /// The routes.
    pub routes: Vec<Route>,
    /// The owner when no route matches.
    pub fallback: String,
}

/// A [`RoutingTable`] compiled against a hierarchy.
#[derive(Debug, Clone)]
pub struct Router<'a> {
    table: &'a RoutingTable,
    nodes: FxMap<&'a str, usize>,
    /// `matches[node * routes + route]`: whether the route's nodes and level take the node.
    matches: Vec<bool>,
}

impl RoutingTable {
    /// Compiles the table for `hierarchy`: which route's nodes and level take which node.
    /// Node ids the hierarchy does not have match nothing.
    pub fn compile<'a>(&'a self, hierarchy: &'a Hierarchy) -> Router<'a> {
        let ids = hierarchy.bottom_up();
        let nr = self.routes.len();
        let mut matches = vec![false; ids.len() * nr];
        let mut nodes = FxMap::default();
        nodes.reserve(ids.len());
        for (n, id) in ids.iter().enumerate() {
            nodes.insert(*id, n);
            let ancestors = hierarchy.ancestors(id);
            let level = hierarchy.level(id);
            for (r, route) in self.routes.iter().enumerate() {
                let node_ok = route.nodes.is_empty()
                    || route
                        .nodes
                        .iter()
                        .any(|x| x == id || ancestors.iter().any(|a| a == x));
                let level_ok = route.level.is_none() || route.level == level;
                if let Some(m) = matches.get_mut(n * nr + r) {
                    *m = node_ok && level_ok;
                }
            }
        }
        Router {
            table: self,
            nodes,
            matches,
        }
    }
}

impl<'a> Router<'a> {
    /// The owner of an alert of `kpi` at `node`, and the index of the route that
    /// matched (`None`: the fallback).
    pub fn owner(&self, node: &str, kpi: &str) -> (&'a str, Option<usize>) {
        let nr = self.table.routes.len();
        if let Some(&n) = self.nodes.get(node) {
            for (r, route) in self.table.routes.iter().enumerate() {
                if self.matches.get(n * nr + r).copied().unwrap_or(false)
                    && (route.kpis.is_empty() || route.kpis.iter().any(|k| k == kpi))
                {
                    return (route.owner.as_str(), Some(r));
                }
            }
        }
        (self.table.fallback.as_str(), None)
    }
}
