//! The rule inputs as script values: what `adjust`, `on_period`, `score` and `alert`
//! receive. Each wraps the `kam_core::rules` record behind an `Arc`, so passing it to a
//! script is a pointer copy.

use std::sync::{Arc, Mutex};

use kam_core::rules::{AlertInput, GrowthState, MeasureInput, PricingInput, PricingLine};
use rhai::{Array, Dynamic, INT, ImmutableString};
use rust_decimal::Decimal;

use super::Api;
use crate::memo::Field;

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

/// The state a growth rule's `on_period(state)` receives: one month of a batch whose
/// data all its months share (cloning a state is a pointer copy, and service-line names
/// are shared strings, so reading them copies no text).
#[derive(Debug, Clone)]
pub struct PeriodState {
    batch: Arc<PeriodBatch>,
    index: usize,
}

/// The months of one growth-rule call, converted once for the script. When traced, the
/// getters record which fields each month reads (for the growth-month memo).
#[derive(Debug)]
pub(crate) struct PeriodBatch {
    months: Vec<Month>,
    lines: Vec<ServiceLineData>,
    reads: Option<Mutex<Vec<(usize, Field)>>>,
}

#[derive(Debug)]
struct Month {
    month: u32,
    year: u32,
    volume_index: Decimal,
    /// End of this month's entries in `PeriodBatch::lines`.
    lines_end: usize,
}

#[derive(Debug)]
struct ServiceLineData {
    name: ImmutableString,
    revenue: Decimal,
}

impl PeriodBatch {
    /// `states` converted once, in order. A service line name equal to the previous
    /// state's name at the same position is shared.
    pub(crate) fn new(states: &[&GrowthState], traced: bool) -> Arc<PeriodBatch> {
        let mut lines: Vec<ServiceLineData> =
            Vec::with_capacity(states.iter().map(|s| s.service_lines.len()).sum());
        let mut months = Vec::with_capacity(states.len());
        let mut prev_start = 0;
        for s in states {
            let start = lines.len();
            for (j, l) in s.service_lines.iter().enumerate() {
                let name = match lines.get(prev_start + j) {
                    Some(p) if prev_start + j < start && p.name.as_str() == l.service_line => p.name.clone(),
                    _ => ImmutableString::from(l.service_line.as_str()),
                };
                lines.push(ServiceLineData {
                    name,
                    revenue: l.revenue,
                });
            }
            prev_start = start;
            months.push(Month {
                month: s.month,
                year: s.year,
                volume_index: s.volume_index,
                lines_end: lines.len(),
            });
        }
        Arc::new(PeriodBatch {
            months,
            lines,
            reads: traced.then(|| Mutex::new(Vec::new())),
        })
    }

    /// The script value of each month, in order.
    pub(crate) fn states(self: &Arc<Self>) -> Vec<Dynamic> {
        (0..self.months.len())
            .map(|index| {
                Dynamic::from(PeriodState {
                    batch: Arc::clone(self),
                    index,
                })
            })
            .collect()
    }

    /// The fields read so far, as (month index in the batch, field), in reading order;
    /// empty when the batch is not traced.
    pub(crate) fn take_reads(&self) -> Vec<(usize, Field)> {
        self.reads
            .as_ref()
            .and_then(|r| r.lock().ok().map(|mut r| std::mem::take(&mut *r)))
            .unwrap_or_default()
    }

    fn record(&self, index: usize, field: Field) {
        if let Some(reads) = &self.reads
            && let Ok(mut reads) = reads.lock()
        {
            reads.push((index, field));
        }
    }
}

impl PeriodState {
    fn month(&self, field: Field) -> Option<&Month> {
        self.batch.record(self.index, field);
        self.batch.months.get(self.index)
    }

    fn service_lines(&self) -> &[ServiceLineData] {
        let end = self.batch.months.get(self.index).map_or(0, |m| m.lines_end);
        let start = match self.index.checked_sub(1) {
            Some(p) => self.batch.months.get(p).map_or(0, |m| m.lines_end),
            None => 0,
        };
        self.batch.lines.get(start..end).unwrap_or(&[])
    }

    fn line(&self, pos: u32, field: Field) -> Option<&ServiceLineData> {
        self.batch.record(self.index, field);
        self.service_lines().get(pos as usize)
    }
}

/// One service line of a [`PeriodState`].
#[derive(Debug, Clone)]
pub struct ServiceLine {
    state: PeriodState,
    pos: u32,
}

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

    api.ty::<PeriodState>(
        "GrowthState",
        "The month passed to `fn on_period(state)`. Return an array of factors, one per service line, \
         same order (1 leaves a line unchanged).",
    );
    api.getter::<PeriodState, INT>(
        "GrowthState",
        "month",
        "int",
        "Month index from the start, 0-based.",
        |s| s.month(Field::Month).map_or(0, |m| INT::from(m.month)),
    );
    api.getter::<PeriodState, INT>("GrowthState", "year", "int", "Contract year, 1-based.", |s| {
        s.month(Field::Year).map_or(0, |m| INT::from(m.year))
    });
    api.getter::<PeriodState, Decimal>(
        "GrowthState",
        "volume_index",
        "decimal",
        "The customer volume index this month (1 = plan).",
        |s| {
            s.month(Field::VolumeIndex)
                .map_or(Decimal::ZERO, |m| m.volume_index)
        },
    );
    api.getter::<PeriodState, Array>(
        "GrowthState",
        "service_lines",
        "array",
        "Revenue by service line (ServiceLine values), in a fixed order.",
        |s| {
            s.batch.record(s.index, Field::LineCount);
            (0..s.service_lines().len())
                .filter_map(|pos| u32::try_from(pos).ok())
                .map(|pos| {
                    Dynamic::from(ServiceLine {
                        state: s.clone(),
                        pos,
                    })
                })
                .collect()
        },
    );
    api.ty::<ServiceLine>("ServiceLine", "One service line's revenue in a GrowthState.");
    api.getter::<ServiceLine, ImmutableString>(
        "ServiceLine",
        "service_line",
        "string",
        "Service line name.",
        |l| {
            l.state
                .line(l.pos, Field::LineName(l.pos))
                .map_or_else(ImmutableString::new, |d| d.name.clone())
        },
    );
    api.getter::<ServiceLine, Decimal>("ServiceLine", "revenue", "decimal", "Revenue this month.", |l| {
        l.state
            .line(l.pos, Field::LineRevenue(l.pos))
            .map_or(Decimal::ZERO, |d| d.revenue)
    });

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
