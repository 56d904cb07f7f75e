//! Consecutive miss: raise an alert when a KPI missed its target in each of the last two
//! periods (below target when higher is better, above it when lower is better).

use kam_plugin_sdk::{AlertDecision, AlertInput, AlertPlugin, Direction, PluginError};

struct ConsecutiveMiss;

impl AlertPlugin for ConsecutiveMiss {
    fn decide(inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, PluginError> {
        Ok(inputs
            .iter()
            .map(|a| {
                let missed = |v: &kam_plugin_sdk::Decimal| match a.direction {
                    Direction::HigherIsBetter => *v < a.target,
                    Direction::LowerIsBetter => *v > a.target,
                };
                let last_two = a.history.iter().rev().take(2);
                let raise = a.history.len() >= 2 && last_two.clone().all(missed);
                let message = if raise {
                    format!(
                        "{} at {} missed target {} in the last 2 periods",
                        a.kpi, a.node, a.target
                    )
                } else {
                    String::new()
                };
                AlertDecision { raise, message }
            })
            .collect())
    }
}

kam_plugin_sdk::export_alert_rule!(ConsecutiveMiss);
