//! Hostile: allocates (and touches) 1 MiB blocks until memory runs out. The host must stop
//! it at its memory limit.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Hoard;

impl PricingPlugin for Hoard {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

kam_plugin_sdk::export_pricing_rule!(Hoard);
