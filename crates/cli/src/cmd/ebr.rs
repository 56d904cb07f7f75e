//! `kam report DIR -o ebr.html`: the executive business review pack, one self-contained
//! HTML page (inline CSS and SVG, no scripts, no external assets).

use std::path::{Path, PathBuf};

use kam_account::plugins::Plugins;
use kam_account::views::report::{PLUGIN_KINDS, ebr};
use kam_report::render_html;

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
}

/// Runs `kam report`.
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let plugins = Plugins::load(&account, &PLUGIN_KINDS)?;
    let report = plugins.finish(ebr(&account, args.paths, args.seed, &plugins))?;
    let html = render_html(&report).map_err(input)?;
    write(&args.output, &html)?;
    super::outln!(
        "wrote {} ({} KB, {} KPI trends, {} pipeline deals, {} open actions)",
        args.output.display(),
        html.len() / 1024,
        report.kpi_trends.len(),
        report.pipeline.len(),
        report.actions.len()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}
