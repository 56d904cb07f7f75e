//! `kam plan check DIR` and `kam plan diff A B`.

use std::path::PathBuf;

use kam_account::{files, format, views};

use crate::error::{CliError, input};

/// Options of `kam plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    /// What to do.
    pub command: PlanCommand,
}

/// `kam plan` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Every integrity finding of the account plan (against account, stakeholders, KPIs).
    Check {
        /// The account directory.
        dir: PathBuf,
        /// Exit non-zero when there is any error-severity finding (for CI).
        #[arg(long)]
        strict: bool,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// What changed between two plan files.
    Diff {
        /// The earlier plan (TOML).
        a: PathBuf,
        /// The later plan (TOML).
        b: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `kam plan`.
pub fn run(args: &PlanArgs) -> Result<(), CliError> {
    match &args.command {
        PlanCommand::Check { dir, strict, json } => {
            let account = super::open(dir)?;
            let check = views::plan_check(&account)?;
            super::emit(&check, *json)?;
            if *strict && check.errors > 0 {
                return Err(input(format!(
                    "{}: {} error finding(s) (--strict)",
                    account.display("plan.toml"),
                    check.errors
                )));
            }
            Ok(())
        }
        PlanCommand::Diff { a, b, json } => {
            let ta = files::read_text(a).map_err(input)?;
            let tb = files::read_text(b).map_err(input)?;
            let diff = views::plan_diff(&a.display().to_string(), &ta, &b.display().to_string(), &tb)?;
            if *json {
                super::outln!("{}", serde_json::to_string_pretty(&diff).map_err(input)?);
            } else if diff.is_empty() {
                super::outln!("no changes");
            } else {
                super::out!("{}", render_diff(&diff));
            }
            Ok(())
        }
    }
}

/// The plan diff as text (also the plan part of `kam changes`).
pub(crate) fn render_diff(d: &kam_core::plan::PlanDiff) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{} changes\n", d.len());
    for c in &d.plan {
        let _ = writeln!(
            out,
            "  plan.{}: {} → {}",
            c.field,
            c.before.as_deref().unwrap_or("—"),
            c.after.as_deref().unwrap_or("—")
        );
    }
    let sections = [
        ("customer goal", &d.customer_goals),
        ("goal", &d.goals),
        ("objective", &d.objectives),
        ("action", &d.actions),
        ("target", &d.targets),
        ("whitespace", &d.whitespace),
    ];
    for (name, items) in sections {
        for i in items {
            let _ = writeln!(out, "  {} {} {}", format::name(&i.change), name, i.id);
            if i.change == kam_core::plan::ChangeKind::Changed {
                for c in &i.fields {
                    let _ = writeln!(
                        out,
                        "      {}: {} → {}",
                        c.field,
                        c.before.as_deref().unwrap_or("—"),
                        c.after.as_deref().unwrap_or("—")
                    );
                }
            }
        }
    }
    for s in &d.stakeholders {
        let _ = writeln!(
            out,
            "  stakeholder {} {} on objective {}",
            s.stakeholder,
            format::name(&s.change),
            s.objective
        );
    }
    out
}
