//! Hostile: tries to read host files and write one. If it ever succeeds it leaks what it
//! read in an adjustment label; under the kam host it must find no file system at all.

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Snoop;

impl PricingPlugin for Snoop {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let mut denied = Vec::new();
        for path in ["/etc/passwd", "Cargo.toml", "../Cargo.toml", "."] {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    return Ok(vec![PriceAdjustment {
                        label: format!("leaked {path}: {}", text.chars().take(40).collect::<String>()),
                        amount: Decimal::ZERO,
                    }]);
                }
                Err(e) => denied.push(format!("read {path}: {e}")),
            }
        }
        match std::fs::write("planted.txt", b"hello") {
            Ok(()) => {
                return Ok(vec![PriceAdjustment {
                    label: "wrote planted.txt".to_owned(),
                    amount: Decimal::ZERO,
                }]);
            }
            Err(e) => denied.push(format!("write planted.txt: {e}")),
        }
        Err(PluginError::new(format!(
            "file access denied: {}",
            denied.join("; ")
        )))
    }
}

kam_plugin_sdk::export_pricing_rule!(Snoop);
