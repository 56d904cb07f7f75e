//! The proposal priced against the baseline (`kam price`) and the negotiation analysis
//! (`kam negotiate`), both from `pricing.toml`'s cards and cost model.

use chrono::NaiveDate;
use kam_core::negotiation::{
    ConcessionEntry, ConcessionLog, MarginFloor, NegotiationError, PackageGrid, Side, Trade, frontier, zone,
};
use kam_core::num;
use kam_core::pricing::{self, Volumes};
use kam_core::rules::{PriceAdjustment, PricingRule};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::AccountError;
use crate::model::{Account, CostBasis, OpenBookFee};
use crate::plugins::Plugins;
use crate::rules;
use crate::volumes::VolumeTable;

mod commercial;
pub(crate) use commercial::commercial_findings;
pub use commercial::review_date;
use commercial::{fx_line, gainshare_line, open_book_lines};

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
    /// Baseline total (after its banked credits, over several periods).
    pub baseline_total: Decimal,
    /// Baseline adjustment lines: banked credits used (label, amount); none for one period.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline_adjustments: Vec<(String, Decimal)>,
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
    /// The period's gainshare settlement, when pricing.toml has `[commercial.gainshare]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gainshare: Option<GainshareSettled>,
    /// Cost layers behind the contribution (variable, dedicated fixed, overhead).
    #[serde(skip)]
    pub costs: [Decimal; 3],
}

/// One period's settlement of `[commercial.gainshare]`: the saving (or overrun) of the
/// actual cost of its activity or pool against the baseline, and each side's share,
/// unrounded.
#[derive(Debug, Clone, Serialize)]
pub struct GainshareSettled {
    /// The activities the saving is measured on (one, or the pool's in name order).
    pub activities: Vec<String>,
    /// Baseline and actual cost, saving, its %, and the shares (kam-core's settlement).
    #[serde(flatten)]
    pub outcome: pricing::BandedOutcome,
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
    let pf = account.need(&account.pricing, PRICING, "pricing")?;
    price_one(account, volumes.unwrap_or(&pf.volumes), &pf.period, plugins)
}

/// One period priced on its own: no credit banked from other periods.
fn price_one(
    account: &Account,
    vols: &Volumes,
    period: &str,
    plugins: &Plugins,
) -> Result<PriceReport, AccountError> {
    let terms = commercial_terms(account)?;
    price_period(
        account,
        vols,
        period,
        plugins,
        &Credits::default(),
        terms.as_ref(),
    )
    .map(|(report, _)| report)
}

/// `kam price --volumes FILE` with one period: priced as [`price`] prices pricing.toml's
/// volumes, but at the file's period when it names one, so that the clauses use that
/// period's index values, fuel price and FX rate; at pricing.toml's period otherwise.
///
/// # Errors
/// As [`price`]; a sum of the period's quantities that overflows.
pub fn price_volumes(
    account: &Account,
    volumes: &crate::volumes::PeriodVolumes,
    plugins: &Plugins,
) -> Result<PriceReport, AccountError> {
    let vols = volumes.totals().map_err(AccountError::domain)?;
    price_one(account, &vols, &period_label(account, volumes, 0)?, plugins)
}

const PRICING: &str = "pricing.toml";

/// Banked credits used in one period, per card: (activity, amount).
#[derive(Debug, Default)]
struct Credits {
    baseline: Vec<(String, Decimal)>,
    proposal: Vec<(String, Decimal)>,
}

/// The rule name of the adjustment lines banked credits give.
const BANKING: &str = "minimum commitment";

fn credit_lines(quote: &mut pricing::Quote, credits: &[(String, Decimal)]) -> Result<(), AccountError> {
    for (activity, amount) in credits {
        quote
            .add_adjustment(
                BANKING,
                PriceAdjustment {
                    label: format!("{activity}: banked shortfall credit used"),
                    amount: -*amount,
                },
            )
            .map_err(AccountError::domain)?;
    }
    Ok(())
}

fn price_period(
    account: &Account,
    vols: &Volumes,
    period: &str,
    plugins: &Plugins,
    credits: &Credits,
    terms: Option<&CommercialTerms>,
) -> Result<(PriceReport, Charges), AccountError> {
    let name = PRICING;
    let pf = account.need(&account.pricing, name, "pricing")?;
    let mut cmp = pricing::compare(&pf.baseline, &pf.proposal, vols.iter())
        .map_err(|e| account.error_in(name, None, e))?;
    let mut proposal = cmp.proposal.clone();
    let mut charges = Charges::default();
    // The contract's own clauses come first: the rules (a rebate on the total) see the
    // indexed, surcharged price, as the invoice would.
    let gainshare = match terms {
        Some(terms) => commercial_lines(account, terms, pf, vols, &mut proposal, period, &mut charges)?,
        None => None,
    };
    let loaded = rules::pricing(account)?;
    let rules: Vec<&dyn PricingRule> = loaded
        .iter()
        .map(|r| r as &dyn PricingRule)
        .chain(plugins.pricing())
        .collect();
    proposal
        .apply_rules(&rules)
        .map_err(|e| plugins.locate(AccountError::domain(e)))?;
    // Credits come after the rules: a rule sees the period's usage as billed, and the
    // credit is a settlement of earlier periods, not a price the rule should scale.
    credit_lines(&mut proposal, &credits.proposal)?;
    credit_lines(&mut cmp.baseline, &credits.baseline)?;
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
    let label = |a: &pricing::AdjustmentLine| (format!("{} ({})", a.label, a.rule), a.amount.amount());
    let report = PriceReport {
        node: pf.node.clone(),
        service_line: pf.service_line.clone(),
        period: period.to_owned(),
        currency: cmp.currency.to_string(),
        lines,
        baseline_total: base,
        baseline_adjustments: cmp.baseline.adjustments().iter().map(label).collect(),
        proposal_total: cmp.proposal.total().amount(),
        adjustments: proposal.adjustments().iter().map(label).collect(),
        proposal_net: net,
        delta,
        delta_pct: pct(delta, base),
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
        gainshare,
        costs,
    };
    Ok((report, charges))
}

/// The activities each commercial adjustment line of a quote is charged on, with the
/// weights that split it between them: their card amounts (indexation, fuel, FX), their
/// pass-through costs (the open-book fee), or one activity alone (an open-book line, a
/// gainshare). `kam price --by` puts each line on the node × service line rows that
/// carry those activities; lines of rules, plugins and banked credits are charged on no
/// activity and stay unallocated.
#[derive(Debug, Default)]
pub(super) struct Charges(Vec<(usize, ChargedOn)>);

/// The activities one line is charged on, each with its weight.
pub(super) type ChargedOn = Vec<(String, Decimal)>;

impl Charges {
    /// Adds an explained line of the contract's terms to `quote`, charged on `on`.
    pub(super) fn add(
        &mut self,
        quote: &mut pricing::Quote,
        label: String,
        amount: Decimal,
        on: ChargedOn,
    ) -> Result<(), AccountError> {
        let at = quote.adjustments().len();
        quote
            .add_adjustment(COMMERCIAL, PriceAdjustment { label, amount })
            .map_err(AccountError::domain)?;
        if quote.adjustments().len() > at {
            self.0.push((at, on));
        }
        Ok(())
    }
}

/// pricing.toml's `[commercial]` with places, if it has one.
fn commercial_terms(account: &Account) -> Result<Option<CommercialTerms>, AccountError> {
    match account.pricing.as_ref().and_then(|p| p.commercial.as_ref()) {
        Some(t) => spanned_terms(account, t).map(Some),
        None => Ok(None),
    }
}

/// pricing.toml's text with only its `[commercial]` table read.
#[derive(Debug, Deserialize)]
struct SpannedPricing {
    commercial: Option<CommercialTerms>,
}

/// The `[commercial]` terms with their places: from pricing.toml's text, or (for an
/// account read back from history, which keeps values, not text) from the model's
/// values written out again, when places fall back to line 1.
fn spanned_terms(
    account: &Account,
    terms: &crate::model::CommercialTerms,
) -> Result<CommercialTerms, AccountError> {
    let parsed = match account.text(PRICING) {
        Some(t) => crate::files::parse_toml::<SpannedPricing>(&account.display(PRICING), t)?,
        None => {
            #[derive(Serialize)]
            struct Out<'a> {
                commercial: &'a crate::model::CommercialTerms,
            }
            let text = toml::to_string(&Out { commercial: terms })
                .map_err(|e| AccountError::Invalid(e.to_string()))?;
            crate::files::parse_toml::<SpannedPricing>(&account.display(PRICING), &text)?
        }
    };
    parsed
        .commercial
        .ok_or_else(|| AccountError::Invalid("pricing.toml: [commercial] not found again in its text".into()))
}

/// `[commercial]` of `pricing.toml` read again with the place of every value, for
/// errors at line:col (the model's `crate::model::CommercialTerms` holds the values). The proposal's price-adjustment clauses. Index
/// values are entered once, by period, in `indices`, and the clauses name them; the
/// clauses name the card's activities they apply to (all of them when none are named).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommercialTerms {
    /// Index → period → value (a price index, or a fuel price per litre). A dated
    /// period (`2026-11-15`) without its own value takes its month's (`2026-11`).
    #[serde(default)]
    indices: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Decimal>>,
    /// Indexation of the rates on a basket of indices against a base period.
    #[serde(default)]
    indexation: Option<IndexationTerms>,
    /// Fuel surcharge table on a fuel price index.
    #[serde(default)]
    fuel: Option<FuelTerms>,
    /// Activities billed open book with a fee or markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open_book: Option<OpenBookTerms>,
    /// Banded gainshare on one activity's cost, or a pool's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gainshare: Option<Spanned<GainshareTerms>>,
    /// FX clause with its rate table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fx: Option<FxTerms>,
}

impl CommercialTerms {
    /// The activities billed open book (none without `[commercial.open_book]`).
    fn open_book_activities(&self) -> Vec<&str> {
        self.open_book
            .as_ref()
            .map(|o| {
                o.activities
                    .get_ref()
                    .iter()
                    .map(|a| a.get_ref().as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `[commercial.open_book]` (see [`crate::model::OpenBookTerms`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenBookTerms {
    activities: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    cost: CostBasis,
    fee: Spanned<OpenBookFee>,
}

/// `[commercial.gainshare]` (see [`crate::model::GainshareTerms`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GainshareTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activity: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_unit_cost: Option<Spanned<Decimal>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_unit_costs: Option<Spanned<std::collections::BTreeMap<Spanned<String>, Spanned<Decimal>>>>,
    #[serde(default)]
    cost: CostBasis,
    band: Vec<ShareBandTerms>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pain: Vec<ShareBandTerms>,
}

/// One gainshare or painshare band.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBandTerms {
    from_pct: Spanned<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_pct: Option<Spanned<Decimal>>,
    provider_pct: Spanned<Decimal>,
}

/// `[commercial.fx]` (see [`crate::model::FxTerms`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FxTerms {
    pair: Spanned<String>,
    base_rate: Spanned<Decimal>,
    base_date: Spanned<String>,
    deadband_pct: Spanned<Decimal>,
    #[serde(default)]
    pass_through: pricing::FxPassThrough,
    rates: Spanned<std::collections::BTreeMap<Spanned<String>, Spanned<Decimal>>>,
    #[serde(default)]
    activities: Vec<Spanned<String>>,
}

/// `[commercial.indexation]`: rates × (fixed share + Σ weight × index now / index then).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexationTerms {
    /// The period the proposal's rates are at.
    base_period: Spanned<String>,
    /// Share of the rate that is not indexed.
    fixed_share: Spanned<Decimal>,
    /// The basket: indices of `indices` with their weights.
    basket: Vec<BasketItem>,
    /// Activities indexed (all the proposal's when empty).
    #[serde(default)]
    activities: Vec<Spanned<String>>,
}

/// One index of an indexation basket.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasketItem {
    /// An index of `[commercial.indices]`.
    index: Spanned<String>,
    /// Its weight (> 0).
    weight: Spanned<Decimal>,
}

/// `[commercial.fuel]`: a surcharge of `pct_per_step` % for each started `step` the fuel
/// index is above `base` in the priced period, up to `ceiling_pct`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FuelTerms {
    /// An index of `[commercial.indices]` (fuel price by period).
    index: Spanned<String>,
    /// Fuel price at which no surcharge applies.
    base: Decimal,
    /// Price step (> 0).
    step: Spanned<Decimal>,
    /// Surcharge % per full step.
    pct_per_step: Decimal,
    /// Highest surcharge %.
    #[serde(default)]
    ceiling_pct: Option<Decimal>,
    /// Activities surcharged (all the proposal's when empty).
    #[serde(default)]
    activities: Vec<Spanned<String>>,
}

/// The rule name of the adjustment lines `[commercial]` gives.
const COMMERCIAL: &str = "pricing.toml [commercial]";

/// An error at a span of pricing.toml.
fn at_span(account: &Account, span: std::ops::Range<usize>, field: &str, message: String) -> AccountError {
    let (line, column) = account
        .text(PRICING)
        .map_or((1, 1), |t| crate::files::line_col(t, span.start));
    AccountError::File(crate::files::FileError::at(
        &account.display(PRICING),
        line,
        column,
        Some(field),
        message,
    ))
}

/// Σ of the proposal's line amounts for `activities` (every line when empty), checking
/// each named activity is on the card.
///
/// Activities billed open book (`open`) are at cost: a clause on "all lines" leaves them
/// out, and one that names them is an error (cost is not escalated twice).
fn clause_base(
    account: &Account,
    card: &pricing::RateCard,
    quote: &pricing::Quote,
    activities: &[Spanned<String>],
    open: &[&str],
    clause: &str,
) -> Result<(Decimal, String, ChargedOn), AccountError> {
    let op = "commercial clause base";
    let field = "activities";
    if activities.is_empty() {
        let by_activity: Vec<(String, Decimal)> = quote
            .lines()
            .iter()
            .filter(|l| !open.contains(&l.activity.as_str()))
            .map(|l| (l.activity.clone(), l.amount.amount()))
            .collect();
        let base = num::sum(by_activity.iter().map(|a| a.1), op).map_err(AccountError::domain)?;
        let on = if open.is_empty() {
            "all lines"
        } else {
            "all card-billed lines"
        };
        return Ok((base, on.into(), by_activity));
    }
    let mut base = Decimal::ZERO;
    let mut names = Vec::new();
    let mut by_activity = Vec::with_capacity(activities.len());
    for a in activities {
        if card.activity(a.get_ref()).is_none() {
            return Err(at_span(
                account,
                a.span(),
                field,
                format!("activity {:?} is not on the proposal card", a.get_ref()),
            ));
        };
        if open.contains(&a.get_ref().as_str()) {
            return Err(at_span(
                account,
                a.span(),
                field,
                format!(
                    "activity {:?} is billed open book at cost ([commercial.open_book]): the {clause} does not apply to it",
                    a.get_ref()
                ),
            ));
        }
        // An activity of the card without volume this period has no line: it adds 0.
        let amount = quote
            .line(a.get_ref())
            .map_or(Decimal::ZERO, |l| l.amount.amount());
        base = num::add(base, amount, op).map_err(AccountError::domain)?;
        names.push(a.get_ref().as_str());
        by_activity.push((a.get_ref().clone(), amount));
    }
    Ok((base, names.join(", "), by_activity))
}

/// Adds the lines of `terms` for `period` to `quote`, each explained, in contract
/// order: open book (each activity's card amount replaced by its cost, then the fee),
/// gainshare, indexation, fuel surcharge, FX. A clause that moves nothing this period
/// (factor 1, surcharge 0 %, a rate inside the FX band, no saving) adds no line.
/// Returns the gainshare's settlement, if the terms have one.
fn commercial_lines(
    account: &Account,
    terms: &CommercialTerms,
    pf: &crate::model::PricingFile,
    vols: &Volumes,
    quote: &mut pricing::Quote,
    period: &str,
    charges: &mut Charges,
) -> Result<Option<GainshareSettled>, AccountError> {
    let card = &pf.proposal;
    let open = terms.open_book_activities();
    if let Some(ob) = &terms.open_book {
        open_book_lines(account, ob, pf, vols, quote, charges)?;
    }
    let settled = match &terms.gainshare {
        Some(g) => gainshare_line(account, g, pf, vols, &open, quote, charges)?,
        None => None,
    };
    let value = |index: &Spanned<String>, field: &str, p: &str, span: std::ops::Range<usize>, what: &str| {
        let series = terms.indices.get(index.get_ref()).ok_or_else(|| {
            at_span(
                account,
                index.span(),
                "index",
                format!("unknown index {:?}: not in [commercial.indices]", index.get_ref()),
            )
        })?;
        // A monthly index covers every day of its month: a dated period (`2026-11-15`)
        // takes its own value if the series has one, else its month's (`2026-11`).
        let month = || {
            NaiveDate::parse_from_str(p, "%Y-%m-%d")
                .ok()
                .filter(|d| d.format("%Y-%m-%d").to_string() == p)
                .map(|d| d.format("%Y-%m").to_string())
        };
        series
            .get(p)
            .or_else(|| month().and_then(|m| series.get(&m)))
            .copied()
            .ok_or_else(|| {
                at_span(
                    account,
                    span,
                    field,
                    format!("index {:?} has no value for {what} {p}", index.get_ref()),
                )
            })
    };
    if let Some(ix) = &terms.indexation {
        let base_period = ix.base_period.get_ref();
        let mut components = Vec::with_capacity(ix.basket.len());
        for item in &ix.basket {
            if *item.weight.get_ref() <= Decimal::ZERO {
                return Err(at_span(
                    account,
                    item.weight.span(),
                    "weight",
                    format!(
                        "weight {} of index {:?} must be > 0",
                        item.weight.get_ref(),
                        item.index.get_ref()
                    ),
                ));
            }
            let base = value(
                &item.index,
                "base_period",
                base_period,
                ix.base_period.span(),
                "the base period",
            )?;
            let current = value(
                &item.index,
                "index",
                period,
                item.index.span(),
                "the priced period",
            )?;
            components.push(pricing::IndexComponent {
                name: item.index.get_ref().clone(),
                weight: *item.weight.get_ref(),
                base,
                current,
            });
        }
        let fixed = *ix.fixed_share.get_ref();
        let factor = pricing::index_factor(fixed, &components)
            .map_err(|e| at_span(account, ix.fixed_share.span(), "fixed_share", e.to_string()))?;
        let (base, on, by_activity) = clause_base(account, card, quote, &ix.activities, &open, "indexation")?;
        let op = "indexation";
        let amount = num::mul(
            base,
            num::sub(factor, Decimal::ONE, op).map_err(AccountError::domain)?,
            op,
        )
        .map_err(AccountError::domain)?;
        if !amount.is_zero() {
            let basket: Vec<String> = components
                .iter()
                .map(|c| format!("{} × {} {}/{}", c.weight, c.name, c.current, c.base))
                .collect();
            charges.add(
                quote,
                format!(
                    "indexation {period} on {base_period}: factor {} = {fixed} fixed + {} on {on} {}",
                    factor.round_dp(6).normalize(),
                    basket.join(" + "),
                    crate::format::money(base)
                ),
                amount,
                by_activity,
            )?;
        }
    }
    if let Some(fuel) = &terms.fuel {
        if *fuel.step.get_ref() <= Decimal::ZERO {
            return Err(at_span(
                account,
                fuel.step.span(),
                "step",
                format!("fuel step {} must be > 0", fuel.step.get_ref()),
            ));
        }
        let price = value(
            &fuel.index,
            "index",
            period,
            fuel.index.span(),
            "the priced period",
        )?;
        let table = pricing::FuelSurcharge {
            base: fuel.base,
            step: *fuel.step.get_ref(),
            pct_per_step: fuel.pct_per_step,
            ceiling_pct: fuel.ceiling_pct,
        };
        let pct = table
            .pct(price)
            .map_err(|e| at_span(account, fuel.index.span(), "index", e.to_string()))?;
        let (base, on, by_activity) =
            clause_base(account, card, quote, &fuel.activities, &open, "fuel surcharge")?;
        let op = "fuel surcharge";
        let amount = num::div(
            num::mul(base, pct, op).map_err(AccountError::domain)?,
            Decimal::ONE_HUNDRED,
            op,
        )
        .map_err(AccountError::domain)?;
        if !amount.is_zero() {
            charges.add(
                quote,
                format!(
                    "fuel surcharge {} % ({} {price} vs base {}, {} % per {}{}) on {on} {}",
                    pct.normalize(),
                    fuel.index.get_ref(),
                    fuel.base,
                    fuel.pct_per_step,
                    fuel.step.get_ref(),
                    fuel.ceiling_pct
                        .map_or(String::new(), |c| format!(", at most {c} %")),
                    crate::format::money(base)
                ),
                amount,
                by_activity,
            )?;
        }
    }
    if let Some(fx) = &terms.fx {
        fx_line(account, fx, card, &open, quote, period, charges)?;
    }
    Ok(settled)
}

fn pct(delta: Decimal, base: Decimal) -> Option<Decimal> {
    (!base.is_zero()).then(|| (delta / base * Decimal::ONE_HUNDRED).round_dp(2))
}

/// One card's take-or-pay billing of one activity over the periods.
#[derive(Debug, Serialize)]
pub struct BankingRow {
    /// `baseline` or `proposal`.
    pub card: String,
    /// Period labels, in order (the billing's periods are numbered 1, 2, …).
    pub periods: Vec<String>,
    /// The billing: per period volume, shortfall, credit banked, used, expired, due.
    pub billing: pricing::CommitmentBilling,
}

/// Totals over the periods of a multi-period price run.
#[derive(Debug, Serialize)]
pub struct PeriodTotals {
    /// Σ baseline, after its banked credits.
    pub baseline_total: Decimal,
    /// Σ proposal before adjustments.
    pub proposal_total: Decimal,
    /// Σ proposal after rules and banked credits.
    pub proposal_net: Decimal,
    /// Σ banked credits used on the proposal.
    pub proposal_credits: Decimal,
    /// Proposal net − baseline.
    pub delta: Decimal,
    /// Delta % of baseline.
    pub delta_pct: Option<Decimal>,
    /// CM1–CM3 of the proposal over all periods (each period's fixed cost counts once
    /// per period).
    pub contribution: Vec<MarginLayer>,
    /// CM1–CM3 of the baseline over all periods.
    pub baseline_contribution: Vec<MarginLayer>,
}

/// `kam price --volumes FILE` with several periods.
#[derive(Debug, Serialize)]
pub struct PeriodsReport {
    /// Node priced.
    pub node: String,
    /// Service line.
    pub service_line: String,
    /// Currency.
    pub currency: String,
    /// Each period priced as `kam price` prices one, with banked credits as adjustment
    /// lines.
    pub periods: Vec<PriceReport>,
    /// The take-or-pay billing of every activity with a minimum, per card.
    pub banking: Vec<BankingRow>,
    /// Totals over the periods.
    pub totals: PeriodTotals,
}

fn period_label(
    account: &Account,
    p: &crate::volumes::PeriodVolumes,
    n: usize,
) -> Result<String, AccountError> {
    match &p.period {
        Some(l) => Ok(l.clone()),
        None if n == 0 => Ok(account.need(&account.pricing, PRICING, "pricing")?.period.clone()),
        None => Ok(format!("period {}", n + 1)),
    }
}

/// Prices every period of `table` and bills each card's minimum commitments over them
/// with credit banking: a shortfall paid in one period is a credit used against volume
/// above the minimum in the periods after (as far as the card's banking allows), shown
/// as an adjustment line of the period that uses it.
///
/// # Errors
/// As [`price`], for any period; an activity with a negative quantity (at its line).
pub fn price_periods(
    account: &Account,
    table: &VolumeTable,
    plugins: &Plugins,
) -> Result<PeriodsReport, AccountError> {
    let pf = account.need(&account.pricing, PRICING, "pricing")?;
    let mut vols = Vec::with_capacity(table.periods.len());
    let mut labels = Vec::with_capacity(table.periods.len());
    for (n, p) in table.periods.iter().enumerate() {
        vols.push(p.totals().map_err(|e| table_error(table, p.entries.first(), e))?);
        labels.push(period_label(account, p, n)?);
    }
    let mut credits: Vec<Credits> = (0..vols.len()).map(|_| Credits::default()).collect();
    let mut banking = Vec::new();
    for (card_name, card) in [("baseline", &pf.baseline), ("proposal", &pf.proposal)] {
        for a in card.activities() {
            if a.minimum.is_none() {
                continue;
            }
            let activity = a.activity.as_str();
            let series: Vec<Decimal> = vols
                .iter()
                .map(|v| v.get(activity).copied().unwrap_or_default())
                .collect();
            let bill = card
                .bill_periods(activity, &series)
                .map_err(|e| account.error_in(PRICING, Some(&format!("activity = \"{activity}\"")), e))?;
            for (b, c) in bill.periods.iter().zip(credits.iter_mut()) {
                if !b.credit_applied.is_zero() {
                    let list = if card_name == "baseline" {
                        &mut c.baseline
                    } else {
                        &mut c.proposal
                    };
                    list.push((activity.to_owned(), b.credit_applied));
                }
            }
            banking.push(BankingRow {
                card: card_name.to_owned(),
                periods: labels.clone(),
                billing: bill,
            });
        }
    }
    // pricing.toml is read again with places once, not once a period.
    let terms = commercial_terms(account)?;
    let mut periods = Vec::with_capacity(vols.len());
    for ((v, label), c) in vols.iter().zip(&labels).zip(&credits) {
        periods.push(price_period(account, v, label, plugins, c, terms.as_ref())?.0);
    }
    let op = "price over periods";
    let sum = |f: &dyn Fn(&PriceReport) -> Decimal| -> Result<Decimal, AccountError> {
        num::sum(periods.iter().map(f), op).map_err(AccountError::domain)
    };
    let mut costs = [Decimal::ZERO; 3];
    for p in &periods {
        for (c, x) in costs.iter_mut().zip(p.costs) {
            *c = num::add(*c, x, op).map_err(AccountError::domain)?;
        }
    }
    let base = sum(&|p| p.baseline_total)?;
    let net = sum(&|p| p.proposal_net)?;
    let delta = net - base;
    let totals = PeriodTotals {
        baseline_total: base,
        proposal_total: sum(&|p| p.proposal_total)?,
        proposal_net: net,
        proposal_credits: num::sum(credits.iter().flat_map(|c| c.proposal.iter().map(|x| x.1)), op)
            .map_err(AccountError::domain)?,
        delta,
        delta_pct: pct(delta, base),
        contribution: layers(net, &costs)?,
        baseline_contribution: layers(base, &costs)?,
    };
    Ok(PeriodsReport {
        node: pf.node.clone(),
        service_line: pf.service_line.clone(),
        currency: pf.proposal.currency().to_string(),
        periods,
        banking,
        totals,
    })
}

fn table_error(
    table: &VolumeTable,
    entry: Option<&crate::volumes::VolumeEntry>,
    e: impl std::fmt::Display,
) -> AccountError {
    AccountError::File(crate::files::FileError::at(
        &table.file,
        entry.map_or(1, |e| e.line),
        entry.map_or(1, |e| e.column),
        Some("quantity"),
        e,
    ))
}

/// How `kam price --by` groups the cost-to-serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per node × service line.
    NodeAndServiceLine,
    /// One row per node.
    Node,
    /// One row per service line.
    ServiceLine,
}

/// One row of the cost-to-serve: a node, a service line, or both.
#[derive(Debug, Serialize)]
pub struct CostRow {
    /// Node (absent when grouped by service line only, and for the unallocated row).
    pub node: Option<String>,
    /// Service line (absent when grouped by node only, and for the unallocated row).
    pub service_line: Option<String>,
    /// Cost to serve: variable + dedicated fixed + allocated overhead.
    pub cost_to_serve: Decimal,
    /// Revenue and CM1–CM3.
    pub contribution: pricing::ContributionMargins,
}

/// `kam price --by`: the proposal's cost-to-serve and CM1–CM3 per node and service line.
#[derive(Debug, Serialize)]
pub struct CostToServeReport {
    /// Grouping.
    pub by: GroupBy,
    /// Period.
    pub period: String,
    /// Currency.
    pub currency: String,
    /// One row per group, in order of first appearance.
    pub rows: Vec<CostRow>,
    /// What no row carries: fixed cost of activities not performed, and the rule and
    /// plugin adjustments of the whole quote (a rebate on the total belongs to no one
    /// site). The contract's clause lines are on the rows of their activities.
    pub unallocated: CostRow,
    /// Σ rows + unallocated — equal to `kam price`'s proposal net and CM1–CM3.
    pub total: CostRow,
}

fn cost_row(
    node: Option<String>,
    service_line: Option<String>,
    c: pricing::ContributionMargins,
) -> Result<CostRow, AccountError> {
    Ok(CostRow {
        node,
        service_line,
        cost_to_serve: num::sum([c.cm1.cost, c.cm2.cost, c.cm3.cost], "cost to serve")
            .map_err(AccountError::domain)?,
        contribution: c,
    })
}

/// The served volumes of one period: `table`'s single period if given (empty node or
/// service line cells mean pricing.toml's), otherwise pricing.toml's volumes split by
/// its `[[served]]` tables.
fn served(
    account: &Account,
    table: Option<&VolumeTable>,
) -> Result<(String, Vec<pricing::ServedVolume>), AccountError> {
    let pf = account.need(&account.pricing, PRICING, "pricing")?;
    let sv = |node: &str, line: &str, activity: &str, quantity: Decimal| pricing::ServedVolume {
        node: node.to_owned(),
        service_line: line.to_owned(),
        activity: activity.to_owned(),
        quantity,
    };
    if let Some(t) = table {
        let [p] = t.periods.as_slice() else {
            return Err(AccountError::Invalid(format!(
                "{}: {} periods; --by prices one period (give a file with one period)",
                t.file,
                t.periods.len()
            )));
        };
        let rows = p
            .entries
            .iter()
            .map(|e| {
                sv(
                    e.node.as_deref().unwrap_or(&pf.node),
                    e.service_line.as_deref().unwrap_or(&pf.service_line),
                    &e.activity,
                    e.quantity,
                )
            })
            .collect();
        return Ok((period_label(account, p, 0)?, rows));
    }
    let mut rows = Vec::new();
    let mut left = pf.volumes.clone();
    for (i, s) in pf.served.iter().enumerate() {
        for (activity, q) in &s.volumes {
            let place = || account.place(PRICING, Some(&format!("node = \"{}\"", s.node)));
            let Some(total) = left.get_mut(activity) else {
                return Err(AccountError::at(
                    place(),
                    format!("served[{i}]: activity {activity:?} is not in [volumes]"),
                ));
            };
            if *q > *total {
                return Err(AccountError::at(
                    place(),
                    format!(
                        "served[{i}]: {activity} = {q} at {}/{} is more than what [volumes] has left for it ({total})",
                        s.node, s.service_line
                    ),
                ));
            }
            *total -= *q;
            rows.push(sv(&s.node, &s.service_line, activity, *q));
        }
    }
    // What no split claims stays at the file's own node and service line (listed first).
    let mut own: Vec<pricing::ServedVolume> = left
        .iter()
        .filter(|(a, q)| !q.is_zero() || !rows.iter().any(|r| &r.activity == *a))
        .map(|(a, q)| sv(&pf.node, &pf.service_line, a, *q))
        .collect();
    own.extend(rows);
    Ok((pf.period.clone(), own))
}

/// The proposal's cost-to-serve and CM1–CM3 per node × service line (or per node, or
/// per service line), from `table`'s one period or pricing.toml's volumes and
/// `[[served]]` splits. Each activity is priced once on the whole volume, and its revenue
/// and fixed costs are split by quantity (kam-core's `cost_to_serve`). Each line of the
/// contract's `[commercial]` clauses (open book, fee, gainshare, indexation, fuel, FX) is
/// put on the rows of the activities it is charged on ([`Charges`]), split by quantity
/// like their revenue, so a site billed open book shows its cost-plus margin, not the
/// card's; the rule and plugin adjustments of the quote are unallocated. The total is
/// exactly `kam price`'s.
///
/// # Errors
/// As [`price`]; a split that claims more than `[volumes]` has; several periods.
pub fn cost_to_serve(
    account: &Account,
    table: Option<&VolumeTable>,
    by: GroupBy,
    plugins: &Plugins,
) -> Result<CostToServeReport, AccountError> {
    let pf = account.need(&account.pricing, PRICING, "pricing")?;
    let (period, rows) = served(account, table)?;
    let cts = pricing::cost_to_serve(&pf.proposal, &pf.cost_model, &rows)
        .map_err(|e| account.error_in(PRICING, Some("[cost_model]"), e))?;
    let mut totals = Volumes::new();
    for r in &rows {
        let t = totals.entry(r.activity.clone()).or_default();
        *t = num::add(*t, r.quantity, "served volume").map_err(AccountError::domain)?;
    }
    let terms = commercial_terms(account)?;
    let (quote, charges) = price_period(
        account,
        &totals,
        &period,
        plugins,
        &Credits::default(),
        terms.as_ref(),
    )?;
    // The contract's clause lines go to the rows of the activities they are charged on;
    // the lines of rules and plugins (and any part with no row) stay unallocated.
    let mut charged = vec![Decimal::ZERO; cts.rows.len()];
    let mut adjust = Decimal::ZERO;
    for (i, (_, amount)) in quote.adjustments.iter().enumerate() {
        let left = match charges.0.iter().find(|c| c.0 == i) {
            Some((_, on)) => place_charge(*amount, on, &rows, &cts.rows, &mut charged)?,
            None => *amount,
        };
        adjust = num::add(adjust, left, "rule adjustments").map_err(AccountError::domain)?;
    }
    // Shares split by quantity do not terminate (a third of 11,700.01), and sums of
    // 28-digit shares round in the last digit. So every part is carried in the
    // currency's minor units, apportioned so that rows + unallocated add up to exactly
    // `kam price`'s totals (the rounding remainders go to the largest fractions).
    let dp = pf.proposal.currency().minor_units();
    let parts = |c: &pricing::ContributionMargins| [c.revenue, c.cm1.cost, c.cm2.cost, c.cm3.cost];
    let mut exact: Vec<[Decimal; 4]> = cts.rows.iter().map(|r| parts(&r.contribution)).collect();
    for (e, c) in exact.iter_mut().zip(&charged) {
        e[0] = num::add(e[0], *c, "revenue").map_err(AccountError::domain)?;
    }
    let mut unallocated = parts(&cts.unallocated);
    unallocated[0] = num::add(unallocated[0], adjust, "revenue").map_err(AccountError::domain)?;
    exact.push(unallocated);
    let target = [quote.proposal_net, quote.costs[0], quote.costs[1], quote.costs[2]];
    let mut rounded = vec![[Decimal::ZERO; 4]; exact.len()];
    let mut total = [Decimal::ZERO; 4];
    for k in 0..4 {
        let column: Vec<Decimal> = exact.iter().map(|p| p[k]).collect();
        total[k] = target[k].round_dp(dp);
        for (r, v) in rounded.iter_mut().zip(apportion(&column, total[k], dp)?) {
            r[k] = v;
        }
    }
    let margins = |p: &[Decimal; 4]| {
        pricing::ContributionMargins::from_costs(p[0], [p[1], p[2], p[3]]).map_err(AccountError::domain)
    };
    let unallocated = rounded.pop().unwrap_or_default();
    // Group the node × service line rows (already in minor units, so sums are exact).
    let mut groups: Vec<(Option<String>, Option<String>, [Decimal; 4])> = Vec::new();
    for (r, p) in cts.rows.iter().zip(&rounded) {
        let key = match by {
            GroupBy::NodeAndServiceLine => (Some(r.node.clone()), Some(r.service_line.clone())),
            GroupBy::Node => (Some(r.node.clone()), None),
            GroupBy::ServiceLine => (None, Some(r.service_line.clone())),
        };
        match groups.iter_mut().find(|g| (&g.0, &g.1) == (&key.0, &key.1)) {
            Some(g) => {
                for (a, b) in g.2.iter_mut().zip(p) {
                    *a = num::add(*a, *b, "cost-to-serve group").map_err(AccountError::domain)?;
                }
            }
            None => groups.push((key.0, key.1, *p)),
        }
    }
    Ok(CostToServeReport {
        by,
        period,
        currency: cts.currency.to_string(),
        rows: groups
            .into_iter()
            .map(|(n, l, p)| cost_row(n, l, margins(&p)?))
            .collect::<Result<_, _>>()?,
        unallocated: cost_row(None, None, margins(&unallocated)?)?,
        total: cost_row(None, None, margins(&total)?)?,
    })
}

/// Places a clause line of `amount`, charged on `on` (activity, weight), on the
/// cost-to-serve rows: first across its activities by weight, then each activity's part
/// across the rows that serve it by quantity (equally if their quantity is zero), as
/// kam-core's cost-to-serve splits the activity's revenue (`num::split`). Returns
/// what found no row.
fn place_charge(
    amount: Decimal,
    on: &[(String, Decimal)],
    served: &[pricing::ServedVolume],
    rows: &[pricing::ContributionRow],
    charged: &mut [Decimal],
) -> Result<Decimal, AccountError> {
    let op = "cost-to-serve: place a clause line";
    let d = AccountError::domain;
    let split = |whole, weights: &[Decimal]| {
        num::sum(weights.iter().copied(), op)
            .and_then(|total| num::split(whole, weights, total, op))
            .map_err(d)
    };
    let weights: Vec<Decimal> = on.iter().map(|a| a.1).collect();
    let mut unplaced = Decimal::ZERO;
    for ((activity, _), part) in on.iter().zip(split(amount, &weights)?) {
        let at: Vec<&pricing::ServedVolume> = served.iter().filter(|v| &v.activity == activity).collect();
        if at.is_empty() {
            unplaced = num::add(unplaced, part, op).map_err(d)?;
            continue;
        }
        let quantities: Vec<Decimal> = at.iter().map(|v| v.quantity).collect();
        for (v, share) in at.iter().zip(split(part, &quantities)?) {
            let row = rows
                .iter()
                .position(|r| r.node == v.node && r.service_line == v.service_line);
            match row.and_then(|i| charged.get_mut(i)) {
                Some(c) => *c = num::add(*c, share, op).map_err(d)?,
                None => unplaced = num::add(unplaced, share, op).map_err(d)?,
            }
        }
    }
    Ok(unplaced)
}

/// `parts` rounded to `dp` decimals so that they add up to `total` exactly: each part is
/// rounded half-even, then the remainder is handed out one minor unit at a time to the
/// parts whose rounding moved them furthest the other way (largest remainder method).
fn apportion(parts: &[Decimal], total: Decimal, dp: u32) -> Result<Vec<Decimal>, AccountError> {
    let op = "apportion to minor units";
    let d = AccountError::domain;
    let mut out: Vec<Decimal> = parts.iter().map(|p| p.round_dp(dp)).collect();
    let unit = Decimal::new(1, dp);
    let mut left = num::sub(total, num::sum(out.iter().copied(), op).map_err(d)?, op).map_err(d)?;
    // Order by how much each part lost to rounding in the direction of the remainder.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    let up = left > Decimal::ZERO;
    let lost = |i: usize| -> Decimal {
        let (p, r) = (
            parts.get(i).copied().unwrap_or_default(),
            out.get(i).copied().unwrap_or_default(),
        );
        if up { p - r } else { r - p }
    };
    order.sort_by(|&a, &b| lost(b).cmp(&lost(a)).then(a.cmp(&b)));
    let step = if up { unit } else { -unit };
    // Each rounding moves a part by at most half a unit, so the remainder is at most
    // parts.len() / 2 units (plus the total's own rounding): one pass always settles it.
    for i in order.iter().cycle().take(parts.len().saturating_mul(2)) {
        if left.is_zero() {
            break;
        }
        if let Some(o) = out.get_mut(*i) {
            *o = num::add(*o, step, op).map_err(d)?;
            left = num::sub(left, step, op).map_err(d)?;
        }
    }
    if !left.is_zero() {
        return Err(AccountError::Invalid(format!(
            "cost-to-serve: parts {parts:?} cannot be apportioned to the total {total}"
        )));
    }
    Ok(out)
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
    /// The concession log replayed (`kam negotiate --log`), if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concessions: Option<ConcessionReport>,
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
        concessions: None,
    })
}

/// `concessions.toml` as written: dated offers on the price issue, each side's, with
/// what each gave and got.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcessionFile {
    #[serde(default)]
    offer: Vec<OfferRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferRecord {
    date: Spanned<String>,
    side: Spanned<Side>,
    price: Spanned<Decimal>,
    #[serde(default)]
    gives: Vec<Trade>,
    #[serde(default)]
    gets: Vec<Trade>,
    #[serde(default)]
    note: Option<String>,
}

/// One offer of the concession log, replayed.
#[derive(Debug, Serialize)]
pub struct OfferRow {
    /// 1-based position in the log.
    pub round: u32,
    /// Date of the offer.
    pub date: NaiveDate,
    /// Who made it.
    pub side: Side,
    /// Unit price offered.
    pub price: Decimal,
    /// Price given since the same side's previous offer (0 for its first).
    pub step: Decimal,
    /// Concessions made in this offer.
    pub gives: Vec<Trade>,
    /// What was obtained in return.
    pub gets: Vec<Trade>,
    /// Context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One side's concessions over the log.
#[derive(Debug, Serialize)]
pub struct SideConcessions {
    /// Seller (us) or buyer (the customer).
    pub side: Side,
    /// Offers made.
    pub offers: usize,
    /// First price offered.
    pub first: Option<Decimal>,
    /// Latest price offered.
    pub latest: Option<Decimal>,
    /// Price given from the first offer to the latest.
    pub conceded: Decimal,
    /// Concession rate: price given per offer after the first (4 decimals).
    pub per_offer: Option<Decimal>,
    /// Share of the room from the first offer to the walk-away already given, in %.
    pub room_used_pct: Option<Decimal>,
    /// The walk-away price (ours: our BATNA price; theirs: their BATNA price plus
    /// switching cost, from negotiation.toml).
    pub walk_away: Option<Decimal>,
    /// Left to give before the walk-away price.
    pub left_to_walk_away: Option<Decimal>,
    /// Left to give before the margin floor (ours only).
    pub left_to_floor: Option<Decimal>,
}

/// `kam negotiate --log`: the concession log replayed against both walk-aways and the
/// margin floor.
#[derive(Debug, Serialize)]
pub struct ConcessionReport {
    /// The log file.
    pub file: String,
    /// The price issue.
    pub issue: String,
    /// Our margin floor (from the cost model).
    pub floor_price: Decimal,
    /// Offers in order.
    pub offers: Vec<OfferRow>,
    /// Seller, then buyer.
    pub sides: Vec<SideConcessions>,
    /// Seller's latest − buyer's latest, when both have offered.
    pub gap: Option<Decimal>,
}

/// Replays the concession log `text` (read from `file`): every offer must be dated on or
/// after the one before it, and is checked by kam-core's guard against its side's
/// walk-away price — ours from negotiation.toml's seller BATNA, theirs from the buyer's
/// BATNA plus switching cost — and, for our offers, against the margin floor from
/// pricing.toml's cost model. Nothing is typed twice: walk-aways and the floor come from
/// the account.
///
/// # Errors
/// The log does not parse; an offer out of date order or refused by the guard — each at
/// the file, line and column of the offending date or price.
pub fn concessions(account: &Account, file: &str, text: &str) -> Result<ConcessionReport, AccountError> {
    let nf = account.need(&account.negotiation, "negotiation.toml", "the concession log")?;
    let (_, floor, floor_price) = price_floor(account)?;
    let parsed: ConcessionFile = crate::files::parse_toml(file, text)?;
    let at = |span: std::ops::Range<usize>, field: &str, e: String| {
        let (line, column) = crate::files::line_col(text, span.start);
        AccountError::File(crate::files::FileError::at(file, line, column, Some(field), e))
    };
    let seller_walk = nf.space.seller.batna.as_ref().map(|b| b.price);
    let buyer_walk = nf.space.buyer.batna.as_ref().map(|b| b.price + b.switching_cost);
    // Without a described BATNA the side's only guard is the floor (ours) or none
    // (theirs): a walk-away at the far end of the price range never refuses an offer.
    let mut seller = ConcessionLog::new(Side::Seller, seller_walk.unwrap_or(Decimal::ZERO), Some(floor))
        .map_err(|e| account.error_in("negotiation.toml", None, e))?;
    let mut buyer = ConcessionLog::new(Side::Buyer, buyer_walk.unwrap_or(Decimal::MAX), None)
        .map_err(|e| account.error_in("negotiation.toml", None, e))?;
    let mut offers = Vec::with_capacity(parsed.offer.len());
    let mut last_date: Option<NaiveDate> = None;
    for (i, o) in parsed.offer.into_iter().enumerate() {
        let round = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let date: NaiveDate = o.date.get_ref().parse().map_err(|e| {
            at(
                o.date.span(),
                "date",
                format!("{:?} is not a date (YYYY-MM-DD): {e}", o.date.get_ref()),
            )
        })?;
        if let Some(l) = last_date
            && date < l
        {
            return Err(at(
                o.date.span(),
                "date",
                format!(
                    "offer {round} is dated {date}, before the offer above it ({l}): the log must be in date order"
                ),
            ));
        }
        last_date = Some(date);
        let side = *o.side.get_ref();
        let price = *o.price.get_ref();
        let log = match side {
            Side::Seller => &mut seller,
            Side::Buyer => &mut buyer,
        };
        let previous = log.entries().last().map(|e| e.offer);
        log.record(ConcessionEntry {
            round,
            offer: price,
            gives: o.gives.clone(),
            gets: o.gets.clone(),
        })
        .map_err(|e| {
            let who = if side == Side::Seller {
                "our"
            } else {
                "the customer's"
            };
            at(o.price.span(), "price", format!("{e} (refused: {who} offer)"))
        })?;
        offers.push(OfferRow {
            round,
            date,
            side,
            price,
            step: previous.map_or(Decimal::ZERO, |p| (p - price).abs()),
            gives: o.gives,
            gets: o.gets,
            note: o.note,
        });
    }
    let err = |e: NegotiationError| account.error_in("negotiation.toml", None, e);
    let summary = |log: &ConcessionLog,
                   walk: Option<Decimal>,
                   floor: Option<Decimal>|
     -> Result<SideConcessions, AccountError> {
        let entries = log.entries();
        let first = entries.first().map(|e| e.offer);
        let latest = entries.last().map(|e| e.offer);
        let conceded = log.price_conceded().map_err(err)?;
        let steps = entries.len().saturating_sub(1);
        // The side's binding limit: the higher of walk-away and floor for us.
        let limit = match (walk, floor) {
            (Some(w), Some(f)) => Some(w.max(f)),
            (w, f) => w.or(f),
        };
        let left = |to: Option<Decimal>| match (latest, to) {
            (Some(l), Some(t)) => Some((l - t).abs().normalize()),
            _ => None,
        };
        Ok(SideConcessions {
            side: log.side(),
            offers: entries.len(),
            first,
            latest,
            conceded,
            per_offer: (steps > 0).then(|| (conceded / Decimal::from(steps)).round_dp(4).normalize()),
            room_used_pct: match (first, limit) {
                (Some(f), Some(l)) if f != l => Some(
                    (conceded / (f - l).abs() * Decimal::ONE_HUNDRED)
                        .round_dp(1)
                        .normalize(),
                ),
                _ => None,
            },
            walk_away: walk,
            left_to_walk_away: left(walk),
            left_to_floor: left(floor),
        })
    };
    let sides = vec![
        summary(&seller, seller_walk, Some(floor_price))?,
        summary(&buyer, buyer_walk, None)?,
    ];
    let gap = match (sides[0].latest, sides[1].latest) {
        (Some(s), Some(b)) => Some((s - b).normalize()),
        _ => None,
    };
    Ok(ConcessionReport {
        file: file.to_owned(),
        issue: nf.price_issue.clone(),
        floor_price,
        offers,
        sides,
        gap,
    })
}
