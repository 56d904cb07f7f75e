//! [`AccountError`]: why an account could not be loaded or analysed.
//!
//! Errors stay typed on their way up: a domain error keeps its source (`source()`), a
//! script error keeps the [`kam_script::ScriptError`], and a failed plugin is found by
//! walking that chain to the [`RuleError`] that names it ([`rule_error`]) — the caller
//! decides at the top how to print them.

use std::error::Error as StdError;
use std::fmt;

use kam_core::rules::RuleError;

use crate::files::FileError;

/// A boxed error from the domain crates, kept as the source of an [`AccountError`].
pub type Source = Box<dyn StdError + Send + Sync + 'static>;

/// A place in an account file: file, 1-based line and column, and the field if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file's display name (`scenarios/sample/plan.toml`, `sample/plan.toml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field, where known.
    pub field: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        Ok(())
    }
}

/// Why an account could not be loaded or analysed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// A file could not be read or parsed (file:line:col and field).
    #[error(transparent)]
    File(#[from] FileError),
    /// An analysis needs a file the account directory does not have.
    #[error("{file}: not found ({needed_by} needs it)")]
    Missing {
        /// The file's display name.
        file: String,
        /// What needs it.
        needed_by: String,
    },
    /// A domain error located in an account file.
    #[error("{place}{source}")]
    At {
        /// Where.
        place: Place,
        /// The domain error.
        source: Source,
    },
    /// A Rhai rule failed to load or run; `rendered` shows the source line and a caret.
    #[error("{rendered}")]
    Script {
        /// The rendered message.
        rendered: String,
        /// The error.
        source: Box<kam_script::ScriptError>,
    },
    /// A WASM plugin failed: located at its `kam.toml` entry, with its log lines.
    #[error(transparent)]
    Plugin(Box<PluginFailure>),
    /// A domain error with no place in a file (e.g. a computation on valid input).
    #[error("{0}")]
    Domain(#[source] Source),
    /// Invalid input that is none of the above.
    #[error("{0}")]
    Invalid(String),
}

/// A WASM plugin that made a domain call fail, located at its `kam.toml` entry.
#[derive(Debug, thiserror::Error)]
#[error(
    "{place}plugin {plugin:?} ({kind} rule, {path}) failed: {source}{}",
    log_text(log)
)]
pub struct PluginFailure {
    /// The plugin's `kam.toml` entry (field `path`).
    pub place: Place,
    /// The plugin's name.
    pub plugin: String,
    /// Its kind (`pricing`, `growth`, `scoring`, `alert`).
    pub kind: &'static str,
    /// Its path as written in kam.toml.
    pub path: String,
    /// Its log lines, each prefixed with the plugin's name and stream.
    pub log: Vec<String>,
    /// The error the domain code returned (the [`RuleError`] is in its chain).
    pub source: Source,
}

fn log_text(log: &[String]) -> String {
    log.iter().map(|l| format!("\n  {l}")).collect()
}

impl AccountError {
    /// A domain error located at `place`.
    pub fn at(place: Place, source: impl Into<Source>) -> Self {
        AccountError::At {
            place,
            source: source.into(),
        }
    }

    /// A domain error without a place.
    pub fn domain(source: impl Into<Source>) -> Self {
        AccountError::Domain(source.into())
    }

    /// A plain message.
    pub fn invalid(message: impl fmt::Display) -> Self {
        AccountError::Invalid(message.to_string())
    }

    /// A script error, rendered with its source line.
    pub fn script(e: kam_script::ScriptError) -> Self {
        AccountError::Script {
            rendered: e.render(),
            source: Box::new(e),
        }
    }
}

/// The [`RuleError`] anywhere in `err`'s chain — the rule (script, plugin or native) that
/// made a domain call fail — looking through the domain crates' transparent wrappers.
pub fn rule_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a RuleError> {
    let mut next: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(r) = direct_rule_error(e) {
            return Some(r);
        }
        next = e.source();
    }
    None
}

/// The rule name in `err`'s chain, also for errors that name a rule without a
/// [`RuleError`] (a growth rule that returned the wrong number of factors).
pub fn rule_name<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a str> {
    if let Some(r) = rule_error(err) {
        return Some(&r.rule);
    }
    let mut next: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(kam_sim::SimError::RuleShape { rule, .. }) = e.downcast_ref::<kam_sim::SimError>() {
            return Some(rule);
        }
        next = e.source();
    }
    None
}

fn direct_rule_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a RuleError> {
    use kam_core::{metrics::MetricsError, pricing::PricingError, scorecard::ScorecardError};
    if let Some(r) = e.downcast_ref::<RuleError>() {
        return Some(r);
    }
    // `#[error(transparent)]` variants forward `source()` past the rule error itself.
    if let Some(PricingError::Rule(r)) = e.downcast_ref::<PricingError>() {
        return Some(r);
    }
    if let Some(MetricsError::Rule(r)) = e.downcast_ref::<MetricsError>() {
        return Some(r);
    }
    if let Some(ScorecardError::Rule(r)) = e.downcast_ref::<ScorecardError>() {
        return Some(r);
    }
    if let Some(kam_sim::SimError::Rule { source, .. }) = e.downcast_ref::<kam_sim::SimError>() {
        return Some(source);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use kam_core::rules::{RuleErrorKind, RuleHost};

    #[test]
    fn the_rule_is_found_through_transparent_wrappers() {
        let rule = RuleError::new("rebate", RuleHost::Plugin, RuleErrorKind::Trap, "boom");
        let wrapped = AccountError::domain(kam_core::pricing::PricingError::Rule(rule.clone()));
        assert_eq!(rule_error(&wrapped).map(|r| r.rule.as_str()), Some("rebate"));
        let sim = AccountError::domain(kam_sim::SimError::Rule {
            path: 3,
            month: 4,
            source: rule,
        });
        assert_eq!(rule_name(&sim), Some("rebate"));
        assert!(rule_error(&AccountError::invalid("x")).is_none());
    }
}
