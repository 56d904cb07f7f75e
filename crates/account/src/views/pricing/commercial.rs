//! The contract's commercial models in `pricing.toml [commercial]` beyond indexation and
//! fuel: open book / cost-plus, banded gainshare, and the FX clause — each applied to
//! the proposal as explained adjustment lines, with errors at pricing.toml:line:col —
//! and the reference checks `kam check` runs on them.
//!
//! ```toml
//! # Billed at cost from [cost_model] × volumes instead of the card, plus a fee.
//! [commercial.open_book]
//! activities = ["return_unit"]
//! cost = "direct"                                  # variable | direct (default) | full
//! fee = { type = "percent_of_cost", pct = "8" }    # or { type = "fixed", amount = "2500" }
//!                                                  # or { type = "markup", pct = "8" } (cost-plus)
//!
//! # The saving of the actual cost against baseline_unit_cost × volume, in bands.
//! [commercial.gainshare]
//! activity = "return_unit"
//! baseline_unit_cost = "2.55"
//! # or, for a pool of activities, instead of the two lines above:
//! # baseline_unit_costs = { pick_line = "0.55", order = "1.80" }
//! [[commercial.gainshare.band]]                    # listed in order from 0 %, contiguous
//! from_pct = "0"
//! to_pct = "5"
//! provider_pct = "50"
//! [[commercial.gainshare.pain]]                    # optional painshare, same form
//! from_pct = "0"
//! provider_pct = "50"
//!
//! [commercial.fx]
//! pair = "EUR/USD"                                 # units of USD per EUR
//! base_rate = "1.12"
//! base_date = "2026-06-30"
//! deadband_pct = "3"
//! pass_through = "beyond_band"                     # or "full"
//! rates = { 2026-09-30 = "1.07" }
//! activities = ["shipment"]
//! ```
//!
//! What the lines mean:
//! - **Open book**: each named activity's card amount is replaced by its cost (one line
//!   per activity: cost − card amount), then one fee line: a fixed management fee per
//!   period, a percentage of the cost passed through, or a cost-plus markup. The cost is
//!   `variable_per_unit × volume` (`variable`), plus the activity's dedicated fixed cost
//!   (`direct`, the default: the site's own cost; overhead is covered by the fee), plus
//!   its allocated overhead (`full`). Indexation, fuel and FX leave open-book activities
//!   out (cost is not escalated twice); a clause that names one is an error.
//! - **Gainshare**: the saving `Σ baseline_unit_cost × volume − Σ actual cost` over the
//!   activity or the pool (the actual cost from the cost model on the same basis, so the
//!   figure is entered once) is cut at
//!   the bands' bounds in % of the baseline cost and each slice is shared at its band's
//!   rate (kam-core's `BandedGainshare`); an overrun is shared by the `pain` bands, if
//!   any. On an open-book activity the customer already has the whole saving, so the
//!   provider's share is billed; on a card-billed activity the provider has it, so the
//!   customer's share is credited. A pool mixing the two is an error: it would settle
//!   in both directions at once.
//! - **FX**: the rate applied in a period is the table's latest on or before the
//!   period's *review date* — the first day of a `YYYY-MM` period, or the date of a
//!   `YYYY-MM-DD` one — and kam-core's `FxClause::reprice` moves the named activities'
//!   amounts (all card-billed lines when none are named). No rate on or before the review
//!   date is an error at `rates`.
//!
//! What it is not: a billing of actual costs (the cost model is the plan's cost, the same
//! one CM1–CM3 use), nor a settlement over several periods (each period settles alone).

use chrono::NaiveDate;
use kam_core::money::{Currency, FxRate, Money};
use kam_core::num;
use kam_core::pricing::{self, Volumes};
use rust_decimal::Decimal;
use toml::Spanned;

use super::{
    Charges, CommercialTerms, FxTerms, GainshareSettled, GainshareTerms, OpenBookTerms, ShareBandTerms,
    at_span, clause_base,
};
use crate::error::AccountError;
use crate::format::money;
use crate::model::{Account, CostBasis, OpenBookFee, PricingFile};

fn d(e: impl Into<crate::error::Source>) -> AccountError {
    AccountError::domain(e)
}

/// An activity's cost on `basis` at `quantity`, with how it was made up.
fn activity_cost(
    pf: &PricingFile,
    activity: &str,
    quantity: Decimal,
    basis: CostBasis,
) -> Result<Option<(Decimal, String)>, AccountError> {
    let Some(c) = pf.cost_model.activity(activity) else {
        return Ok(None);
    };
    let op = "open-book cost";
    let mut cost = num::mul(c.variable_per_unit, quantity, op).map_err(d)?;
    let mut how = format!(
        "{} × {}",
        c.variable_per_unit,
        crate::format::grouped(quantity, 0)
    );
    if basis != CostBasis::Variable {
        cost = num::add(cost, c.dedicated_fixed, op).map_err(d)?;
        how.push_str(&format!(" + {} fixed", money(c.dedicated_fixed)));
    }
    if basis == CostBasis::Full {
        cost = num::add(cost, c.allocated_overhead, op).map_err(d)?;
        how.push_str(&format!(" + {} overhead", money(c.allocated_overhead)));
    }
    Ok(Some((cost, how)))
}

fn basis_name(b: CostBasis) -> &'static str {
    match b {
        CostBasis::Variable => "variable",
        CostBasis::Direct => "direct",
        CostBasis::Full => "full",
    }
}

/// Open book: one line per activity (its cost replaces its card amount), then the fee.
pub(super) fn open_book_lines(
    account: &Account,
    ob: &OpenBookTerms,
    pf: &PricingFile,
    vols: &Volumes,
    quote: &mut pricing::Quote,
    charges: &mut Charges,
) -> Result<(), AccountError> {
    let activities = ob.activities.get_ref();
    if activities.is_empty() {
        return Err(at_span(
            account,
            ob.activities.span(),
            "activities",
            "open book needs at least one activity".into(),
        ));
    }
    let fee = *ob.fee.get_ref();
    let (value, what) = match fee {
        OpenBookFee::Fixed { amount } => (amount, "management fee"),
        OpenBookFee::PercentOfCost { pct } => (pct, "management fee %"),
        OpenBookFee::Markup { pct } => (pct, "markup %"),
    };
    if value < Decimal::ZERO {
        return Err(at_span(
            account,
            ob.fee.span(),
            "fee",
            format!("{what} {value} must not be negative"),
        ));
    }
    let op = "open book";
    let mut total = Decimal::ZERO;
    // The fee is charged on the open-book activities in proportion to their cost.
    let mut costs = Vec::with_capacity(activities.len());
    for a in activities {
        let name = a.get_ref();
        if pf.proposal.activity(name).is_none() {
            return Err(at_span(
                account,
                a.span(),
                "activities",
                format!("activity {name:?} is not on the proposal card"),
            ));
        }
        let quantity = vols.get(name).copied().unwrap_or_default();
        let Some((cost, how)) = activity_cost(pf, name, quantity, ob.cost)? else {
            return Err(at_span(
                account,
                a.span(),
                "activities",
                format!("activity {name:?} has no [cost_model] entry to pass through"),
            ));
        };
        let card = quote.line(name).map_or(Decimal::ZERO, |l| l.amount.amount());
        total = num::add(total, cost, op).map_err(d)?;
        costs.push((name.clone(), cost));
        charges.add(
            quote,
            format!(
                "open book {name}: {} cost {how} = {} replaces the card's {}",
                basis_name(ob.cost),
                money(cost),
                money(card)
            ),
            num::sub(cost, card, op).map_err(d)?,
            vec![(name.clone(), Decimal::ONE)],
        )?;
    }
    let cost = Money::new(total, pf.proposal.currency());
    let (label, amount) = match fee {
        OpenBookFee::Fixed { amount } => (
            format!("management fee (open book): fixed {} per period", money(amount)),
            amount,
        ),
        OpenBookFee::PercentOfCost { pct } => (
            format!(
                "management fee (open book): {} % of the cost passed through {}",
                pct.normalize(),
                money(total)
            ),
            pricing::FeeBasis::PercentOfCost { pct }.fee(total).map_err(d)?,
        ),
        OpenBookFee::Markup { pct } => {
            let price = pricing::cost_plus(&cost, pricing::Markup::from_pct(pct)).map_err(d)?;
            (
                format!(
                    "cost-plus (open book): {} % markup on the cost passed through {}",
                    pct.normalize(),
                    money(total)
                ),
                num::sub(price.amount(), total, op).map_err(d)?,
            )
        }
    };
    charges.add(quote, label, amount, costs)
}

fn bands(list: &[ShareBandTerms]) -> Vec<pricing::ShareBand> {
    list.iter()
        .map(|b| pricing::ShareBand {
            from_pct: *b.from_pct.get_ref(),
            to_pct: b.to_pct.as_ref().map(|t| *t.get_ref()),
            provider_pct: *b.provider_pct.get_ref(),
        })
        .collect()
}

fn pct_text(p: Decimal) -> String {
    p.normalize().to_string()
}

/// The activities of a gainshare with their baseline unit costs, in the one-activity or
/// the pool form, each with its place in pricing.toml.
type Pool<'a> = Vec<(&'a Spanned<String>, &'a Spanned<Decimal>)>;

/// `[commercial.gainshare]`'s activities: `activity` with `baseline_unit_cost`, or the
/// `baseline_unit_costs` table — exactly one form, and a pool of at least one.
pub(super) fn gainshare_pool<'a>(
    account: &Account,
    g: &'a Spanned<GainshareTerms>,
) -> Result<Pool<'a>, AccountError> {
    let t = g.get_ref();
    let pool_form = t.baseline_unit_costs.as_ref();
    match (&t.activity, &t.baseline_unit_cost, pool_form) {
        (Some(a), Some(u), None) => Ok(vec![(a, u)]),
        (None, None, Some(p)) if p.get_ref().is_empty() => Err(at_span(
            account,
            p.span(),
            "baseline_unit_costs",
            "a gainshare pool needs at least one activity".into(),
        )),
        (None, None, Some(p)) => Ok(p.get_ref().iter().collect()),
        (Some(a), None, None) => Err(at_span(
            account,
            a.span(),
            "baseline_unit_cost",
            "the gainshare's activity needs its baseline_unit_cost".into(),
        )),
        (None, Some(u), None) => Err(at_span(
            account,
            u.span(),
            "activity",
            "the gainshare's baseline_unit_cost needs its activity".into(),
        )),
        (None, None, None) => Err(at_span(
            account,
            g.span(),
            "activity",
            "the gainshare needs activity and baseline_unit_cost, or a baseline_unit_costs pool".into(),
        )),
        (_, _, Some(p)) => Err(at_span(
            account,
            p.span(),
            "baseline_unit_costs",
            "give either activity and baseline_unit_cost, or baseline_unit_costs, not both".into(),
        )),
    }
}

/// Gainshare: the saving of the pool's actual cost against its baseline, shared in
/// bands; the provider's share billed (open book) or the customer's credited (card).
/// Returns the period's settlement, also when it moves nothing.
pub(super) fn gainshare_line(
    account: &Account,
    g: &Spanned<GainshareTerms>,
    pf: &PricingFile,
    vols: &Volumes,
    open: &[&str],
    quote: &mut pricing::Quote,
    charges: &mut Charges,
) -> Result<Option<GainshareSettled>, AccountError> {
    let pool = gainshare_pool(account, g)?;
    let span = g.span();
    let g = g.get_ref();
    if g.band.is_empty() {
        return Err(at_span(
            account,
            span,
            "band",
            "gainshare needs at least one [[commercial.gainshare.band]]".into(),
        ));
    }
    let shares = pricing::BandedGainshare {
        gain: bands(&g.band),
        pain: bands(&g.pain),
    };
    if let Err(e) = shares.validate() {
        let place = match &e {
            pricing::PricingError::ShareBands { side, band, .. } => {
                let list = if *side == pricing::ShareSide::Gain {
                    &g.band
                } else {
                    &g.pain
                };
                list.get(*band).map(|b| b.from_pct.span())
            }
            _ => None,
        };
        let field = if matches!(
            &e,
            pricing::PricingError::ShareBands {
                side: pricing::ShareSide::Pain,
                ..
            }
        ) {
            "pain"
        } else {
            "band"
        };
        return Err(at_span(account, place.unwrap_or(span), field, e.to_string()));
    }
    let op = "gainshare";
    let one = pool.len() == 1;
    let field = if one { "activity" } else { "baseline_unit_costs" };
    let (mut baseline, mut actual) = (Decimal::ZERO, Decimal::ZERO);
    let mut names = Vec::with_capacity(pool.len());
    let mut sums = Vec::with_capacity(pool.len());
    let mut weights = Vec::with_capacity(pool.len());
    let mut on_open_book = None;
    for (a, unit) in &pool {
        let name = a.get_ref();
        let at_activity = |m: String| at_span(account, a.span(), field, m);
        if pf.proposal.activity(name).is_none() {
            return Err(at_activity(format!(
                "activity {name:?} is not on the proposal card"
            )));
        }
        let u = *unit.get_ref();
        if u < Decimal::ZERO {
            return Err(at_span(
                account,
                unit.span(),
                if one {
                    "baseline_unit_cost"
                } else {
                    "baseline_unit_costs"
                },
                format!("baseline unit cost {u} of {name:?} must not be negative"),
            ));
        }
        // Who settles with whom depends on how the pool is billed, so a pool is billed
        // one way: all open book, or all on the card.
        let open_here = open.contains(&name.as_str());
        match on_open_book {
            Some(o) if o != open_here => {
                return Err(at_activity(format!(
                    "activity {name:?} is {} but the pool's first is {}: a gainshare pool is all open book or all card-billed",
                    if open_here {
                        "billed open book"
                    } else {
                        "card-billed"
                    },
                    if o { "billed open book" } else { "card-billed" },
                )));
            }
            _ => on_open_book = Some(open_here),
        }
        let quantity = vols.get(name).copied().unwrap_or_default();
        let Some((cost, _)) = activity_cost(pf, name, quantity, g.cost)? else {
            return Err(at_activity(format!(
                "activity {name:?} has no [cost_model] entry: the actual cost comes from it"
            )));
        };
        let base = num::mul(u, quantity, op).map_err(d)?;
        baseline = num::add(baseline, base, op).map_err(d)?;
        actual = num::add(actual, cost, op).map_err(d)?;
        sums.push(format!("{u} × {}", crate::format::grouped(quantity, 0)));
        weights.push((name.clone(), base));
        names.push(name.clone());
    }
    let on_open_book = on_open_book.unwrap_or(false);
    let o = shares.settle(baseline, actual).map_err(d)?;
    let settled = GainshareSettled {
        activities: names.clone(),
        outcome: o.clone(),
    };
    let amount = if on_open_book {
        o.provider_share
    } else {
        -o.customer_share
    };
    if amount.is_zero() {
        return Ok(Some(settled));
    }
    let slices: Vec<String> = o
        .bands
        .iter()
        .map(|s| {
            let to = s
                .band
                .to_pct
                .map_or("+".to_owned(), |t| format!("–{}", pct_text(t)));
            format!(
                "{}{to} % at {}/{}",
                pct_text(s.band.from_pct),
                pct_text(s.band.provider_pct),
                pct_text(Decimal::ONE_HUNDRED - s.band.provider_pct)
            )
        })
        .collect();
    let word = match o.side {
        pricing::ShareSide::Gain => "saving",
        pricing::ShareSide::Pain => "overrun",
    };
    // Who pays whom: on open book the customer already has the saving (or bears the
    // overrun), so our share is billed (or our part of the overrun credited); on a card
    // line it is the other way round.
    let who = match (on_open_book, o.side) {
        (true, pricing::ShareSide::Gain) => {
            format!("provider's share {} billed (open book)", money(o.provider_share))
        }
        (true, pricing::ShareSide::Pain) => {
            format!(
                "provider bears {}, credited (open book)",
                money(-o.provider_share)
            )
        }
        (false, pricing::ShareSide::Gain) => {
            format!(
                "customer's share {} settled (card-billed)",
                money(o.customer_share)
            )
        }
        (false, pricing::ShareSide::Pain) => {
            format!(
                "customer bears {}, charged (card-billed)",
                money(-o.customer_share)
            )
        }
    };
    charges.add(
        quote,
        format!(
            "{} {}: {} cost {} vs baseline {} = {}: {word} {} ({} %), {} → {who}",
            o.side,
            names.join(", "),
            basis_name(g.cost),
            money(actual),
            sums.join(" + "),
            money(baseline),
            money(o.saving.abs()),
            o.saving_pct
                .map_or("n/a".into(), |p| pct_text(p.abs().round_dp(2))),
            if slices.is_empty() {
                format!("no band shares the {word}")
            } else {
                slices.join(", ")
            },
        ),
        amount,
        weights,
    )?;
    Ok(Some(settled))
}

/// The review date of a period label: the 1st of a `YYYY-MM` month, or a `YYYY-MM-DD`
/// date as it is.
pub fn review_date(period: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(period, "%Y-%m-%d")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok())
}

fn date(account: &Account, s: &Spanned<String>, field: &str) -> Result<NaiveDate, AccountError> {
    NaiveDate::parse_from_str(s.get_ref(), "%Y-%m-%d").map_err(|e| {
        at_span(
            account,
            s.span(),
            field,
            format!("{:?} is not a date (YYYY-MM-DD): {e}", s.get_ref()),
        )
    })
}

/// FX: the activities' amounts repriced by kam-core's `FxClause` at the rate of the
/// period's review date.
pub(super) fn fx_line(
    account: &Account,
    fx: &FxTerms,
    card: &pricing::RateCard,
    open: &[&str],
    quote: &mut pricing::Quote,
    period: &str,
    charges: &mut Charges,
) -> Result<(), AccountError> {
    let at_pair = |m: String| at_span(account, fx.pair.span(), "pair", m);
    let (from, to) = fx.pair.get_ref().split_once('/').ok_or_else(|| {
        at_pair(format!(
            "{:?} is not a pair such as \"EUR/USD\"",
            fx.pair.get_ref()
        ))
    })?;
    let code = |c: &str| Currency::from_code(c.trim()).map_err(|e| at_pair(e.to_string()));
    let (from, to) = (code(from)?, code(to)?);
    let currency = card.currency();
    if currency != from && currency != to {
        return Err(at_pair(format!(
            "the proposal is in {currency}, neither currency of {from}/{to}"
        )));
    }
    let positive = |v: &Spanned<Decimal>, field: &str| {
        if *v.get_ref() <= Decimal::ZERO {
            Err(at_span(
                account,
                v.span(),
                field,
                format!("{field} {} must be > 0", v.get_ref()),
            ))
        } else {
            Ok(*v.get_ref())
        }
    };
    let base_rate = positive(&fx.base_rate, "base_rate")?;
    let deadband = *fx.deadband_pct.get_ref();
    if deadband < Decimal::ZERO {
        return Err(at_span(
            account,
            fx.deadband_pct.span(),
            "deadband_pct",
            format!("deadband {deadband} % must not be negative"),
        ));
    }
    let base_date = date(account, &fx.base_date, "base_date")?;
    let review = review_date(period).ok_or_else(|| {
        at_span(
            account,
            fx.rates.span(),
            "rates",
            format!(
                "period {period:?} has no review date: the FX clause prices YYYY-MM or YYYY-MM-DD periods"
            ),
        )
    })?;
    let mut applied: Option<(NaiveDate, Decimal)> = None;
    for (k, v) in fx.rates.get_ref() {
        let day = date(account, k, "rates")?;
        let rate = positive(v, "rates")?;
        if day <= review && applied.is_none_or(|(a, _)| day > a) {
            applied = Some((day, rate));
        }
    }
    let Some((day, rate)) = applied else {
        return Err(at_span(
            account,
            fx.rates.span(),
            "rates",
            format!("no {from}/{to} rate on or before {review}, the review date of period {period}"),
        ));
    };
    let (base, on, by_activity) = clause_base(account, card, quote, &fx.activities, open, "FX clause")?;
    let clause = pricing::FxClause {
        base: FxRate {
            from,
            to,
            rate: base_rate,
            as_of: base_date,
        },
        deadband_pct: deadband,
        pass_through: fx.pass_through,
    };
    let current = FxRate {
        from,
        to,
        rate,
        as_of: day,
    };
    let o = clause
        .reprice(&Money::new(base, currency), &current)
        .map_err(|e| at_span(account, fx.rates.span(), "rates", e.to_string()))?;
    let amount = num::sub(o.price.amount(), base, "FX clause").map_err(d)?;
    if !o.repriced || amount.is_zero() {
        return Ok(());
    }
    let how = match fx.pass_through {
        pricing::FxPassThrough::Full => "full pass-through",
        pricing::FxPassThrough::BeyondBand => "beyond-band pass-through",
    };
    charges.add(
        quote,
        format!(
            "FX {from}/{to} {rate} of {day} (review {review}) vs base {base_rate} of {base_date}: {} %, beyond ±{} %, {how}: factor {} on {on} {}",
            o.movement_pct.round_dp(2).normalize(),
            deadband.normalize(),
            o.factor.round_dp(6).normalize(),
            money(base)
        ),
        amount,
        by_activity,
    )
}

/// A finding of `kam check` on `[commercial]`: code, 1-based line, message.
pub(crate) type CommercialFinding = (&'static str, usize, String);

/// The references of `[commercial]` checked without pricing: every activity a clause
/// names is on the proposal card (and, for open book and gainshare, in the cost model);
/// no indexation, fuel or FX clause names an open-book activity.
pub(crate) fn commercial_findings(account: &Account) -> Result<Vec<CommercialFinding>, AccountError> {
    let Some(pf) = &account.pricing else {
        return Ok(Vec::new());
    };
    let Some(terms) = &pf.commercial else {
        return Ok(Vec::new());
    };
    let terms: CommercialTerms = super::spanned_terms(account, terms)?;
    let line = |span: std::ops::Range<usize>| {
        account
            .text(super::PRICING)
            .map_or(1, |t| crate::files::line_col(t, span.start).0)
    };
    let mut out = Vec::new();
    let open = terms.open_book_activities();
    let mut costed: Vec<(&str, &Spanned<String>)> = Vec::new();
    if let Some(ob) = &terms.open_book {
        costed.extend(ob.activities.get_ref().iter().map(|a| ("open book", a)));
    }
    if let Some(g) = &terms.gainshare {
        // A gainshare in neither form (or both) is refused when it is priced; here only
        // the activities it names are checked.
        let g = g.get_ref();
        costed.extend(g.activity.iter().map(|a| ("gainshare", a)));
        if let Some(p) = &g.baseline_unit_costs {
            costed.extend(p.get_ref().keys().map(|a| ("gainshare", a)));
        }
    }
    let mut escalated: Vec<(&str, &Spanned<String>)> = Vec::new();
    if let Some(ix) = &terms.indexation {
        escalated.extend(ix.activities.iter().map(|a| ("indexation", a)));
    }
    if let Some(f) = &terms.fuel {
        escalated.extend(f.activities.iter().map(|a| ("fuel surcharge", a)));
    }
    if let Some(f) = &terms.fx {
        escalated.extend(f.activities.iter().map(|a| ("FX clause", a)));
    }
    for (clause, a) in costed.iter().chain(&escalated) {
        let name = a.get_ref();
        if pf.proposal.activity(name).is_none() {
            out.push((
                "commercial-activity-unknown",
                line(a.span()),
                format!("the {clause} names activity {name:?}, which the proposal card does not price"),
            ));
        }
    }
    for (clause, a) in &costed {
        let name = a.get_ref();
        if pf.cost_model.activity(name).is_none() {
            out.push((
                "commercial-activity-unknown",
                line(a.span()),
                format!("the {clause} names activity {name:?}, which [cost_model] does not cost"),
            ));
        }
    }
    for (clause, a) in &escalated {
        if open.contains(&a.get_ref().as_str()) {
            out.push((
                "commercial-open-book-escalated",
                line(a.span()),
                format!(
                    "the {clause} names {:?}, which [commercial.open_book] bills at cost: cost is not escalated",
                    a.get_ref()
                ),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// An account read back from history has values, not text: its terms are written out
    /// again and re-read with places. The new clauses must survive that round trip.
    #[test]
    fn the_samples_terms_read_back_from_their_values() {
        let account = Account::sample().unwrap();
        let terms = account.pricing.as_ref().unwrap().commercial.as_ref().unwrap();
        #[derive(serde::Serialize)]
        struct Out<'a> {
            commercial: &'a crate::model::CommercialTerms,
        }
        let text = toml::to_string(&Out { commercial: terms }).unwrap();
        let back: super::super::SpannedPricing = toml::from_str(&text).unwrap();
        let back = back.commercial.unwrap();
        let ob = back.open_book.unwrap();
        assert_eq!(ob.activities.get_ref().len(), 1);
        assert_eq!(
            *ob.fee.get_ref(),
            OpenBookFee::PercentOfCost {
                pct: Decimal::from(8)
            }
        );
        assert_eq!(back.gainshare.unwrap().get_ref().band.len(), 2);
        assert_eq!(back.fx.unwrap().rates.get_ref().len(), 7);
    }

    #[test]
    fn a_period_is_reviewed_on_its_first_day_or_its_date() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(review_date("2026-10"), Some(d("2026-10-01")));
        assert_eq!(review_date("2026-10-15"), Some(d("2026-10-15")));
        assert_eq!(review_date("2026-Q4"), None);
        assert_eq!(review_date("period 2"), None);
    }
}
