//! OEM volume growth: the OEM's production volume grows 3 % a year, which drives the
//! `warehousing` and `inbound_to_manufacturing` service lines; their factor in contract
//! year `y` is 1.03^(y-1), by repeated exact multiplication. Other lines keep factor 1.

use kam_plugin_sdk::{Decimal, GrowthPlugin, GrowthState, PluginError, num};

struct OemVolumeGrowth;

impl GrowthPlugin for OemVolumeGrowth {
    fn on_period(state: &GrowthState) -> Result<Vec<Decimal>, PluginError> {
        let step = Decimal::new(103, 2);
        let mut factor = Decimal::ONE;
        for _ in 1..state.year {
            factor = num::mul(factor, step, "1.03^(year-1)")?;
        }
        Ok(state
            .service_lines
            .iter()
            .map(|s| match s.service_line.as_str() {
                "warehousing" | "inbound_to_manufacturing" => factor,
                _ => Decimal::ONE,
            })
            .collect())
    }
}

kam_plugin_sdk::export_growth_rule!(OemVolumeGrowth);
