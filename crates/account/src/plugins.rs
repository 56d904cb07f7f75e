//! The manifest's WASM plugins (`[[plugin]]` in `kam.toml`): checked, loaded into one
//! `kam-plugin` host, and handed to the analyses as `kam_core::rules` trait objects, at
//! the same place and through the same trait as the Rhai rules of the same kind:
//!
//! | kind | trait | where it runs |
//! |---|---|---|
//! | `pricing` | `PricingRule` | after the Rhai pricing rules on the proposal (`price`, `demo`) |
//! | `alert` | `AlertRule` | after the Rhai alert rules (`scorecard --alerts`, `report`, `demo`) |
//! | `scoring` | `KpiScoringRule` | the scorecard's `method = "rule"` measures (`scorecard`, `report`, `demo`) |
//! | `growth` | `GrowthRule` | every month of every path (`simulate DIR`, `report`, `demo`) |
//!
//! A command loads only the kinds it uses. A plugin that is not there is an error naming
//! `kam.toml`, its line and field `path` — unless it is `optional`, then it is skipped
//! with a note. The embedded sample (`kam demo`) carries no plugin files, so `kam demo`
//! always skips its plugins with a note: its output never depends on what was built.
//! A plugin of the wrong kind, for another `kam:rules` version, or one that traps, runs
//! out of fuel or time, or returns garbage is an error naming `kam.toml`, the line, the
//! field (`kind` or `path`) and the plugin; the plugin's log lines come with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kam_core::rules::{AlertRule, GrowthRule, KpiScoringRule, PricingRule, RuleError, RuleHost};
use kam_plugin::{
    AlertPlugin, GrowthPlugin, HostError, KpiScoringPlugin, LogLine, LogStream, PluginHost, PluginLimits,
    PricingPlugin, RuleKind,
};

use crate::error::AccountError;
use crate::files::{self, FileError};
use crate::model::{Account, PluginRef};
use crate::source::Source;

/// The kind named in kam.toml's `kind` field (`kpi_scoring` is accepted for `scoring`).
fn parse_kind(s: &str) -> Option<RuleKind> {
    match s {
        "pricing" => Some(RuleKind::Pricing),
        "growth" => Some(RuleKind::Growth),
        "scoring" | "kpi_scoring" => Some(RuleKind::KpiScoring),
        "alert" => Some(RuleKind::Alert),
        _ => None,
    }
}

/// The name kam.toml uses for `kind`.
pub fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Pricing => "pricing",
        RuleKind::Growth => "growth",
        RuleKind::KpiScoring => "scoring",
        RuleKind::Alert => "alert",
    }
}

/// The command that applies a plugin of `kind` to an account directory.
fn command(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Pricing => "kam price",
        RuleKind::Growth => "kam simulate",
        RuleKind::KpiScoring => "kam scorecard",
        RuleKind::Alert => "kam scorecard --alerts",
    }
}

/// What the commands do with a loaded plugin of `kind` (for the note).
fn applied(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Pricing => "applied to the proposal after the Rhai pricing rules",
        RuleKind::Growth => "applied to every month of every simulated path",
        RuleKind::KpiScoring => "scores the scorecard's rule-scored measures",
        RuleKind::Alert => "applied to the KPI histories after the Rhai alert rules",
    }
}

enum Rule {
    Pricing(PricingPlugin),
    Growth(Arc<GrowthPlugin>),
    Scoring(KpiScoringPlugin),
    Alert(AlertPlugin),
}

impl Rule {
    /// Gives the plugin its kam.toml entry's output limits (before a growth plugin is
    /// shared).
    fn set_output_limits(&mut self, output: kam_plugin::OutputLimits) {
        match self {
            Rule::Pricing(p) => p.set_output_limits(output),
            Rule::Growth(p) => {
                if let Some(p) = Arc::get_mut(p) {
                    p.set_output_limits(output);
                }
            }
            Rule::Scoring(p) => p.set_output_limits(output),
            Rule::Alert(p) => p.set_output_limits(output),
        }
    }

    fn take_log(&self) -> Vec<LogLine> {
        match self {
            Rule::Pricing(p) => p.take_log(),
            Rule::Growth(p) => p.take_log(),
            Rule::Scoring(p) => p.take_log(),
            Rule::Alert(p) => p.take_log(),
        }
    }
}

/// Where a `[[plugin]]` entry sits in kam.toml.
struct PluginPlace {
    file: String,
    text: String,
    index: usize,
}

impl PluginPlace {
    /// An error at field `field` of the entry (the line of `field = …`, column of the
    /// value; the entry's header when the field is not written out).
    fn error(&self, field: &str, message: impl std::fmt::Display) -> AccountError {
        let (line, column) = field_position(&self.text, self.index, field);
        FileError::at(&self.file, line, column, Some(field), message).into()
    }

    /// The place of field `field` of the entry.
    fn at(&self, field: &str) -> crate::error::Place {
        let (line, column) = field_position(&self.text, self.index, field);
        crate::error::Place {
            file: self.file.clone(),
            line,
            column,
            field: Some(field.to_owned()),
        }
    }
}

/// The position of `field`'s value in the `index`-th `[[plugin]]` table of `text`.
fn field_position(text: &str, index: usize, field: &str) -> (usize, usize) {
    let mut offset = 0;
    let mut tables = 0;
    let mut header = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if header.is_some() {
                break;
            }
            if trimmed.starts_with("[[plugin]]") {
                if tables == index {
                    header = Some(offset);
                }
                tables += 1;
            }
        } else if header.is_some()
            && let Some(rest) = trimmed.strip_prefix(field)
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let value_at = offset + line.len() - value.trim_start().len();
            return files::line_col(text, value_at);
        }
        offset += line.len();
    }
    header.map_or((1, 1), |h| files::line_col(text, h))
}

struct Entry {
    name: String,
    kind: RuleKind,
    path: String,
    place: PluginPlace,
    rule: Rule,
}

/// The plugins a command uses, loaded, with a note for each (applied or skipped).
#[derive(Default)]
pub struct Plugins {
    entries: Vec<Entry>,
    notes: Vec<String>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins")
            .field(
                "loaded",
                &self.entries.iter().map(|e| &e.name).collect::<Vec<_>>(),
            )
            .field("notes", &self.notes)
            .finish()
    }
}

/// The environment variable naming the directory kam caches compiled plugins under.
const CACHE_DIR_VAR: &str = "KAM_CACHE_DIR";

/// Where compiled plugins persist between runs: `$KAM_CACHE_DIR/plugins`, else
/// `$XDG_CACHE_HOME/kam/plugins`, else `$HOME/.cache/kam/plugins`; nowhere when
/// `KAM_CACHE_DIR` is set but empty.
fn plugin_cache_dir() -> Option<PathBuf> {
    let non_empty_var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = match std::env::var_os(CACHE_DIR_VAR) {
        Some(dir) if dir.is_empty() => return None,
        Some(dir) => PathBuf::from(dir),
        None => non_empty_var("XDG_CACHE_HOME")
            .or_else(|| non_empty_var("HOME").map(|home| home.join(".cache")))?
            .join("kam"),
    };
    Some(base.join("plugins"))
}

/// The plugin host, caching compiled plugins on disk when it can: a cache directory that
/// cannot be created costs a note and the compilation, never the run.
fn new_host(notes: &mut Vec<String>) -> Result<PluginHost, AccountError> {
    if let Some(dir) = plugin_cache_dir() {
        match PluginHost::with_disk_cache(PluginLimits::default(), dir) {
            Ok(host) => return Ok(host),
            Err(e @ HostError::CacheDir { .. }) => {
                notes.push(format!("{e}; plugins are compiled for this run only"));
            }
            Err(e) => return Err(AccountError::domain(e)),
        }
    }
    PluginHost::new(PluginLimits::default()).map_err(AccountError::domain)
}

impl Plugins {
    /// No plugins (a scenario file given without its account directory).
    pub fn none() -> Self {
        Plugins::default()
    }

    /// Checks every `[[plugin]]` entry of the manifest (known kind, unique name) and loads
    /// those of `kinds`. A missing plugin is an error unless it is optional.
    ///
    /// # Errors
    /// An unknown kind, a name used twice, a second growth or scoring plugin, a missing
    /// non-optional plugin, or one that cannot be loaded as its kind — each at its
    /// kam.toml entry.
    pub fn load(account: &Account, kinds: &[RuleKind]) -> Result<Self, AccountError> {
        let manifest = &account.manifest;
        let file = account.display("kam.toml");
        let text = account.text("kam.toml").unwrap_or_default().to_owned();
        let mut out = Plugins::default();
        let mut host: Option<PluginHost> = None;
        for (index, p) in manifest.plugin.iter().enumerate() {
            let place = PluginPlace {
                file: file.clone(),
                text: text.clone(),
                index,
            };
            let kind = parse_kind(&p.kind).ok_or_else(|| {
                place.error(
                    "kind",
                    format!(
                        "plugin {:?}: unknown kind {:?} (expected pricing, growth, scoring or alert)",
                        p.name, p.kind
                    ),
                )
            })?;
            if manifest.plugin.iter().take(index).any(|q| q.name == p.name) {
                return Err(place.error("name", format!("plugin name {:?} appears twice", p.name)));
            }
            if !kinds.contains(&kind) {
                continue;
            }
            let Some(path) = account.source().path(&p.path).filter(|path| path.is_file()) else {
                if !p.optional {
                    return Err(place.error(
                        "path",
                        format!(
                            "plugin {:?}: {} not found (build it, or mark it optional = true)",
                            p.name, p.path
                        ),
                    ));
                }
                out.notes.push(match account.source() {
                    Source::Sample => format!(
                        "plugin {} ({}): skipped — the embedded sample carries no plugin files (optional; \
                         `{} scenarios/sample` applies it once built)",
                        p.name,
                        p.kind,
                        command(kind)
                    ),
                    Source::Dir(_) | Source::Memory(_) => format!(
                        "plugin {} ({}): skipped — {} is not built (optional)",
                        p.name, p.kind, p.path
                    ),
                });
                continue;
            };
            let single = matches!(kind, RuleKind::Growth | RuleKind::KpiScoring);
            if single && let Some(first) = out.entries.iter().find(|e| e.kind == kind) {
                return Err(place.error(
                    "kind",
                    format!(
                        "plugin {:?}: a second {} plugin (one {} rule applies at a time; {:?} is the first)",
                        p.name,
                        kind_name(kind),
                        kind_name(kind),
                        first.name
                    ),
                ));
            }
            let host = match &host {
                Some(h) => h,
                None => host.insert(new_host(&mut out.notes)?),
            };
            let rule = load_one(host, p, kind, &path, &place)?;
            out.notes.push(format!(
                "plugin {} ({}, {}): {}",
                p.name,
                kind_name(kind),
                p.path,
                applied(kind)
            ));
            out.entries.push(Entry {
                name: p.name.clone(),
                kind,
                path: p.path.clone(),
                place,
                rule,
            });
        }
        Ok(out)
    }

    /// One line per plugin of the command's kinds: applied, or skipped and why.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The pricing plugins, in manifest order.
    pub fn pricing(&self) -> impl Iterator<Item = &dyn PricingRule> {
        self.entries.iter().filter_map(|e| match &e.rule {
            Rule::Pricing(p) => Some(p as &dyn PricingRule),
            _ => None,
        })
    }

    /// The alert plugins, in manifest order.
    pub fn alert(&self) -> impl Iterator<Item = &dyn AlertRule> {
        self.entries.iter().filter_map(|e| match &e.rule {
            Rule::Alert(p) => Some(p as &dyn AlertRule),
            _ => None,
        })
    }

    /// The scoring plugin, if any (at most one).
    pub fn scoring(&self) -> Option<&dyn KpiScoringRule> {
        self.entries.iter().find_map(|e| match &e.rule {
            Rule::Scoring(p) => Some(p as &dyn KpiScoringRule),
            _ => None,
        })
    }

    /// The growth plugin, if any (at most one).
    pub fn growth(&self) -> Option<Arc<dyn GrowthRule>> {
        self.entries.iter().find_map(|e| match &e.rule {
            Rule::Growth(p) => Some(Arc::clone(p) as Arc<dyn GrowthRule>),
            _ => None,
        })
    }

    /// The plugins' log lines since the last call, each prefixed with the plugin's name
    /// and stream.
    pub fn take_log(&self) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| e.rule.take_log().into_iter().map(move |l| log_line(&e.name, &l)))
            .collect()
    }

    /// `err` (from a domain call that ran these plugins) located at the `kam.toml` entry
    /// of the plugin that made it fail, with its log lines: the plugin is the rule named
    /// in `err`'s source chain ([`crate::error::rule_name`]). `err` unchanged when no
    /// plugin of these failed.
    pub fn locate(&self, err: AccountError) -> AccountError {
        let AccountError::Domain(source) = err else {
            return err;
        };
        let named = crate::error::rule_error(source.as_ref())
            .filter(|r| r.host == RuleHost::Plugin)
            .map(|r| r.rule.as_str())
            .or_else(|| crate::error::rule_name(source.as_ref()));
        let Some(e) = named.and_then(|n| self.entries.iter().find(|e| e.name == n)) else {
            return AccountError::Domain(source);
        };
        AccountError::Plugin(Box::new(crate::error::PluginFailure {
            place: e.place.at("path"),
            plugin: e.name.clone(),
            kind: kind_name(e.kind),
            path: e.path.clone(),
            log: e.rule.take_log().iter().map(|l| log_line(&e.name, l)).collect(),
            source,
        }))
    }

    /// Ends a command's use of the plugins: on success prints the notes (applied or
    /// skipped) and the plugins' log lines on stderr, so stdout stays the report or JSON;
    /// on failure prints only the log lines not already in the error, and returns it.
    pub fn finish<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() {
            for n in &self.notes {
                eprintln!("note: {n}");
            }
        }
        for l in self.take_log() {
            eprintln!("{l}");
        }
        for n in self.rerun_notes() {
            eprintln!("note: {n}");
        }
        result
    }

    /// A note for each growth plugin whose batch call failed on some paths: their months
    /// were re-run one call each, all within the path's budget of one call's fuel and
    /// wall time (so a plugin failing every batch costs two budgets a path, not one a
    /// month).
    pub fn rerun_notes(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match &e.rule {
                Rule::Growth(p) if p.reruns() > 0 => Some(format!(
                    "plugin {}: its batch call failed on {} paths, whose months were re-run one call each \
                     within the path's budget (one call's fuel and wall time)",
                    e.name,
                    p.reruns()
                )),
                _ => None,
            })
            .collect()
    }
}

fn log_line(name: &str, line: &LogLine) -> String {
    let stream = match line.stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    };
    format!(
        "plugin {name} {stream}: {}",
        kam_core::text::for_terminal_line(&line.text)
    )
}

/// Loads `p` as `kind`; on failure tells a plugin of another kind (field `kind`) from one
/// that cannot be used at all (field `path`).
fn load_one(
    host: &PluginHost,
    p: &PluginRef,
    kind: RuleKind,
    path: &Path,
    place: &PluginPlace,
) -> Result<Rule, AccountError> {
    let max_bytes = p.max_file_bytes.unwrap_or(host.limits().max_file_bytes);
    let field = if p.max_file_bytes.is_some() {
        "max_file_bytes"
    } else {
        "path"
    };
    let wasm = kam_plugin::read_bounded(path, max_bytes)
        .map_err(|e| place.error(field, format!("plugin {:?}: {e}", p.name)))?;
    let output = p.output_limits(host.limits().output);
    let loaded = load_as(host, &p.name, &wasm, kind).map(|mut rule| {
        rule.set_output_limits(output);
        rule
    });
    loaded.map_err(|e| {
        let actual = RuleKind::ALL
            .into_iter()
            .filter(|k| *k != kind)
            .find(|k| load_as(host, &p.name, &wasm, *k).is_ok());
        match actual {
            Some(actual) => place.error(
                "kind",
                format!(
                    "plugin {:?} ({}) is a {} plugin (world {}), but kam.toml says kind = {:?} (world {})",
                    p.name,
                    p.path,
                    kind_name(actual),
                    actual.world(),
                    p.kind,
                    kind.world()
                ),
            ),
            None => place.error(
                "path",
                format!(
                    "plugin {:?} ({}): cannot load as a {} plugin: {}",
                    p.name,
                    p.path,
                    kind_name(kind),
                    e.message
                ),
            ),
        }
    })
}

fn load_as(host: &PluginHost, name: &str, wasm: &[u8], kind: RuleKind) -> Result<Rule, RuleError> {
    Ok(match kind {
        RuleKind::Pricing => Rule::Pricing(host.load_pricing(name, wasm)?),
        RuleKind::Growth => Rule::Growth(Arc::new(host.load_growth(name, wasm)?)),
        RuleKind::KpiScoring => Rule::Scoring(host.load_kpi_scoring(name, wasm)?),
        RuleKind::Alert => Rule::Alert(host.load_alert(name, wasm)?),
    })
}

#[cfg(test)]
#[path = "../../../tests/support/guests.rs"]
mod guests;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use kam_core::rules::GrowthState;
    use rust_decimal::Decimal;

    #[test]
    fn field_position_finds_the_entry_and_the_value() {
        let text = "as_of = \"2026-11-20\"\n\n[[plugin]]\nname = \"a\"\nkind = \"pricing\"\n\n\
                    [[plugin]]\nname = \"b\"\n  kind   = \"growth\"\npath = \"x.wasm\"\n";
        assert_eq!(field_position(text, 0, "kind"), (5, 8));
        assert_eq!(field_position(text, 1, "kind"), (9, 12));
        assert_eq!(field_position(text, 1, "path"), (10, 8));
        // Not written out: the entry's header.
        assert_eq!(field_position(text, 0, "path"), (3, 1));
        assert_eq!(field_position(text, 5, "path"), (1, 1));
    }

    fn months(year: u32) -> Vec<GrowthState> {
        (0..36)
            .map(|month| GrowthState {
                month,
                year,
                volume_index: Decimal::new(102, 2),
                service_lines: ["warehousing", "transport"]
                    .iter()
                    .map(|l| kam_core::rules::ServiceLineRevenue {
                        service_line: (*l).into(),
                        revenue: Decimal::new(12_500_000, 2),
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn a_failing_plugin_is_found_from_the_error_chain_and_keeps_the_batch_call() {
        use kam_core::rules::PeriodFactors;
        let host = PluginHost::new(PluginLimits::default()).unwrap();
        let plugin = host
            .load_growth("oem", &guests::wasm("oem-volume-growth"))
            .unwrap();
        let before = plugin.calls();
        let mut out = PeriodFactors::new();
        GrowthRule::on_periods(&plugin, &months(2), &mut out).unwrap();
        assert_eq!(out.len(), 36);
        assert_eq!(plugin.calls() - before, 1, "one call per path, not per month");

        // The rule refuses year 5,000 (1.03^4999 overflows): the error keeps its month,
        // and the simulation error that wraps it leads to the plugin's kam.toml entry.
        let err = GrowthRule::on_periods(&plugin, &months(5_000), &mut PeriodFactors::new()).unwrap_err();
        assert_eq!(err.index, 0);
        let text =
            "as_of = \"2026-11-20\"\n[[plugin]]\nname = \"oem\"\nkind = \"growth\"\npath = \"x.wasm\"\n";
        let plugins = Plugins {
            entries: vec![Entry {
                name: "oem".into(),
                kind: RuleKind::Growth,
                path: "x.wasm".into(),
                place: PluginPlace {
                    file: "kam.toml".into(),
                    text: text.into(),
                    index: 0,
                },
                rule: Rule::Growth(Arc::new(plugin)),
            }],
            notes: Vec::new(),
        };
        let located = plugins.locate(AccountError::domain(kam_sim::SimError::Rule {
            path: 0,
            month: 0,
            source: err.error,
        }));
        let message = located.to_string();
        assert!(
            message.starts_with("kam.toml:5:8: field `path`: plugin \"oem\" (growth rule"),
            "{message}"
        );
        assert!(matches!(located, AccountError::Plugin(_)));
    }
}
