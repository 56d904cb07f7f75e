//! Hostile: recurses without end (the base case is never reached for any input). The
//! host must stop it at its stack limit.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Deep;

fn depth(n: u64) -> u64 {
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    std::hint::black_box(depth(std::hint::black_box(n + 1))) + 1
}

impl PricingPlugin for Deep {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let d = depth(quote.lines.len() as u64);
        Err(PluginError::new(format!("returned from depth {d}")))
    }
}

kam_plugin_sdk::export_pricing_rule!(Deep);
