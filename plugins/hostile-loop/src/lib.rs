//! Hostile: spins forever. The host must stop it (fuel, or the wall-clock deadline).

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Spin;

impl PricingPlugin for Spin {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let mut i: u64 = 0;
        loop {
            i = std::hint::black_box(i.wrapping_add(1));
        }
    }
}

kam_plugin_sdk::export_pricing_rule!(Spin);
