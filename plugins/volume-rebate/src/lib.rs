//! Volume rebate: when the quote total exceeds 50,000, a rebate of 2 % of the part above
//! 50,000 (unrounded; the quote's rounding policy applies later). The same rule exists
//! natively and as a Rhai script; all three must agree exactly.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin, num};

struct VolumeRebate;

impl PricingPlugin for VolumeRebate {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let threshold = Decimal::from(50_000);
        if quote.total <= threshold {
            return Ok(Vec::new());
        }
        let over = num::sub(quote.total, threshold, "total - 50000")?;
        let rebate = num::mul(over, Decimal::new(2, 2), "(total - 50000) x 0.02")?;
        Ok(vec![PriceAdjustment {
            label: "volume rebate".to_owned(),
            amount: -rebate,
        }])
    }
}

kam_plugin_sdk::export_pricing_rule!(VolumeRebate);
