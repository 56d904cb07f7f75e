//! A pricing rule built against a future `kam:rules` version: it declares API version
//! 0.9.0, which this host must refuse at load time.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct FromTheFuture;

impl PricingPlugin for FromTheFuture {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        Ok(Vec::new())
    }
}

kam_plugin_sdk::export_pricing_rule!(FromTheFuture, api_version = "0.9.0");
