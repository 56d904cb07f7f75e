//! `kam history save|list` and `kam changes`: the account's revisions in its history
//! store (`DIR/.kam/history.db`, or `--store PATH`, or `$KAM_STORE`), and what changed
//! since one of them.
//!
//! The CLI takes the time (`$KAM_NOW`, an RFC 3339 time, replaces the clock for
//! reproducible runs) and the author (`--author`, else `$KAM_AUTHOR`, else the OS user);
//! kam-account decides what a revision holds and how two states compare; kam-store keeps
//! them.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, Utc};
use kam_account::history::{self, Headline, Snapshot};
use kam_account::plugins::Plugins;
use kam_store::{HistoryStore, NewRevision, Selector, SqliteStore};

use crate::error::{CliError, input};

/// Options of `kam history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    /// What to do.
    pub command: HistoryCommand,
}

/// Where the store is (shared by the history commands).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The history store (default: DIR/.kam/history.db, or $KAM_STORE).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

/// `kam history` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HistoryCommand {
    /// Save the account as it is now as a labelled revision, with its headline figures.
    Save {
        /// The account directory.
        dir: PathBuf,
        /// The revision's label (unique), e.g. "EBR 2026-Q3".
        #[arg(long)]
        label: String,
        /// Who saves it (default: $KAM_AUTHOR, else the OS user).
        #[arg(long)]
        author: Option<String>,
        /// Why.
        #[arg(long)]
        message: Option<String>,
        /// Monte Carlo paths for the headline forecast.
        #[arg(long, default_value_t = 5_000)]
        paths: u64,
        /// Random seed of the headline forecast.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[command(flatten)]
        store: StoreArg,
    },
    /// The saved revisions, oldest first: label, time, author, message, sizes.
    List {
        /// The account directory.
        dir: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// Options of `kam changes`.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// The account directory.
    pub dir: PathBuf,
    /// The revision to compare from: its label, or a date (YYYY-MM-DD: the last
    /// revision saved by the end of that day, UTC).
    #[arg(long)]
    pub since: String,
    /// The revision to compare to (default: the account as it is now).
    #[arg(long)]
    pub until: Option<String>,
    /// Monte Carlo paths for the forecast of the account as it is now.
    #[arg(long, default_value_t = 5_000)]
    pub paths: u64,
    /// Random seed of that forecast.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Where the store is: `--store`, else `$KAM_STORE`, else `DIR/.kam/history.db`.
pub(crate) fn store_path(dir: &Path, store: &StoreArg) -> PathBuf {
    kam_store::store_path(dir, store.store.as_deref(), std::env::var_os("KAM_STORE"))
}

/// Opens (creating if needed) the history store.
pub(crate) fn open_store(dir: &Path, store: &StoreArg) -> Result<SqliteStore, CliError> {
    SqliteStore::open(store_path(dir, store)).map_err(input)
}

/// The time of a save or an event: `$KAM_NOW` if set (RFC 3339), else the clock, in UTC.
pub(crate) fn now() -> Result<DateTime<FixedOffset>, CliError> {
    match std::env::var("KAM_NOW") {
        Ok(t) if !t.is_empty() => DateTime::parse_from_rfc3339(&t)
            .map_err(|e| input(format!("KAM_NOW={t:?}: not an RFC 3339 time with an offset: {e}"))),
        _ => Ok(DateTime::<Utc>::from(std::time::SystemTime::now()).fixed_offset()),
    }
}

/// `--author`, else `$KAM_AUTHOR`, else the OS user.
pub(crate) fn author(given: Option<&str>) -> Option<String> {
    given
        .map(str::to_owned)
        .or_else(|| {
            ["KAM_AUTHOR", "USER", "USERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok())
        })
        .filter(|a| !a.trim().is_empty())
}

/// A `--since`/`--until` value: a date, or a label.
fn selector(text: &str) -> Selector {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => match kam_store::end_of_day(d, Utc.fix()) {
            Some(at) => Selector::AtOrBefore(at),
            None => Selector::Label(text.to_owned()),
        },
        Err(_) => Selector::Label(text.to_owned()),
    }
}

/// Runs `kam history`.
pub fn run(args: &HistoryArgs) -> Result<(), CliError> {
    match &args.command {
        HistoryCommand::Save {
            dir,
            label,
            author: who,
            message,
            paths,
            seed,
            store,
        } => {
            let account = super::open(dir)?;
            let plugins = Plugins::load(&account, &kam_plugin::RuleKind::ALL)?;
            let head = plugins.finish(history::headline(&account, &plugins, *paths, *seed))?;
            let parts = Snapshot::of(&account).parts()?;
            let mut revision =
                NewRevision::new(label.clone(), now()?).headline(serde_json::to_value(&head).map_err(input)?);
            for (name, bytes) in parts {
                revision = revision.part(name, bytes);
            }
            if let Some(a) = author(who.as_deref()) {
                revision = revision.author(a);
            }
            if let Some(m) = message {
                revision = revision.message(m.clone());
            }
            let mut store = open_store(dir, store)?;
            let id = store.save(&revision).map_err(input)?;
            let info = store.info(&Selector::Id(id)).map_err(input)?;
            super::outln!(
                "saved revision {} {:?} in {} ({} parts, {} bytes new)",
                info.id,
                info.label,
                store.path().display(),
                info.part_count,
                info.new_bytes
            );
            Ok(())
        }
        HistoryCommand::List { dir, json, store } => {
            let store = open_store(dir, store)?;
            let list = store.list().map_err(input)?;
            if *json {
                super::outln!("{}", serde_json::to_string_pretty(&list).map_err(input)?);
                return Ok(());
            }
            super::outln!("{} revision(s) in {}", list.len(), store.path().display());
            for r in &list {
                super::outln!(
                    "  {:>4}  {:<22} {}  {:<16} {} part(s) changed, {} bytes new  {}",
                    r.id.to_string(),
                    r.label,
                    r.saved_at.format("%Y-%m-%d %H:%M %:z"),
                    r.author.as_deref().unwrap_or("-"),
                    r.parts_changed,
                    r.new_bytes,
                    r.message.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

/// Runs `kam changes`.
pub fn changes(args: &ChangesArgs) -> Result<(), CliError> {
    let store = open_store(&args.dir, &args.store)?;
    let old = store.get(&selector(&args.since)).map_err(input)?;
    let old_snapshot = Snapshot::from_parts(&old.parts)?;
    let old_head: Headline = serde_json::from_value(old.headline.clone()).unwrap_or_default();
    let (new_label, new_snapshot, new_head) = match &args.until {
        Some(until) => {
            let r = store.get(&selector(until)).map_err(input)?;
            let head = serde_json::from_value(r.headline.clone()).unwrap_or_default();
            (r.info.label.clone(), Snapshot::from_parts(&r.parts)?, head)
        }
        None => {
            let account = super::open(&args.dir)?;
            let plugins = Plugins::load(&account, &kam_plugin::RuleKind::ALL)?;
            let head = plugins.finish(history::headline(&account, &plugins, args.paths, args.seed))?;
            ("the account now".to_owned(), Snapshot::of(&account), head)
        }
    };
    let changes = history::changes(&old_snapshot, &old_head, &new_snapshot, &new_head)?;
    if args.json {
        super::outln!("{}", serde_json::to_string_pretty(&changes).map_err(input)?);
    } else {
        super::outln!(
            "Changes from {:?} ({}) to {new_label}",
            old.info.label,
            old.info.saved_at.format("%Y-%m-%d")
        );
        super::out!("{}", crate::table::Table(&changes));
    }
    Ok(())
}
