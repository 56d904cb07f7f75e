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
use std::sync::{Arc, Mutex};

use kam_core::rules::{
    AlertDecision, AlertInput, AlertRule, GrowthRule, GrowthState, KpiScoringRule, MeasureInput, PeriodError,
    PeriodFactors, PriceAdjustment, PricingInput, PricingRule, RuleError,
};
use kam_plugin::{
    AlertPlugin, GrowthPlugin, HostError, KpiScoringPlugin, LogLine, LogStream, PluginHost, PluginLimits,
    PricingPlugin,
};
use rust_decimal::Decimal;

use crate::account_dir::{AccountDir, Manifest, PluginRef};
use crate::analysis::input;
use crate::error::CliError;
use crate::files::{self, FileError};

/// The rule kind a `[[plugin]]` entry declares in its `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `kind = "pricing"`: adjusts the priced proposal.
    Pricing,
    /// `kind = "growth"`: factors per service line and simulated month.
    Growth,
    /// `kind = "scoring"`: scores the scorecard's rule-scored measures.
    Scoring,
    /// `kind = "alert"`: raises alerts from KPI histories.
    Alert,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [Kind::Pricing, Kind::Growth, Kind::Scoring, Kind::Alert];

    /// The kind named in kam.toml (`kpi_scoring` is accepted for `scoring`).
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "pricing" => Some(Kind::Pricing),
            "growth" => Some(Kind::Growth),
            "scoring" | "kpi_scoring" => Some(Kind::Scoring),
            "alert" => Some(Kind::Alert),
            _ => None,
        }
    }

    /// The name used in kam.toml.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pricing => "pricing",
            Kind::Growth => "growth",
            Kind::Scoring => "scoring",
            Kind::Alert => "alert",
        }
    }

    /// The WIT world a plugin of this kind targets.
    fn world(self) -> &'static str {
        match self {
            Kind::Pricing => "pricing-rule",
            Kind::Growth => "growth-rule",
            Kind::Scoring => "kpi-scoring-rule",
            Kind::Alert => "alert-rule",
        }
    }

    /// The command that applies a plugin of this kind to an account directory.
    fn command(self) -> &'static str {
        match self {
            Kind::Pricing => "kam price",
            Kind::Growth => "kam simulate",
            Kind::Scoring => "kam scorecard",
            Kind::Alert => "kam scorecard --alerts",
        }
    }

    /// What the CLI does with a loaded plugin of this kind (for the note).
    fn applied(self) -> &'static str {
        match self {
            Kind::Pricing => "applied to the proposal after the Rhai pricing rules",
            Kind::Growth => "applied to every month of every simulated path",
            Kind::Scoring => "scores the scorecard's rule-scored measures",
            Kind::Alert => "applied to the KPI histories after the Rhai alert rules",
        }
    }
}

/// A loaded plugin that remembers its first failure, so an error the domain code wraps
/// (a quote, a scorecard, a simulation path) can still be reported at the plugin's
/// `kam.toml` entry.
struct Watched<P> {
    plugin: P,
    failure: Mutex<Option<RuleError>>,
}

impl<P> Watched<P> {
    fn new(plugin: P) -> Self {
        Watched {
            plugin,
            failure: Mutex::new(None),
        }
    }

    fn watch<T>(&self, result: Result<T, RuleError>) -> Result<T, RuleError> {
        if let Err(e) = &result
            && let Ok(mut failure) = self.failure.lock()
        {
            failure.get_or_insert_with(|| e.clone());
        }
        result
    }

    fn failure(&self) -> Option<RuleError> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
}

impl PricingRule for Watched<PricingPlugin> {
    fn name(&self) -> &str {
        self.plugin.name()
    }
    fn adjust(&self, quote: &PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> {
        self.watch(self.plugin.adjust(quote))
    }
}

impl GrowthRule for Watched<GrowthPlugin> {
    fn name(&self) -> &str {
        self.plugin.name()
    }
    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        self.watch(self.plugin.on_period(state))
    }
    // Forwarded, not left to the trait's month-by-month default: the plugin's batch call
    // is one instantiation per path instead of one per month.
    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        let result = self.plugin.on_periods(states, out);
        if let Err(e) = &result {
            let _ = self.watch::<()>(Err(e.error.clone()));
        }
        result
    }
}

impl KpiScoringRule for Watched<KpiScoringPlugin> {
    fn name(&self) -> &str {
        self.plugin.name()
    }
    fn score(&self, measures: &[MeasureInput]) -> Result<Vec<Decimal>, RuleError> {
        self.watch(self.plugin.score(measures))
    }
}

impl AlertRule for Watched<AlertPlugin> {
    fn name(&self) -> &str {
        self.plugin.name()
    }
    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError> {
        self.watch(self.plugin.alert(inputs))
    }
}

enum Rule {
    Pricing(Watched<PricingPlugin>),
    Growth(Arc<Watched<GrowthPlugin>>),
    Scoring(Watched<KpiScoringPlugin>),
    Alert(Watched<AlertPlugin>),
}

impl Rule {
    fn take_log(&self) -> Vec<LogLine> {
        match self {
            Rule::Pricing(p) => p.plugin.take_log(),
            Rule::Growth(p) => p.plugin.take_log(),
            Rule::Scoring(p) => p.plugin.take_log(),
            Rule::Alert(p) => p.plugin.take_log(),
        }
    }

    fn failure(&self) -> Option<RuleError> {
        match self {
            Rule::Pricing(p) => p.failure(),
            Rule::Growth(p) => p.failure(),
            Rule::Scoring(p) => p.failure(),
            Rule::Alert(p) => p.failure(),
        }
    }
}

/// Where a `[[plugin]]` entry sits in kam.toml.
struct Place {
    file: String,
    text: String,
    index: usize,
}

impl Place {
    /// An error at field `field` of the entry (the line of `field = …`, column of the
    /// value; the entry's header when the field is not written out).
    fn error(&self, field: &str, message: impl std::fmt::Display) -> CliError {
        let (line, column) = field_position(&self.text, self.index, field);
        input(FileError::at(&self.file, line, column, Some(field), message))
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
    kind: Kind,
    path: String,
    place: Place,
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
fn new_host(notes: &mut Vec<String>) -> Result<PluginHost, CliError> {
    if let Some(dir) = plugin_cache_dir() {
        match PluginHost::with_disk_cache(PluginLimits::default(), dir) {
            Ok(host) => return Ok(host),
            Err(e @ HostError::CacheDir { .. }) => {
                notes.push(format!("{e}; plugins are compiled for this run only"));
            }
            Err(e) => return Err(input(e)),
        }
    }
    PluginHost::new(PluginLimits::default()).map_err(input)
}

impl Plugins {
    /// No plugins (a scenario file given without its account directory).
    pub fn none() -> Self {
        Plugins::default()
    }

    /// Checks every `[[plugin]]` entry of the manifest (known kind, unique name) and loads
    /// those of `kinds`. A missing plugin is an error unless it is optional.
    pub fn load(dir: &AccountDir, manifest: &Manifest, kinds: &[Kind]) -> Result<Self, CliError> {
        let file = dir.display("kam.toml");
        let text = dir.text("kam.toml").map_err(input)?;
        let mut out = Plugins::default();
        let mut host: Option<PluginHost> = None;
        for (index, p) in manifest.plugin.iter().enumerate() {
            let place = Place {
                file: file.clone(),
                text: text.clone(),
                index,
            };
            let kind = Kind::parse(&p.kind).ok_or_else(|| {
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
            let Some(path) = dir.path(&p.path).filter(|path| path.is_file()) else {
                if !p.optional {
                    return Err(place.error(
                        "path",
                        format!(
                            "plugin {:?}: {} not found (build it, or mark it optional = true)",
                            p.name, p.path
                        ),
                    ));
                }
                out.notes.push(match dir {
                    AccountDir::Sample => format!(
                        "plugin {} ({}): skipped — the embedded sample carries no plugin files (optional; \
                         `{} scenarios/sample` applies it once built)",
                        p.name,
                        p.kind,
                        kind.command()
                    ),
                    AccountDir::Dir(_) => format!(
                        "plugin {} ({}): skipped — {} is not built (optional)",
                        p.name, p.kind, p.path
                    ),
                });
                continue;
            };
            let single = matches!(kind, Kind::Growth | Kind::Scoring);
            if single && let Some(first) = out.entries.iter().find(|e| e.kind == kind) {
                return Err(place.error(
                    "kind",
                    format!(
                        "plugin {:?}: a second {} plugin (one {} rule applies at a time; {:?} is the first)",
                        p.name,
                        kind.name(),
                        kind.name(),
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
                kind.name(),
                p.path,
                kind.applied()
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
    /// of the plugin that failed, with its log lines; `err` unchanged when no plugin
    /// failed.
    pub fn locate(&self, err: CliError) -> CliError {
        let Some((e, failure)) = self.entries.iter().find_map(|e| e.rule.failure().map(|f| (e, f))) else {
            return err;
        };
        let mut message = format!(
            "plugin {:?} ({} rule, {}) failed: {}",
            e.name,
            e.kind.name(),
            e.path,
            failure
        );
        for line in e.rule.take_log() {
            message.push_str("\n  ");
            message.push_str(&log_line(&e.name, &line));
        }
        e.place.error("path", message)
    }

    /// Ends a command's use of the plugins: on success prints the notes (applied or
    /// skipped) and the plugins' log lines on stderr, so stdout stays the report or JSON;
    /// on failure prints only the log lines not already in the error, and returns it.
    pub fn finish<T>(&self, result: Result<T, CliError>) -> Result<T, CliError> {
        if result.is_ok() {
            for n in &self.notes {
                eprintln!("note: {n}");
            }
        }
        for l in self.take_log() {
            eprintln!("{l}");
        }
        result
    }
}

fn log_line(name: &str, line: &LogLine) -> String {
    let stream = match line.stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    };
    format!("plugin {name} {stream}: {}", line.text)
}

/// Loads `p` as `kind`; on failure tells a plugin of another kind (field `kind`) from one
/// that cannot be used at all (field `path`).
fn load_one(
    host: &PluginHost,
    p: &PluginRef,
    kind: Kind,
    path: &Path,
    place: &Place,
) -> Result<Rule, CliError> {
    let wasm = std::fs::read(path).map_err(|e| {
        place.error(
            "path",
            format!("plugin {:?}: cannot read {}: {e}", p.name, path.display()),
        )
    })?;
    let loaded = load_as(host, &p.name, &wasm, kind);
    loaded.map_err(|e| {
        let actual = Kind::ALL
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
                    actual.name(),
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
                    kind.name(),
                    e.message
                ),
            ),
        }
    })
}

fn load_as(host: &PluginHost, name: &str, wasm: &[u8], kind: Kind) -> Result<Rule, RuleError> {
    Ok(match kind {
        Kind::Pricing => Rule::Pricing(Watched::new(host.load_pricing(name, wasm)?)),
        Kind::Growth => Rule::Growth(Arc::new(Watched::new(host.load_growth(name, wasm)?))),
        Kind::Scoring => Rule::Scoring(Watched::new(host.load_kpi_scoring(name, wasm)?)),
        Kind::Alert => Rule::Alert(Watched::new(host.load_alert(name, wasm)?)),
    })
}

#[cfg(test)]
#[path = "../../../tests/support/guests.rs"]
mod guests;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

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
    fn a_watched_growth_plugin_keeps_the_batch_call_and_remembers_its_failure() {
        let host = PluginHost::new(PluginLimits::default()).unwrap();
        let plugin = host
            .load_growth("oem", &guests::wasm("oem-volume-growth"))
            .unwrap();
        let watched = Watched::new(plugin);
        let before = watched.plugin.calls();
        let mut out = PeriodFactors::new();
        GrowthRule::on_periods(&watched, &months(2), &mut out).unwrap();
        assert_eq!(out.len(), 36);
        assert_eq!(
            watched.plugin.calls() - before,
            1,
            "one call per path, not per month"
        );
        assert!(watched.failure().is_none());

        // The rule refuses year 5,000 (1.03^4999 overflows): the error keeps its month
        // and is remembered for the kam.toml entry.
        let err = GrowthRule::on_periods(&watched, &months(5_000), &mut PeriodFactors::new()).unwrap_err();
        assert_eq!(err.index, 0);
        assert_eq!(watched.failure(), Some(err.error));
    }
}
