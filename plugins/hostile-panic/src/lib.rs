//! Hostile: panics. The panic message goes to stderr, which the host captures as a log
//! line, and the guest aborts with a trap.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Boom;

impl PricingPlugin for Boom {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        println!("hostile-panic: about to panic on a quote in {}", quote.currency);
        panic!("hostile plugin panicked on purpose ({} lines)", quote.lines.len());
    }
}

kam_plugin_sdk::export_pricing_rule!(Boom);
