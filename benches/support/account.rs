//! The account tree the benchmarks build on: global → regions → countries → sites.
#![allow(dead_code)]

use kam::core::account::{AccountNode, NodeLevel};

/// Nodes of a regular tree with ids `r{r}`, `r{r}c{c}` and `r{r}c{c}s{s}`, parents before
/// children.
pub fn tree(regions: usize, countries_per_region: usize, sites_per_country: usize) -> Vec<AccountNode> {
    let mut nodes = vec![AccountNode::new("global", "Global", NodeLevel::Global, None)];
    for r in 0..regions {
        let region = format!("r{r}");
        nodes.push(AccountNode::new(
            &region,
            &region,
            NodeLevel::Region,
            Some("global"),
        ));
        for c in 0..countries_per_region {
            let country = format!("{region}c{c}");
            nodes.push(AccountNode::new(
                &country,
                &country,
                NodeLevel::Country,
                Some(&region),
            ));
            for s in 0..sites_per_country {
                let site = format!("{country}s{s}");
                nodes.push(AccountNode::new(&site, &site, NodeLevel::Site, Some(&country)));
            }
        }
    }
    nodes
}

/// The ids of the nodes at `level`, in tree order.
pub fn ids_at(nodes: &[AccountNode], level: NodeLevel) -> Vec<String> {
    nodes
        .iter()
        .filter(|n| n.level == level)
        .map(|n| n.id.clone())
        .collect()
}
