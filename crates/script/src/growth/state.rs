//! The state a growth rule's `on_period(state)` receives — one month of a batch whose
//! data all its months share — and its getters in the analyst API. When a batch is
//! traced, the getters record which fields each month reads: what the memo keys on.

use std::sync::{Arc, Mutex};

use kam_core::rules::GrowthState;
use rhai::{Array, Dynamic, INT, ImmutableString};
use rust_decimal::Decimal;

use super::memo::Field;
use crate::api::Api;

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

/// The growth state's getters, in the analyst API's "Rule inputs" section.
pub(crate) fn register(api: &mut Api<'_>) {
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
}
