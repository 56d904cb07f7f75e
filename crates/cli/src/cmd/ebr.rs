//! `kam report DIR [--audience customer|internal] -o ebr.html`: the executive business
//! review pack, one self-contained HTML page (inline CSS and SVG, no scripts, no external
//! assets, a print stylesheet for A4 landscape). The customer edition (the default) holds
//! none of the internal sections' data; "since our last review" compares the account
//! with the latest revision in its history store, when there is one.

use std::path::{Path, PathBuf};

use kam_account::history::{self, Headline, Snapshot};
use kam_account::plugins::Plugins;
use kam_account::views::report::{PLUGIN_KINDS, ebr, since_lines};
use kam_report::{Audience, SinceView, render_html};
use kam_store::{HistoryStore, Selector, SqliteStore};

use crate::error::{CliError, input};

/// Options of `kam report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The account directory.
    pub dir: PathBuf,
    /// Output HTML file.
    #[arg(short, long, default_value = "ebr.html")]
    pub output: PathBuf,
    /// Monte Carlo paths for the growth fan chart.
    #[arg(long, default_value_t = 20_000)]
    pub paths: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Who the pack is for: the customer's executives, or our team's internal pre-read.
    #[arg(long, value_enum, default_value_t = AudienceArg::Customer)]
    pub audience: AudienceArg,
    /// The history store to compare with (default: DIR/.kam/history.db, or $KAM_STORE).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

/// `--audience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AudienceArg {
    /// The customer edition: no internal view of their people, deals or margins.
    Customer,
    /// The internal pre-read.
    Internal,
}

/// What changed since the latest saved review, worded for `audience`; `None` without a
/// store or a revision (the section is then absent, not empty).
fn since(
    account: &kam_account::Account,
    args: &ReportArgs,
    audience: Audience,
    plugins: &Plugins,
) -> Result<Option<SinceView>, CliError> {
    let path = kam_store::store_path(&args.dir, args.store.as_deref(), std::env::var_os("KAM_STORE"));
    if !path.is_file() {
        return Ok(None);
    }
    let store = SqliteStore::open_existing(&path).map_err(input)?;
    let Ok(last) = store.get(&Selector::Latest) else {
        return Ok(None);
    };
    let before = Snapshot::from_parts(&last.parts)?;
    let before_head: Headline = serde_json::from_value(last.headline.clone()).unwrap_or_default();
    let paths = before_head.forecast.map_or(args.paths, |(p, _)| p);
    let seed = before_head.forecast.map_or(args.seed, |(_, s)| s);
    let now_head = plugins.finish(history::headline(account, plugins, paths, seed))?;
    let changes = history::changes(&before, &before_head, &Snapshot::of(account), &now_head)?;
    Ok(Some(SinceView {
        since: format!(
            "{}, {}",
            last.info.label,
            kam_account::format::month_year(last.info.saved_at.date_naive())
        ),
        lines: since_lines(account, &changes, audience),
    }))
}

/// Runs `kam report`.
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let stages = super::Stages::new("kam report");
    stages.stage("reading the account");
    let account = super::open(&args.dir)?;
    stages.stage("loading plugins");
    let plugins = Plugins::load(&account, &PLUGIN_KINDS)?;
    let audience = match args.audience {
        AudienceArg::Customer => Audience::Customer,
        AudienceArg::Internal => Audience::Internal,
    };
    stages.stage("comparing with the last review");
    let since = since(&account, args, audience, &plugins)?;
    stages.stage(&format!("building the pack ({} growth paths)", args.paths));
    let report = plugins.finish(ebr(&account, args.paths, args.seed, &plugins, audience, since))?;
    stages.stage("rendering");
    let html = render_html(&report).map_err(input)?;
    write(&args.output, &html)?;
    drop(stages);
    super::outln!(
        "wrote {} ({} edition, {} KB, {} KPI trends, {} objectives, {} open escalations)",
        args.output.display(),
        kam_account::format::name(&report.audience),
        html.len() / 1024,
        report.kpi_trends.len(),
        report.objectives.len(),
        report.escalations.len()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}
