//! Hostile: returns one adjustment whose label is 10 MiB long.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Long;

impl PricingPlugin for Long {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        Ok(vec![PriceAdjustment {
            label: "x".repeat(10 << 20),
            amount: Decimal::NEGATIVE_ONE,
        }])
    }
}

kam_plugin_sdk::export_pricing_rule!(Long);
