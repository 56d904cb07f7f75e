//! `kam alerts DIR [--level L] [--json] [--notify DIR|URL]`, `kam alerts ack DIR ID
//! --reason R [--snooze-until DATE]` and `kam escalations DIR [--json]`.
//!
//! The alerts are kam-account's view (`views::alerts`); this module adds what lives
//! outside the account's files, in its history store (`DIR/.kam/history.db`, `--store`,
//! `$KAM_STORE`): acknowledgements and snoozes (events `alert.ack`, `alert.snooze`,
//! subject the alert's stable id) and the notifications already sent (`alert.notified`,
//! one per alert and owner, with the severity sent), so a rerun does not notify twice —
//! unless the alert's severity has risen since, when it is sent again saying what it was. Listing never creates a
//! store; acknowledging and notifying do. Times come from `$KAM_NOW` else the clock.
//!
//! `--notify DIR` appends, per owner with something new, one JSON line (the message) to
//! `DIR/OWNER.jsonl` and a plain-text digest to `DIR/OWNER.txt`. `--notify http://…`
//! POSTs the same JSON message per owner (HTTP/1.1 over a plain TCP connection: no TLS,
//! so `https://` is refused); a response other than 2xx is an error, and what was not
//! delivered is not recorded as notified.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use kam_account::Account;
use kam_account::plugins::Plugins;
use kam_account::views::{self, AlertRow, AlertsReport, Mark, MarkKind, Marks};
use kam_core::account::NodeLevel;
use kam_core::metrics::Severity;
use kam_plugin::RuleKind;
use kam_store::{EventFilter, HistoryStore, NewEvent, SqliteStore};
use serde::Serialize;

use super::history::{StoreArg, author, now, open_store, store_path};
use crate::error::{CliError, input};

/// A level of the account hierarchy, for `--level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// Sites.
    Site,
    /// Countries.
    Country,
    /// Regions.
    Region,
    /// The global account.
    Global,
}

impl From<Level> for NodeLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Site => NodeLevel::Site,
            Level::Country => NodeLevel::Country,
            Level::Region => NodeLevel::Region,
            Level::Global => NodeLevel::Global,
        }
    }
}

/// Options of `kam alerts`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    /// Acknowledge or snooze an alert.
    pub command: Option<AlertsCommand>,
    /// The account directory.
    #[arg(required = true)]
    pub dir: Option<PathBuf>,
    /// Only alerts at this level of the account.
    #[arg(long, value_enum)]
    pub level: Option<Level>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Tell each owner what is new since the last notification: a directory (one
    /// OWNER.jsonl and OWNER.txt each) or an http:// URL (a JSON POST per owner).
    #[arg(long, value_name = "DIR|URL")]
    pub notify: Option<String>,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `kam alerts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// Acknowledge an alert (or snooze it until a date), with a reason, in the history
    /// store: `kam alerts ack DIR ID --reason "…"`.
    Ack {
        /// The account directory.
        dir: PathBuf,
        /// The alert's id (`node/kpi/first-period`, as `kam alerts DIR` lists it).
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Snooze: no notification about it until after this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        snooze_until: Option<NaiveDate>,
        /// Who (default: $KAM_AUTHOR, else the OS user).
        #[arg(long)]
        author: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// Options of `kam escalations`.
#[derive(Debug, clap::Args)]
pub struct EscalationsArgs {
    /// The account directory.
    pub dir: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Event kinds in the history store.
const ACK: &str = "alert.ack";
const SNOOZE: &str = "alert.snooze";
const NOTIFIED: &str = "alert.notified";

/// Runs `kam alerts`.
pub fn run(args: &AlertsArgs) -> Result<(), CliError> {
    if let Some(AlertsCommand::Ack {
        dir,
        id,
        reason,
        snooze_until,
        author: who,
        store,
    }) = &args.command
    {
        return ack(dir, id, reason, *snooze_until, who.as_deref(), store);
    }
    let Some(dir) = &args.dir else {
        return Err(input("kam alerts: the account directory is missing"));
    };
    list(dir, args.level, args.json, args.notify.as_deref(), &args.store)
}

/// Lists the alerts (what `kam scorecard --alerts` prints too), and notifies with `notify`.
pub fn list(
    dir: &Path,
    level: Option<Level>,
    json: bool,
    notify: Option<&str>,
    store: &StoreArg,
) -> Result<(), CliError> {
    let account = super::open(dir)?;
    let plugins = Plugins::load(&account, &[RuleKind::Alert])?;
    let path = store_path(dir, store);
    let marks = if path.exists() {
        marks(&SqliteStore::open(&path).map_err(input)?)?
    } else {
        Marks::new()
    };
    let mut report = plugins.finish(views::alerts_with(&account, &plugins, &marks))?;
    if let Some(l) = level {
        let l = NodeLevel::from(l);
        report.alerts.retain(|a| a.level == Some(l));
    }
    super::emit(&report, json)?;
    if let Some(target) = notify {
        let mut store = open_store(dir, store)?;
        let summary = send(&account, &report, &mut store, target)?;
        eprintln!("{summary}");
    }
    Ok(())
}

/// The latest acknowledgement or snooze of each alert.
fn marks(store: &SqliteStore) -> Result<Marks, CliError> {
    let mut out = Marks::new();
    for e in store.events(&EventFilter::all()).map_err(input)? {
        let kind = match e.kind.as_str() {
            ACK => MarkKind::Acknowledged,
            SNOOZE => MarkKind::Snoozed,
            _ => continue,
        };
        let text = |k: &str| e.payload.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        out.insert(
            e.subject.clone(),
            Mark {
                kind,
                reason: text("reason").unwrap_or_default(),
                by: e.author.clone(),
                at: e.at,
                until: text("until").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            },
        );
    }
    Ok(out)
}

/// `kam alerts ack`.
fn ack(
    dir: &Path,
    id: &str,
    reason: &str,
    until: Option<NaiveDate>,
    who: Option<&str>,
    store: &StoreArg,
) -> Result<(), CliError> {
    if reason.trim().is_empty() {
        return Err(input("--reason must not be empty: say why"));
    }
    let account = super::open(dir)?;
    let plugins = Plugins::load(&account, &[RuleKind::Alert])?;
    let report = plugins.finish(views::alerts(&account, &plugins))?;
    if !report.alerts.iter().any(|a| a.id == id) {
        let open: Vec<&str> = report.open().map(|a| a.id.as_str()).collect();
        return Err(input(format!(
            "no alert {id:?} in {}; the open alerts are: {}",
            dir.display(),
            open.join(", ")
        )));
    }
    if let Some(u) = until
        && u < account.manifest.as_of
    {
        return Err(input(format!(
            "--snooze-until {u} is before the account's as-of date {}",
            account.manifest.as_of
        )));
    }
    let (kind, verb) = match until {
        Some(_) => (SNOOZE, "snoozed"),
        None => (ACK, "acknowledged"),
    };
    let mut payload = serde_json::json!({ "reason": reason });
    if let Some(u) = until {
        payload["until"] = serde_json::Value::String(u.to_string());
    }
    let mut event = NewEvent::new(now()?, kind, id).payload(payload);
    if let Some(a) = author(who) {
        event = event.author(a);
    }
    let mut store = open_store(dir, store)?;
    store.append_event(&event).map_err(input)?;
    super::outln!(
        "{verb} {id}{} ({reason}) in {}",
        until.map_or(String::new(), |u| format!(" until {u}")),
        store.path().display()
    );
    Ok(())
}

/// One owner's notification.
#[derive(Debug, Serialize)]
struct Message<'a> {
    /// The owner's id among our people.
    owner: &'a str,
    /// The owner's name.
    name: Option<&'a str>,
    /// The account.
    account: &'a str,
    /// Figures through this period.
    period: &'a str,
    /// When sent.
    at: String,
    /// What is new: alerts not sent to this owner before, and those whose severity rose.
    alerts: Vec<&'a AlertRow>,
    /// For alerts sent again because their severity rose: the severity they were last
    /// notified at, by alert id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    severity_rose_from: BTreeMap<&'a str, Severity>,
}

/// Notifies each owner of the open, unacknowledged, unsnoozed alerts not yet sent to
/// them, records what was sent, and returns a one-line summary.
fn send(
    account: &Account,
    report: &AlertsReport,
    store: &mut SqliteStore,
    target: &str,
) -> Result<String, CliError> {
    // The most severe level each (alert, owner) was notified at (S1 is the most severe):
    // an alert is sent again only when its severity has risen since.
    let mut sent: BTreeMap<(String, String), Option<Severity>> = BTreeMap::new();
    for e in store.events(&EventFilter::all().kind(NOTIFIED)).map_err(input)? {
        let owner = e
            .payload
            .get("owner")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let level = e
            .payload
            .get("severity")
            .and_then(|v| serde_json::from_value::<Severity>(v.clone()).ok());
        let slot = sent.entry((e.subject, owner)).or_insert(level);
        // An event without a readable severity counts as sent at the most severe level,
        // so nothing is re-sent on a guess.
        *slot = match (*slot, level) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
    }
    let mut by_owner: BTreeMap<&str, Vec<&AlertRow>> = BTreeMap::new();
    let mut previously: BTreeMap<&str, BTreeMap<&str, Severity>> = BTreeMap::new();
    for a in report.open() {
        let Some(owner) = a.owner.as_deref() else { continue };
        if a.mark.is_some() {
            continue;
        }
        match sent.get(&(a.id.clone(), owner.to_owned())) {
            None => {}
            Some(Some(before)) if a.severity < *before => {
                previously.entry(owner).or_default().insert(&a.id, *before);
            }
            Some(_) => continue,
        }
        by_owner.entry(owner).or_default().push(a);
    }
    if by_owner.is_empty() {
        return Ok("notify: nothing new since the last notification".to_owned());
    }
    let at = now()?;
    let name_of = |id: &str| {
        account
            .stakeholders
            .as_ref()
            .and_then(|m| m.our_people.iter().find(|p| p.id == id))
            .map(|p| p.name.as_str())
    };
    let account_name = account.structure.as_ref().map_or("account", |s| s.name.as_str());
    let mut count = 0;
    for (owner, alerts) in &by_owner {
        let message = Message {
            owner,
            name: name_of(owner),
            account: account_name,
            period: &report.period,
            at: at.to_rfc3339(),
            alerts: alerts.clone(),
            severity_rose_from: previously.remove(owner).unwrap_or_default(),
        };
        let body = serde_json::to_string(&message).map_err(input)?;
        if target.starts_with("http://") || target.starts_with("https://") {
            post(target, &body)?;
        } else {
            write_outbox(Path::new(target), owner, &body, &digest(&message))?;
        }
        for a in alerts {
            let event = NewEvent::new(at, NOTIFIED, a.id.clone()).payload(serde_json::json!({
                "owner": owner,
                "severity": a.severity,
                "target": target,
            }));
            store.append_event(&event).map_err(input)?;
            count += 1;
        }
    }
    Ok(format!(
        "notify: {count} alert(s) to {} owner(s) via {target}",
        by_owner.len()
    ))
}

/// The plain-text digest of one message.
fn digest(m: &Message<'_>) -> String {
    let mut out = format!(
        "kam alerts for {}{} — {}, figures through {}, sent {}\n",
        m.owner,
        m.name.map_or(String::new(), |n| format!(" ({n})")),
        m.account,
        m.period,
        m.at
    );
    for a in &m.alerts {
        let reasons: Vec<&str> = a.reasons.iter().map(|r| r.kind.as_str()).collect();
        let rose = m
            .severity_rose_from
            .get(a.id.as_str())
            .map_or(String::new(), |b| {
                format!(" (was {})", crate::table::severity(*b))
            });
        out.push_str(&format!(
            "- {}{rose} {} {} at {} since {} ({}){}{}{}\n",
            crate::table::severity(a.severity),
            a.id,
            a.kpi,
            a.node,
            a.first,
            reasons.join(", "),
            a.action
                .as_ref()
                .map_or(String::new(), |x| format!("; action {x}")),
            a.escalation
                .as_ref()
                .map_or(String::new(), |x| format!("; escalation {x}")),
            if a.no_action_plan { "; NO ACTION PLAN" } else { "" },
        ));
    }
    out.push('\n');
    out
}

fn write_outbox(dir: &Path, owner: &str, json: &str, digest: &str) -> Result<(), CliError> {
    let io = |p: &Path, e: std::io::Error| CliError::Io {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (ext, text) in [("jsonl", format!("{json}\n")), ("txt", digest.to_owned())] {
        let path = dir.join(format!("{owner}.{ext}"));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        f.write_all(text.as_bytes()).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

/// POSTs `body` as JSON to an `http://host[:port]/path` URL; a 2xx status is success.
fn post(url: &str, body: &str) -> Result<(), CliError> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(input(format!(
            "--notify {url}: https is not supported (kam speaks plain HTTP/1.1 only); use an http:// endpoint such as a local relay"
        )));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let fail = |what: String| input(format!("--notify {url}: {what}"));
    use std::net::ToSocketAddrs as _;
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("no address".into()))?;
    let mut stream = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(10))
        .map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(10))))
        .map_err(|e| fail(e.to_string()))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: kam\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    let mut response = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut response);
    let head = String::from_utf8_lossy(&response);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok());
    match status {
        Some(c) if (200..300).contains(&c) => Ok(()),
        Some(c) => Err(fail(format!("the server answered {c}"))),
        None => Err(fail("no HTTP response".into())),
    }
}

/// Runs `kam escalations`.
pub fn escalations(args: &EscalationsArgs) -> Result<(), CliError> {
    let account = super::open(&args.dir)?;
    let plugins = Plugins::load(&account, &[RuleKind::Alert])?;
    let report = plugins.finish(views::escalations(&account, &plugins))?;
    super::emit(&report, args.json)
}
