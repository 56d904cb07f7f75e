//! The rule inputs as script values: what `adjust`, `on_period`, `score` and `alert`
//! receive. Each wraps the `kam_core::rules` record behind an `Arc`, so passing it to a
//! script is a pointer copy.

use std::sync::Arc;

use kam_core::rules::{AlertInput, MeasureInput, PricingInput, PricingLine};
use rhai::{Array, Dynamic};
use rust_decimal::Decimal;

use super::Api;

/// The quote a pricing rule's `adjust(quote)` receives. `lines_loaded` is false when the
/// rule's source never mentions `lines`: copying a 1,000-line quote for a rule that reads
/// only the total is then skipped, and a computed access to `.lines` is an error, never
/// an empty list.
#[derive(Debug, Clone)]
pub struct QuoteInput {
    /// The quote.
    pub input: Arc<PricingInput>,
    /// Whether `input.lines` holds the quote's lines.
    pub lines_loaded: bool,
}

/// One line of a [`QuoteInput`].
#[derive(Debug, Clone)]
pub struct QuoteLine(pub PricingLine);

/// The measure a scoring rule's `score(measure)` receives.
#[derive(Debug, Clone)]
pub struct Measure(pub Arc<MeasureInput>);

/// The KPI history an alert rule's `alert(input)` receives.
#[derive(Debug, Clone)]
pub struct AlertHistory(pub Arc<AlertInput>);

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Rule inputs (what rule scripts receive)");
    api.ty::<QuoteInput>(
        "PricingInput",
        "The quote passed to `fn adjust(quote)`. Return `[]` (or `()`) for no adjustment, or an array of \
         #{ label: string, amount: number or Money } (negative for a rebate).",
    );
    api.getter::<QuoteInput, String>(
        "PricingInput",
        "currency",
        "string",
        "ISO 4217 code of the quote.",
        |q| q.input.currency.clone(),
    );
    api.getter::<QuoteInput, Decimal>(
        "PricingInput",
        "total",
        "decimal",
        "Quote total before adjustments.",
        |q| q.input.total,
    );
    api.getter_result::<QuoteInput, Array>(
        "PricingInput",
        "lines",
        "array",
        "The quote's lines (PricingLine values), in card order.",
        |q| {
            if !q.lines_loaded {
                return Err(super::fn_err(
                    "PricingInput.lines",
                    "lines are passed only to rules whose source mentions `lines`",
                ));
            }
            Ok(q.input
                .lines
                .iter()
                .map(|l| Dynamic::from(QuoteLine(l.clone())))
                .collect())
        },
    );
    api.ty::<QuoteLine>("PricingLine", "One priced line of a PricingInput.");
    api.getter::<QuoteLine, String>("PricingLine", "activity", "string", "Activity name.", |l| {
        l.0.activity.clone()
    });
    api.getter::<QuoteLine, Decimal>("PricingLine", "quantity", "decimal", "Quantity performed.", |l| {
        l.0.quantity
    });
    api.getter::<QuoteLine, Decimal>(
        "PricingLine",
        "billed_quantity",
        "decimal",
        "Quantity billed (≥ quantity under a minimum commitment).",
        |l| l.0.billed_quantity,
    );
    api.getter::<QuoteLine, Decimal>(
        "PricingLine",
        "amount",
        "decimal",
        "Line amount as priced.",
        |l| l.0.amount,
    );

    crate::growth::register(api);

    api.ty::<Measure>(
        "MeasureInput",
        "The measure passed to `fn score(measure)`. Return the score as a number (1 = on target).",
    );
    api.getter::<Measure, String>("MeasureInput", "name", "string", "Measure or KPI name.", |m| {
        m.0.name.clone()
    });
    api.getter::<Measure, Decimal>("MeasureInput", "actual", "decimal", "Actual value.", |m| {
        m.0.actual
    });
    api.getter::<Measure, Decimal>("MeasureInput", "target", "decimal", "Target value.", |m| {
        m.0.target
    });
    api.getter::<Measure, String>(
        "MeasureInput",
        "direction",
        "string",
        "\"higher\" or \"lower\".",
        |m| m.0.direction.as_str().to_owned(),
    );
    api.getter::<Measure, Dynamic>(
        "MeasureInput",
        "red",
        "decimal or ()",
        "The red threshold, or () when the measure has none.",
        |m| m.0.red.map_or(Dynamic::UNIT, Dynamic::from_decimal),
    );

    api.ty::<AlertHistory>(
        "AlertInput",
        "The KPI history passed to `fn alert(input)`. Return a bool, or #{ raise: bool, message: string }.",
    );
    api.getter::<AlertHistory, String>("AlertInput", "kpi", "string", "KPI id.", |a| a.0.kpi.clone());
    api.getter::<AlertHistory, String>("AlertInput", "node", "string", "Account node id.", |a| {
        a.0.node.clone()
    });
    api.getter::<AlertHistory, String>(
        "AlertInput",
        "direction",
        "string",
        "\"higher\" or \"lower\".",
        |a| a.0.direction.as_str().to_owned(),
    );
    api.getter::<AlertHistory, Decimal>("AlertInput", "target", "decimal", "Target value.", |a| a.0.target);
    api.getter::<AlertHistory, Array>(
        "AlertInput",
        "history",
        "array",
        "Values per period, oldest first; the last is the current period.",
        |a| a.0.history.iter().copied().map(Dynamic::from_decimal).collect(),
    );
}
