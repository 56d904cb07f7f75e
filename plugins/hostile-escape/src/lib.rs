//! Hostile: a label and a log line carrying terminal escape sequences (retitle the
//! terminal, clear the screen, colour, a C1 CSI), a newline that would forge a table row,
//! and a right-to-left override. kam must show them as visible escapes.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Escape;

impl PricingPlugin for Escape {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        println!("hostile-escape log \x1b[31mred\x1b[0m \u{9b}2J \u{202e}txt.exe");
        Ok(vec![PriceAdjustment {
            label: "rebate\x1b]0;pwned\x07\x1b[2J\n  forged row   -999,999.00 \u{202e}cba".into(),
            amount: Decimal::NEGATIVE_ONE,
        }])
    }
}

kam_plugin_sdk::export_pricing_rule!(Escape);
