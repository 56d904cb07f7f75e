//! No adjustment: reads the quote (the SDK converts every line, decimals included) and
//! returns no adjustments. The benchmarks run it beside `line-volume-discount` to show
//! what crossing the boundary costs before the rule does any work.

use kam_plugin_sdk::{PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct NoAdjustment;

impl PricingPlugin for NoAdjustment {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        // The lines were converted to get here; nothing qualifies.
        let _ = quote.lines.len();
        Ok(Vec::new())
    }
}

kam_plugin_sdk::export_pricing_rule!(NoAdjustment);
