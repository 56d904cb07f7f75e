//! Hostile: returns one adjustment per 20 units of the quote total, at most 2,000,000 (a
//! 40,000,000 quote gets two million adjustments; the sample's proposal ~27,000). The
//! host must refuse them by its output limits without holding them all.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Many;

impl PricingPlugin for Many {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let n = (quote.total / Decimal::from(20)).trunc().mantissa().clamp(0, 2_000_000) as usize;
        Ok((0..n)
            .map(|_| PriceAdjustment {
                label: String::new(),
                amount: Decimal::ZERO,
            })
            .collect())
    }
}

kam_plugin_sdk::export_pricing_rule!(Many);
