//! Line volume discount: every line billed at 10,000 units or more gets a discount of
//! 1.5 % of its amount, labelled with the activity. It touches every line, so it is the
//! rule the benchmarks use to measure the per-line cost of a plugin against native code.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin, num};

struct LineVolumeDiscount;

impl PricingPlugin for LineVolumeDiscount {
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let threshold = Decimal::from(10_000);
        let rate = Decimal::new(15, 3);
        let mut out = Vec::new();
        for line in &quote.lines {
            if line.billed_quantity >= threshold {
                let discount = num::mul(line.amount, rate, &line.activity)?;
                out.push(PriceAdjustment {
                    label: format!("{} volume discount", line.activity),
                    amount: -discount,
                });
            }
        }
        Ok(out)
    }
}

kam_plugin_sdk::export_pricing_rule!(LineVolumeDiscount);
