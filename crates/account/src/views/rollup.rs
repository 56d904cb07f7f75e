//! The scorecard rolled up site → country → region → global (`kam scorecard --rollup`):
//! each site scored on the template, then weighted by its revenue in the period — the
//! denominator of its `cost_to_serve_pct` observation (cost ÷ revenue) — with the
//! engine's weights and N/A rule (a site not scored carries no weight).

use kam_core::scorecard::{NodeScore, RollupBasis, SiteScore, roll_up_scores};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;

/// `kam scorecard --rollup`.
#[derive(Debug, Serialize)]
pub struct Rollup {
    /// The period scored.
    pub period: String,
    /// Every node in tree order: the account, then each region followed by its
    /// countries and their sites.
    pub nodes: Vec<NodeScore>,
}

/// Scores every site in the latest period and rolls the scores up by revenue.
///
/// # Errors
/// No scorecard or observations; a scoring error.
pub fn rollup(account: &Account, plugins: &Plugins) -> Result<Rollup, AccountError> {
    let template = account.need(&account.scorecard, "scorecard.toml", "the scorecard roll-up")?;
    let data = account.kpi_data("the scorecard roll-up")?;
    let structure = account.need(&account.structure, "account.toml", "the scorecard roll-up")?;
    let hierarchy = structure
        .hierarchy()
        .map_err(|e| account.error_in("account.toml", None, e))?;
    let period = data
        .periods
        .last()
        .cloned()
        .ok_or_else(|| AccountError::invalid("no KPI observations"))?;
    let mut sites = Vec::new();
    for s in &data.sites {
        let sheet = template
            .score_node(&data.library, &data.rolled, s, &period, plugins.scoring())
            .map_err(|e| plugins.locate(account.error_in("scorecard.toml", None, e)))?;
        let revenue = data
            .rolled
            .components(s, "cost_to_serve_pct", &period)
            .ok()
            .flatten()
            .map_or(Decimal::ZERO, |o| o.denominator);
        let scored = sheet.measures.iter().any(|m| m.score.is_some());
        sites.push(SiteScore {
            site: s.clone(),
            score: scored.then_some(sheet.overall),
            revenue,
            volume: Decimal::ZERO,
        });
    }
    let mut by_id: std::collections::HashMap<String, NodeScore> =
        roll_up_scores(&hierarchy, &sites, RollupBasis::Revenue)
            .map_err(|e| account.error_in("scorecard.toml", None, e))?
            .into_iter()
            .map(|mut n| {
                n.score = n.score.map(|s| s.round_dp(4));
                (n.node.clone(), n)
            })
            .collect();
    let mut nodes = Vec::with_capacity(by_id.len());
    let mut stack = vec![hierarchy.root().to_owned()];
    while let Some(id) = stack.pop() {
        let mut children: Vec<&str> = hierarchy.children(&id);
        children.reverse();
        stack.extend(children.into_iter().map(str::to_owned));
        if let Some(n) = by_id.remove(&id) {
            nodes.push(n);
        }
    }
    Ok(Rollup { period, nodes })
}
