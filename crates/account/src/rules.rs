//! The manifest's Rhai rules (`[rules]` in kam.toml), loaded from the account into one
//! sandboxed script host and handed to the engines as `kam_core::rules` trait objects.

use std::sync::Arc;

use kam_core::rules::{GrowthRule, GrowthRules};
use kam_script::{Limits, ScriptAlertRule, ScriptGrowthRule, ScriptHost, ScriptPricingRule};

use crate::error::AccountError;
use crate::model::Account;
use crate::plugins::Plugins;

/// A new sandboxed script host (the account keeps one: [`Account::script_host`]).
pub(crate) fn new_host() -> Arc<ScriptHost> {
    Arc::new(ScriptHost::new(Limits::default()))
}

/// The manifest's Rhai pricing rules, in order.
///
/// # Errors
/// A script that cannot be read or compiled, or lacks `fn adjust(quote)`.
pub fn pricing(account: &Account) -> Result<Vec<ScriptPricingRule>, AccountError> {
    let host = account.script_host();
    let mut out = Vec::new();
    for r in &account.manifest.rules.pricing {
        let src = account.read_file(r)?;
        out.push(ScriptPricingRule::load(Arc::clone(&host), r, &src).map_err(AccountError::script)?);
    }
    Ok(out)
}

/// The manifest's Rhai alert rules, in order.
///
/// # Errors
/// A script that cannot be read or compiled, or lacks `fn alert(input)`.
pub fn alert(account: &Account) -> Result<Vec<ScriptAlertRule>, AccountError> {
    let host = account.script_host();
    let mut out = Vec::new();
    for r in &account.manifest.rules.alert {
        let src = account.read_file(r)?;
        out.push(ScriptAlertRule::load(Arc::clone(&host), r, &src).map_err(AccountError::script)?);
    }
    Ok(out)
}

/// The manifest's growth rules — its Rhai growth rules, then its growth plugin — as one
/// rule (a line's factors multiply), or `None` when it has none.
///
/// # Errors
/// A script that cannot be read or compiled, or lacks `fn on_period(state)`.
pub fn growth(account: &Account, plugins: &Plugins) -> Result<Option<Arc<dyn GrowthRule>>, AccountError> {
    let host = account.script_host();
    let mut rules: Vec<Arc<dyn GrowthRule>> = Vec::new();
    for r in &account.manifest.rules.growth {
        let src = account.read_file(r)?;
        let rule = ScriptGrowthRule::load(Arc::clone(&host), r, &src).map_err(AccountError::script)?;
        rules.push(Arc::new(rule));
    }
    rules.extend(plugins.growth());
    Ok(match rules.len() {
        0 | 1 => rules.pop(),
        _ => Some(Arc::new(GrowthRules::new(rules))),
    })
}
