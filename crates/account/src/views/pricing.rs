//! The proposal priced against the baseline (`kam price`) and the negotiation analysis
//! (`kam negotiate`), both from `pricing.toml`'s cards and cost model.

use kam_core::negotiation::{MarginFloor, NegotiationError, PackageGrid, frontier, zone};
use kam_core::pricing::{self, Volumes};
use kam_core::rules::PricingRule;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;
use crate::rules;

/// One activity priced on both cards.
#[derive(Debug, Serialize)]
pub struct PriceLine {
    /// Activity.
    pub activity: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Baseline amount.
    pub baseline: Decimal,
    /// Proposal amount.
    pub proposal: Decimal,
    /// Proposal − baseline.
    pub delta: Decimal,
    /// How the proposal line was priced.
    pub explanation: String,
}

/// A contribution-margin layer of a priced revenue (CM1, CM2, CM3).
#[derive(Debug, Serialize)]
pub struct MarginLayer {
    /// CM1 / CM2 / CM3.
    pub layer: String,
    /// Cost in the layer.
    pub cost: Decimal,
    /// Margin after it.
    pub margin: Decimal,
    /// Margin % of revenue.
    pub margin_pct: Option<Decimal>,
}

/// `kam price`: the proposal against the baseline.
#[derive(Debug, Serialize)]
pub struct PriceReport {
    /// Node priced.
    pub node: String,
    /// Service line.
    pub service_line: String,
    /// Period.
    pub period: String,
    /// Currency.
    pub currency: String,
    /// Per activity.
    pub lines: Vec<PriceLine>,
    /// Baseline total.
    pub baseline_total: Decimal,
    /// Proposal total before rule adjustments.
    pub proposal_total: Decimal,
    /// Rule adjustment lines (label, amount).
    pub adjustments: Vec<(String, Decimal)>,
    /// Proposal after adjustments.
    pub proposal_net: Decimal,
    /// Proposal net − baseline.
    pub delta: Decimal,
    /// Delta % of baseline.
    pub delta_pct: Option<Decimal>,
    /// Contribution of the proposal: CM1–CM3.
    pub contribution: Vec<MarginLayer>,
    /// Contribution of the baseline's revenue, for comparison.
    pub baseline_contribution: Vec<MarginLayer>,
    /// Pricing warnings.
    pub warnings: Vec<String>,
}

impl PriceReport {
    /// The proposal's margin % after every cost layer (CM3), if revenue is not zero.
    pub fn proposal_margin_pct(&self) -> Option<Decimal> {
        self.contribution.last().and_then(|l| l.margin_pct)
    }
}

fn layers(revenue: Decimal, costs: &[Decimal; 3]) -> Result<Vec<MarginLayer>, AccountError> {
    let c = pricing::contribution(revenue, costs).map_err(AccountError::domain)?;
    Ok(c.into_iter()
        .enumerate()
        .map(|(i, l)| MarginLayer {
            layer: format!("CM{}", i + 1),
            cost: l.cost,
            margin: l.margin,
            margin_pct: l.margin_pct,
        })
        .collect())
}

/// Prices `pricing.toml` (its volumes, or `volumes` if given) on both cards, and applies
/// the manifest's Rhai pricing rules, then `plugins`' pricing plugins, to the proposal.
///
/// # Errors
/// No pricing.toml; an activity neither card prices; a rule or plugin that fails (the
/// plugin's error is located at its kam.toml entry).
pub fn price(
    account: &Account,
    volumes: Option<&Volumes>,
    plugins: &Plugins,
) -> Result<PriceReport, AccountError> {
    let name = "pricing.toml";
    let pf = account.need(&account.pricing, name, "pricing")?;
    let vols = volumes.unwrap_or(&pf.volumes);
    let cmp = pricing::compare(&pf.baseline, &pf.proposal, vols.iter())
        .map_err(|e| account.error_in(name, None, e))?;
    let mut proposal = cmp.proposal.clone();
    let loaded = rules::pricing(account)?;
    let rules: Vec<&dyn PricingRule> = loaded
        .iter()
        .map(|r| r as &dyn PricingRule)
        .chain(plugins.pricing())
        .collect();
    proposal
        .apply_rules(&rules)
        .map_err(|e| plugins.locate(AccountError::domain(e)))?;
    let costs = pf
        .cost_model
        .cost_layers(vols.iter().map(|(k, v)| (k.as_str(), *v)))
        .map_err(|e| account.error_in(name, Some("[cost_model]"), e))?;
    let net = proposal.total().amount();
    let base = cmp.baseline.total().amount();
    let lines = cmp
        .lines
        .iter()
        .map(|l| PriceLine {
            activity: l.activity.clone(),
            quantity: vols.get(&l.activity).copied().unwrap_or_default(),
            baseline: l.baseline,
            proposal: l.proposal,
            delta: l.delta,
            explanation: cmp
                .proposal
                .line(&l.activity)
                .map(|q| q.explanation.clone())
                .unwrap_or_default(),
        })
        .collect();
    let delta = net - base;
    Ok(PriceReport {
        node: pf.node.clone(),
        service_line: pf.service_line.clone(),
        period: pf.period.clone(),
        currency: cmp.currency.to_string(),
        lines,
        baseline_total: base,
        proposal_total: cmp.proposal.total().amount(),
        adjustments: proposal
            .adjustments()
            .iter()
            .map(|a| (format!("{} ({})", a.label, a.rule), a.amount.amount()))
            .collect(),
        proposal_net: net,
        delta,
        delta_pct: (!base.is_zero()).then(|| (delta / base * Decimal::ONE_HUNDRED).round_dp(2)),
        contribution: layers(net, &costs)?,
        baseline_contribution: layers(base, &costs)?,
        warnings: cmp
            .baseline
            .warning_messages()
            .into_iter()
            .map(|w| format!("baseline: {w}"))
            .chain(
                cmp.proposal
                    .warning_messages()
                    .into_iter()
                    .map(|w| format!("proposal: {w}")),
            )
            .collect(),
    })
}

/// `kam negotiate`.
#[derive(Debug, Serialize)]
pub struct NegotiationReport {
    /// The price issue.
    pub price_issue: String,
    /// Full cost per unit from the cost model at the contract volume.
    pub unit_cost: Decimal,
    /// Minimum margin %.
    pub min_margin_pct: Decimal,
    /// Lowest price that keeps the margin floor (our walk-away).
    pub floor_price: Decimal,
    /// The customer's walk-away price (BATNA price + switching cost), if described.
    pub buyer_walk_away: Option<Decimal>,
    /// Price ZOPA (low, high, width), if any.
    pub price_zopa: Option<(Decimal, Decimal, Decimal)>,
    /// Packages in the grid.
    pub packages: u64,
    /// Pareto-optimal packages.
    pub frontier: usize,
    /// Packages acceptable to both sides on the frontier.
    pub zopa_frontier_packages: Option<usize>,
    /// Recommended package (issue, value).
    pub recommendation: Option<Vec<(String, Decimal)>>,
    /// Our utility of it.
    pub seller_utility: Option<Decimal>,
    /// Their utility of it.
    pub buyer_utility: Option<Decimal>,
    /// Margin % at the recommended price.
    pub recommended_margin_pct: Option<Decimal>,
    /// Whether the recommended price keeps the margin floor.
    pub keeps_margin_floor: Option<bool>,
}

/// The price issue's walk-away: the full unit cost of `negotiation.toml`'s price
/// activity from `pricing.toml`'s cost model at the contract volume, the margin floor on
/// it, and the lowest price that keeps the floor (rounded to 4 decimals).
///
/// # Errors
/// No negotiation.toml or pricing.toml; a price activity the cost model does not have;
/// a floor that cannot be computed (a margin of 100 % or more).
pub fn price_floor(account: &Account) -> Result<(Decimal, MarginFloor, Decimal), AccountError> {
    let name = "negotiation.toml";
    let nf = account.need(&account.negotiation, name, "the negotiation analysis")?;
    let pf = account.need(&account.pricing, "pricing.toml", "the negotiation analysis")?;
    let err = |e: NegotiationError| account.error_in(name, None, e);
    let cost = pf.cost_model.activity(&nf.price_activity).ok_or_else(|| {
        account.error_in(
            name,
            Some("price_activity"),
            format!(
                "field `price_activity`: {:?} is not in pricing.toml's cost model",
                nf.price_activity
            ),
        )
    })?;
    let qty = pf.volumes.get(&nf.price_activity).copied().unwrap_or_default();
    let fixed = cost.dedicated_fixed + cost.allocated_overhead;
    let unit_cost = if qty.is_zero() {
        cost.variable_per_unit
    } else {
        (cost.variable_per_unit + fixed / qty).round_dp(4)
    };
    let floor = MarginFloor::new(unit_cost, nf.min_margin_pct).map_err(err)?;
    let floor_price = floor.floor_price().map_err(err)?.round_dp(4);
    Ok((unit_cost, floor, floor_price))
}

/// Analyses `negotiation.toml` with the margin floor from `pricing.toml`'s cost model.
///
/// # Errors
/// No negotiation.toml or pricing.toml; a price activity the cost model does not have;
/// an invalid negotiation space.
pub fn negotiate(account: &Account) -> Result<NegotiationReport, AccountError> {
    let name = "negotiation.toml";
    let nf = account.need(&account.negotiation, name, "the negotiation analysis")?;
    let err = |e: NegotiationError| account.error_in(name, None, e);
    let (unit_cost, floor, floor_price) = price_floor(account)?;
    let buyer_walk_away = nf.space.buyer.batna.as_ref().map(|b| b.price + b.switching_cost);
    let price_zopa = match buyer_walk_away {
        Some(w) => zone::zopa(floor_price, w)
            .map_err(err)?
            .map(|z| (z.low, z.high, z.width)),
        None => None,
    };
    let grid = PackageGrid::new(&nf.space, nf.levels_per_range).map_err(err)?;
    let analysis = frontier::analyze(&nf.space, &grid, nf.seller_power).map_err(err)?;
    let rec = analysis.recommendation.as_ref();
    let rec_price = rec.and_then(|r| r.point.package.get(&nf.price_issue).ok());
    Ok(NegotiationReport {
        price_issue: nf.price_issue.clone(),
        unit_cost,
        min_margin_pct: nf.min_margin_pct,
        floor_price,
        buyer_walk_away,
        price_zopa,
        packages: analysis.packages,
        frontier: analysis.frontier.len(),
        zopa_frontier_packages: analysis.zopa.as_ref().map(|z| z.frontier_packages),
        recommendation: rec.map(|r| r.point.package.0.iter().map(|(k, v)| (k.clone(), *v)).collect()),
        seller_utility: rec.map(|r| r.point.seller_utility.round_dp(4)),
        buyer_utility: rec.map(|r| r.point.buyer_utility.round_dp(4)),
        recommended_margin_pct: match rec_price {
            Some(p) => Some(floor.margin_pct(p).map_err(err)?.round_dp(2)),
            None => None,
        },
        keeps_margin_floor: match rec_price {
            Some(p) => Some(floor.admits(p).map_err(err)?),
            None => None,
        },
    })
}
