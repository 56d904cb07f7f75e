//! Hostile: a growth rule returning factor −1 for every month and service line, which
//! would make every path's revenue negative.

use kam_plugin_sdk::{Decimal, GrowthPlugin, GrowthState, PluginError};

struct Negative;

impl GrowthPlugin for Negative {
    fn on_period(state: &GrowthState) -> Result<Vec<Decimal>, PluginError> {
        Ok(vec![Decimal::NEGATIVE_ONE; state.service_lines.len()])
    }
}

kam_plugin_sdk::export_growth_rule!(Negative);
