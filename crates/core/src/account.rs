//! The customer account: its hierarchy (global → region → country → site), the service
//! lines we sell into it, and its buying centres.
//!
//! An [`Account`] is plain data (serde records with string ids). [`Account::hierarchy`]
//! validates it once and returns a [`Hierarchy`] index that plans, metrics and scorecards
//! use to roll figures up from sites to regions to the global account.
//!
//! ```
//! use kam_core::account::{Account, AccountNode, NodeLevel};
//!
//! let account = Account {
//!     id: "oem".into(),
//!     name: "Global OEM".into(),
//!     nodes: vec![
//!         AccountNode::new("global", "Global", NodeLevel::Global, None),
//!         AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
//!         AccountNode::new("de", "Germany", NodeLevel::Country, Some("emea")),
//!         AccountNode::new("leipzig", "Leipzig plant", NodeLevel::Site, Some("de")),
//!     ],
//!     service_lines: vec![],
//!     buying_centres: vec![],
//! };
//! let h = account.hierarchy()?;
//! assert_eq!(h.region_of("leipzig"), Some("emea"));
//! assert_eq!(h.sites_under("global"), vec!["leipzig"]);
//! # Ok::<(), kam_core::account::StructureError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What is wrong with an account's structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StructureError {
    /// Two nodes (or buying centres) share an id.
    #[error("duplicate {what} id {id:?}")]
    DuplicateId {
        /// `"node"` or `"buying centre"`.
        what: &'static str,
        /// The repeated id.
        id: String,
    },
    /// A node names a parent that does not exist.
    #[error("node {node:?}: unknown parent {parent:?}")]
    UnknownParent {
        /// The child node.
        node: String,
        /// The missing parent id.
        parent: String,
    },
    /// A node's parent is not at a higher level (e.g. a region under a site).
    #[error("node {node:?} ({level}) cannot sit under {parent:?} ({parent_level})")]
    LevelOrder {
        /// The child node.
        node: String,
        /// Its level.
        level: NodeLevel,
        /// The parent node.
        parent: String,
        /// The parent's level.
        parent_level: NodeLevel,
    },
    /// The hierarchy needs exactly one global node, without a parent.
    #[error("the account needs exactly one global node without a parent, found {found}")]
    GlobalRoot {
        /// How many parentless global nodes there are.
        found: usize,
    },
    /// A node other than the global root has no parent.
    #[error("node {node:?} ({level}) has no parent")]
    MissingParent {
        /// The orphan.
        node: String,
        /// Its level.
        level: NodeLevel,
    },
    /// A buying centre points at an unknown node.
    #[error("buying centre {centre:?}: unknown account node {node:?}")]
    UnknownNode {
        /// The buying centre.
        centre: String,
        /// The missing node id.
        node: String,
    },
}

/// A level of the account hierarchy, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeLevel {
    /// The whole global account.
    Global,
    /// A region (EMEA, Americas, APAC, China…).
    Region,
    /// A country within a region.
    Country,
    /// A plant, warehouse or distribution centre.
    Site,
}

impl fmt::Display for NodeLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeLevel::Global => "global",
            NodeLevel::Region => "region",
            NodeLevel::Country => "country",
            NodeLevel::Site => "site",
        })
    }
}

/// One node of the account hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountNode {
    /// Unique id, e.g. `"leipzig"`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Level in the hierarchy.
    pub level: NodeLevel,
    /// The parent node's id; `None` only for the global node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl AccountNode {
    /// A node from its parts.
    pub fn new(id: &str, name: &str, level: NodeLevel, parent: Option<&str>) -> Self {
        AccountNode {
            id: id.to_owned(),
            name: name.to_owned(),
            level,
            parent: parent.map(str::to_owned),
        }
    }
}

/// A contract logistics service line. Serialized as its snake_case name; any other name
/// is a custom service line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceLine {
    /// Warehousing and distribution.
    Warehousing,
    /// Inbound-to-manufacturing (sequencing, line feeding, JIT/JIS).
    InboundToManufacturing,
    /// Reverse logistics and repair.
    ReverseAndRepair,
    /// Export packing (CKD/SKD kits, seaworthy packing).
    ExportPacking,
    /// Aftermarket (spare parts) logistics.
    Aftermarket,
    /// Order fulfilment.
    Fulfilment,
    /// Transport management and freight.
    Transport,
    /// Anything else, by name.
    Custom(String),
}

impl ServiceLine {
    /// The seven standard service lines.
    pub const STANDARD: [ServiceLine; 7] = [
        ServiceLine::Warehousing,
        ServiceLine::InboundToManufacturing,
        ServiceLine::ReverseAndRepair,
        ServiceLine::ExportPacking,
        ServiceLine::Aftermarket,
        ServiceLine::Fulfilment,
        ServiceLine::Transport,
    ];

    /// The snake_case name used in files and scripts.
    pub fn as_str(&self) -> &str {
        match self {
            ServiceLine::Warehousing => "warehousing",
            ServiceLine::InboundToManufacturing => "inbound_to_manufacturing",
            ServiceLine::ReverseAndRepair => "reverse_and_repair",
            ServiceLine::ExportPacking => "export_packing",
            ServiceLine::Aftermarket => "aftermarket",
            ServiceLine::Fulfilment => "fulfilment",
            ServiceLine::Transport => "transport",
            ServiceLine::Custom(name) => name,
        }
    }
}

impl FromStr for ServiceLine {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ServiceLine::STANDARD
            .iter()
            .find(|l| l.as_str() == s)
            .cloned()
            .unwrap_or_else(|| ServiceLine::Custom(s.to_owned())))
    }
}

impl fmt::Display for ServiceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ServiceLine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(name.parse().unwrap_or(ServiceLine::Custom(name)))
    }
}

/// A buying centre: the group of customer people who decide on a kind of purchase at a
/// node (e.g. "EMEA inbound logistics").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyingCentre {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The account node it buys for.
    pub node: String,
    /// The service lines it buys.
    #[serde(default)]
    pub service_lines: Vec<ServiceLine>,
}

/// A customer account: hierarchy, service lines, buying centres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Unique id.
    pub id: String,
    /// Customer name.
    pub name: String,
    /// Hierarchy nodes, any order.
    pub nodes: Vec<AccountNode>,
    /// Service lines in scope.
    #[serde(default)]
    pub service_lines: Vec<ServiceLine>,
    /// Buying centres.
    #[serde(default)]
    pub buying_centres: Vec<BuyingCentre>,
}

impl Account {
    /// Validates the structure and indexes the hierarchy.
    ///
    /// # Errors
    /// Duplicate ids, unknown or missing parents, a parent not above its child, not
    /// exactly one global root, or a buying centre at an unknown node.
    pub fn hierarchy(&self) -> Result<Hierarchy, StructureError> {
        Hierarchy::build(self)
    }
}

/// A validated, indexed account hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    ids: Vec<String>,
    levels: Vec<NodeLevel>,
    parents: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    index: HashMap<String, usize>,
    root: usize,
}

impl Hierarchy {
    fn build(account: &Account) -> Result<Self, StructureError> {
        let mut index = HashMap::with_capacity(account.nodes.len());
        for (i, n) in account.nodes.iter().enumerate() {
            if index.insert(n.id.clone(), i).is_some() {
                return Err(StructureError::DuplicateId {
                    what: "node",
                    id: n.id.clone(),
                });
            }
        }
        let mut parents = Vec::with_capacity(account.nodes.len());
        let mut children = vec![Vec::new(); account.nodes.len()];
        let mut roots = Vec::new();
        for (i, n) in account.nodes.iter().enumerate() {
            match &n.parent {
                None if n.level == NodeLevel::Global => {
                    roots.push(i);
                    parents.push(None);
                }
                None => {
                    return Err(StructureError::MissingParent {
                        node: n.id.clone(),
                        level: n.level,
                    });
                }
                Some(p) => {
                    let &pi = index.get(p).ok_or_else(|| StructureError::UnknownParent {
                        node: n.id.clone(),
                        parent: p.clone(),
                    })?;
                    let parent_level = account.nodes[pi].level;
                    // Strictly increasing levels down the tree also rule out cycles.
                    if parent_level >= n.level {
                        return Err(StructureError::LevelOrder {
                            node: n.id.clone(),
                            level: n.level,
                            parent: p.clone(),
                            parent_level,
                        });
                    }
                    children[pi].push(i);
                    parents.push(Some(pi));
                }
            }
        }
        let [root] = roots[..] else {
            return Err(StructureError::GlobalRoot { found: roots.len() });
        };
        let mut centres = std::collections::HashSet::new();
        for c in &account.buying_centres {
            if !centres.insert(c.id.as_str()) {
                return Err(StructureError::DuplicateId {
                    what: "buying centre",
                    id: c.id.clone(),
                });
            }
            if !index.contains_key(&c.node) {
                return Err(StructureError::UnknownNode {
                    centre: c.id.clone(),
                    node: c.node.clone(),
                });
            }
        }
        Ok(Hierarchy {
            ids: account.nodes.iter().map(|n| n.id.clone()).collect(),
            levels: account.nodes.iter().map(|n| n.level).collect(),
            parents,
            children,
            index,
            root,
        })
    }

    /// Whether `id` is a node.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The global node's id.
    pub fn root(&self) -> &str {
        &self.ids[self.root]
    }

    /// A node's level.
    pub fn level(&self, id: &str) -> Option<NodeLevel> {
        self.index.get(id).map(|&i| self.levels[i])
    }

    /// A node's parent (`None` for the root or an unknown id).
    pub fn parent(&self, id: &str) -> Option<&str> {
        let &i = self.index.get(id)?;
        self.parents[i].map(|p| self.ids[p].as_str())
    }

    /// A node's direct children, in file order.
    pub fn children(&self, id: &str) -> Vec<&str> {
        self.index
            .get(id)
            .map(|&i| self.children[i].iter().map(|&c| self.ids[c].as_str()).collect())
            .unwrap_or_default()
    }

    /// The node's ancestors, nearest first, up to and including the root.
    pub fn ancestors(&self, id: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = self.index.get(id).and_then(|&i| self.parents[i]);
        while let Some(p) = cur {
            out.push(self.ids[p].as_str());
            cur = self.parents[p];
        }
        out
    }

    /// The region a node belongs to (itself if it is a region); `None` for the root.
    pub fn region_of(&self, id: &str) -> Option<&str> {
        if self.level(id) == Some(NodeLevel::Region) {
            return self.index.get(id).map(|&i| self.ids[i].as_str());
        }
        self.ancestors(id)
            .into_iter()
            .find(|a| self.level(a) == Some(NodeLevel::Region))
    }

    /// Every site at or below `id`, depth first in file order.
    pub fn sites_under(&self, id: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.index.get(id).copied().into_iter().collect();
        while let Some(i) = stack.pop() {
            if self.levels[i] == NodeLevel::Site {
                out.push(self.ids[i].as_str());
            }
            stack.extend(self.children[i].iter().rev());
        }
        out
    }

    /// All node ids ordered so every node comes after all its descendants (children
    /// before parents): the order in which to roll figures up.
    pub fn bottom_up(&self) -> Vec<&str> {
        let mut order = Vec::with_capacity(self.ids.len());
        let mut stack = vec![(self.root, false)];
        while let Some((i, expanded)) = stack.pop() {
            if expanded {
                order.push(self.ids[i].as_str());
            } else {
                stack.push((i, true));
                stack.extend(self.children[i].iter().rev().map(|&c| (c, false)));
            }
        }
        order
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no nodes (never true for a validated hierarchy).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Account {
        Account {
            id: "oem".into(),
            name: "OEM".into(),
            nodes: vec![
                AccountNode::new("global", "Global", NodeLevel::Global, None),
                AccountNode::new("emea", "EMEA", NodeLevel::Region, Some("global")),
                AccountNode::new("apac", "APAC", NodeLevel::Region, Some("global")),
                AccountNode::new("de", "Germany", NodeLevel::Country, Some("emea")),
                AccountNode::new("leipzig", "Leipzig", NodeLevel::Site, Some("de")),
                AccountNode::new("bremen", "Bremen", NodeLevel::Site, Some("de")),
                AccountNode::new("pune", "Pune", NodeLevel::Site, Some("apac")),
            ],
            service_lines: vec![ServiceLine::Warehousing, ServiceLine::Custom("yard".into())],
            buying_centres: vec![BuyingCentre {
                id: "emea-inbound".into(),
                name: "EMEA inbound".into(),
                node: "emea".into(),
                service_lines: vec![ServiceLine::InboundToManufacturing],
            }],
        }
    }

    #[test]
    fn navigation() {
        let h = sample().hierarchy().unwrap();
        assert_eq!(h.root(), "global");
        assert_eq!(h.ancestors("leipzig"), vec!["de", "emea", "global"]);
        assert_eq!(h.region_of("pune"), Some("apac"));
        assert_eq!(h.region_of("emea"), Some("emea"));
        assert_eq!(h.region_of("global"), None);
        assert_eq!(h.sites_under("emea"), vec!["leipzig", "bremen"]);
        assert_eq!(h.sites_under("global"), vec!["leipzig", "bremen", "pune"]);
        let order = h.bottom_up();
        assert_eq!(order.len(), 7);
        let pos = |id: &str| order.iter().position(|x| *x == id).unwrap();
        for id in ["emea", "apac", "de", "leipzig", "bremen", "pune"] {
            let parent = h.parent(id).unwrap();
            assert!(pos(id) < pos(parent), "{id} before {parent}");
        }
    }

    #[test]
    fn structural_errors() {
        let mut a = sample();
        a.nodes
            .push(AccountNode::new("pune", "dup", NodeLevel::Site, Some("apac")));
        assert!(matches!(a.hierarchy(), Err(StructureError::DuplicateId { .. })));

        let mut a = sample();
        a.nodes
            .push(AccountNode::new("x", "x", NodeLevel::Site, Some("nowhere")));
        assert!(matches!(a.hierarchy(), Err(StructureError::UnknownParent { .. })));

        let mut a = sample();
        a.nodes
            .push(AccountNode::new("x", "x", NodeLevel::Region, Some("leipzig")));
        assert!(matches!(a.hierarchy(), Err(StructureError::LevelOrder { .. })));

        let mut a = sample();
        a.nodes
            .push(AccountNode::new("g2", "g2", NodeLevel::Global, None));
        assert_eq!(a.hierarchy().err(), Some(StructureError::GlobalRoot { found: 2 }));

        let mut a = sample();
        a.buying_centres[0].node = "mars".into();
        assert!(matches!(a.hierarchy(), Err(StructureError::UnknownNode { .. })));
    }

    #[test]
    fn serde_round_trip() {
        let a = sample();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Account>(&json).unwrap(), a);
        let toml_text = toml::to_string(&a).unwrap();
        assert_eq!(toml::from_str::<Account>(&toml_text).unwrap(), a);
        assert!(json.contains("\"inbound_to_manufacturing\""));
    }
}
