//! Band KPI score. With a red threshold: clamp((actual - red) / (target - red), 0, 1.10),
//! which works for both directions because red lies on the bad side of target. Without
//! one: actual / target when higher is better, target / actual when lower is better,
//! capped at 1.10.

use kam_plugin_sdk::{Decimal, Direction, KpiScoringPlugin, MeasureInput, PluginError, num};

struct BandKpiScore;

impl KpiScoringPlugin for BandKpiScore {
    fn score(measures: &[MeasureInput]) -> Result<Vec<Decimal>, PluginError> {
        let cap = Decimal::new(110, 2);
        measures
            .iter()
            .map(|m| {
                let what = |s: &str| format!("{}: {s}", m.name);
                let raw = match m.red {
                    Some(red) => {
                        let above = num::sub(m.actual, red, &what("actual - red"))?;
                        let band = num::sub(m.target, red, &what("target - red"))?;
                        let x = num::div(above, band, &what("(actual - red) / (target - red)"))?;
                        if x < Decimal::ZERO { Decimal::ZERO } else { x }
                    }
                    None => match m.direction {
                        Direction::HigherIsBetter => num::div(m.actual, m.target, &what("actual / target"))?,
                        Direction::LowerIsBetter => num::div(m.target, m.actual, &what("target / actual"))?,
                    },
                };
                Ok(if raw > cap { cap } else { raw })
            })
            .collect()
    }
}

kam_plugin_sdk::export_kpi_scoring_rule!(BandKpiScore);
