//! `kam stakeholders DIR [--top N] [--if-leaves PERSON] [--json]`: map status, coverage
//! gaps, unsupported key players, single threads, the influence ranking, the strongest
//! path to each decision maker and approver, hostile key players; or what is lost if one
//! person leaves.

use std::fmt::Write as _;
use std::path::PathBuf;

use kam_account::format::name;
use kam_account::views;
use kam_core::stakeholders::Departure;

use crate::error::{CliError, input};

/// Options of `kam stakeholders`.
#[derive(Debug, clap::Args)]
pub struct StakeholdersArgs {
    /// The account directory (stakeholders.toml).
    pub dir: PathBuf,
    /// How many of the influence ranking to show in the table (JSON has everyone).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// What if this person (theirs or ours) leaves: coverage, paths and support lost.
    #[arg(long, value_name = "PERSON")]
    pub if_leaves: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kam stakeholders`.
pub fn run(args: &StakeholdersArgs) -> Result<(), CliError> {
    let stages = super::Stages::new("kam stakeholders");
    stages.stage("reading the account and its CRM exports");
    let account = super::open(&args.dir)?;
    stages.stage("analysing the map");
    if let Some(id) = &args.if_leaves {
        let d = views::departure(&account, id)?;
        drop(stages);
        if args.json {
            super::outln!("{}", serde_json::to_string_pretty(&d).map_err(input)?);
        } else {
            super::out!("{}", departure_table(&d));
        }
        return Ok(());
    }
    let report = views::stakeholders(&account)?;
    drop(stages);
    if args.json {
        let written = super::emit(&report, true);
        // The process ends next: returning the memory of a 100,000-person account and
        // its report one allocation at a time would take longer than the exit does.
        std::mem::forget((report, account));
        return written;
    }
    super::emit(&report, false)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  Influence (weighted PageRank), top {}:",
        args.top.min(report.influence.len())
    );
    for (i, s) in report.influence.iter().take(args.top).enumerate() {
        let title = account
            .stakeholders
            .as_ref()
            .and_then(|m| m.people.iter().find(|p| p.id == s.person))
            .map_or("", |p| p.title.as_str());
        let _ = writeln!(out, "    {:>2}. {:<14} {:.4}  {title}", i + 1, s.person, s.score);
    }
    let _ = writeln!(out, "  Strongest path to each decision maker and approver:");
    for r in &report.paths {
        match &r.path {
            Some(p) => {
                let hops = views::stakeholders::route(p);
                let _ = writeln!(
                    out,
                    "    {:<14} {:<15} {:.3}  {hops}",
                    r.person,
                    name(&r.buying_role),
                    p.strength
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    {:<14} {:<15} NO PATH from any of ours",
                    r.person,
                    name(&r.buying_role)
                );
            }
        }
    }
    let _ = writeln!(out, "  Hostile key players: {}", report.hostile.len());
    for h in &report.hostile {
        let _ = writeln!(
            out,
            "    {:<14} {:<10} {:<36} {}",
            h.person, h.region, h.title, h.why
        );
    }
    super::out!("{out}");
    Ok(())
}

fn departure_table(d: &Departure) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "If {} ({}) leaves: map status {} → {}",
        d.person,
        name(&d.side),
        name(&d.status_before).to_uppercase(),
        name(&d.status_after).to_uppercase()
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let lost: Vec<String> = d
        .relationships_lost
        .iter()
        .map(|(o, t)| format!("{o} → {t}"))
        .collect();
    let _ = writeln!(out, "  relationships lost: {}", list(&lost));
    let _ = writeln!(
        out,
        "  customer people left uncovered: {}",
        list(&d.newly_uncovered)
    );
    let gaps: Vec<String> = d
        .gaps_opened
        .iter()
        .map(|g| format!("{} / {} / {}", g.region, g.function, name(&g.buying_role)))
        .collect();
    let _ = writeln!(out, "  coverage gaps opened: {}", list(&gaps));
    let single: Vec<String> = d
        .newly_single_threaded
        .iter()
        .map(|(s, id)| format!("{} {id}", name(s)))
        .collect();
    let _ = writeln!(out, "  newly single-threaded: {}", list(&single));
    let uncovered: Vec<String> = d
        .newly_uncovered_scopes
        .iter()
        .map(|(s, id)| format!("{} {id}", name(s)))
        .collect();
    let _ = writeln!(out, "  losing their last relationship: {}", list(&uncovered));
    let _ = writeln!(out, "  deciders no longer reachable: {}", list(&d.paths_broken));
    let weaker: Vec<String> = d
        .paths_weakened
        .iter()
        .map(|p| format!("{} {:.3} → {:.3}", p.person, p.before, p.after))
        .collect();
    let _ = writeln!(out, "  paths weakened: {}", list(&weaker));
    out
}
