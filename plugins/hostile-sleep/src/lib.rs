//! Hostile: tries to sleep for an hour (a wall-clock wait inside a host call, which an
//! epoch deadline alone cannot interrupt). The host must refuse to sleep.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Nap;

impl PricingPlugin for Nap {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        Err(PluginError::new("woke up after an hour"))
    }
}

kam_plugin_sdk::export_pricing_rule!(Nap);
