//! Hostile: looks for environment variables, command-line arguments, a working directory
//! and the real time. Anything it finds it leaks in an adjustment label; under the kam
//! host it must find nothing and a wall clock stopped at the Unix epoch.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};

struct Peek;

impl PricingPlugin for Peek {
    fn adjust(_quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
        let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
        let args: Vec<String> = std::env::args().collect();
        let path = std::env::var("PATH");
        let home = std::env::var("HOME");
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(u128::MAX);
        let start = Instant::now();
        let elapsed = start.elapsed().as_nanos();
        if !vars.is_empty() || !args.is_empty() || path.is_ok() || home.is_ok() || since_epoch != 0 {
            return Ok(vec![PriceAdjustment {
                label: format!("leaked: vars {vars:?}, args {args:?}, clock {since_epoch} ns"),
                amount: Decimal::ZERO,
            }]);
        }
        Err(PluginError::new(format!(
            "no ambient authority: {} environment variables, {} arguments, PATH unset, \
             wall clock at {since_epoch} ns since 1970, monotonic clock advanced {elapsed} ns",
            vars.len(),
            args.len()
        )))
    }
}

kam_plugin_sdk::export_pricing_rule!(Peek);
