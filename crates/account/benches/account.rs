//! Loading and checking an account, and comparing two revisions of it (issue targets:
//! load + check the sample ≤ 20 ms; loading a 100,000-person account dominated by
//! parsing, not linking; `kam changes` between two revisions ≤ 50 ms; issue #16: load and
//! analyse a 100,000-person / 500,000-relation stakeholder map ≤ 0.5 s from CSV, ≤ 1 s
//! from TOML; item 2: the sample's month priced with every commercial clause ≤ 1 ms; a
//! 10,000-deal pipeline export read into the account ≤ 50 ms).

/// The kam binary's allocator, so these figures are the CLI's (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../../../benches/support/org.rs"]
mod org;

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use kam_account::history::{Headline, Snapshot, changes};
use kam_account::{Account, Source};

fn load_and_check(c: &mut Criterion) {
    c.bench_function("account: load the sample", |b| {
        b.iter(|| Account::sample().map(|a| a.manifest.as_of))
    });
    c.bench_function("account: load + check the sample", |b| {
        b.iter(|| {
            Account::sample()
                .and_then(|a| kam_account::check::check(&a))
                .map(|f| f.len())
        })
    });
    // The two largest parts of the check, for finding where its time goes: the alert
    // register replayed over every period (the sample's Rhai alert rule runs once per
    // node × KPI × period) and the go-live simulations behind `project-late`.
    let Ok(account) = Account::sample() else { return };
    let plugins = kam_account::plugins::Plugins::none();
    c.bench_function("account: check part: alerts view of the sample", |b| {
        b.iter(|| kam_account::views::alerts(&account, &plugins).map(|v| v.alerts.len()))
    });
    c.bench_function("account: check part: go-live simulations of the sample", |b| {
        b.iter(|| kam_account::views::delivery::for_checks(&account).map(|r| r.projects.len()))
    });
}

/// Two revisions of the sample as stored parts: as shipped, and with a rate, a deal
/// and a person's support changed.
fn revisions() -> Option<(Snapshot, Snapshot)> {
    let old = Account::sample().ok()?;
    let mut files = old.texts().clone();
    let edit = |files: &mut std::collections::BTreeMap<String, String>, f: &str, from: &str, to: &str| {
        if let Some(t) = files.get_mut(f) {
            *t = t.replacen(from, to, 1);
        }
    };
    edit(&mut files, "pricing.toml", "rate = \"1.38\"", "rate = \"1.42\"");
    edit(
        &mut files,
        "growth.toml",
        "win_probability = \"0.60\"",
        "win_probability = \"0.50\"",
    );
    edit(
        &mut files,
        "stakeholders.toml",
        "support = \"supporter\"",
        "support = \"neutral\"",
    );
    let new = Account::load(Source::Memory(files)).ok()?;
    let a = Snapshot::from_parts(&Snapshot::of(&old).parts().ok()?).ok()?;
    let b = Snapshot::from_parts(&Snapshot::of(&new).parts().ok()?).ok()?;
    Some((a, b))
}

fn history(c: &mut Criterion) {
    let Some(old) = Account::sample().ok() else { return };
    c.bench_function("history: snapshot the sample into parts", |b| {
        b.iter(|| Snapshot::of(&old).parts().map(|p| p.len()))
    });
    let Some((a, b)) = revisions() else { return };
    let (pa, pb) = match (a.parts(), b.parts()) {
        (Ok(pa), Ok(pb)) => (pa, pb),
        _ => return,
    };
    let head = Headline::default();
    c.bench_function("history: changes between two stored revisions", |bench| {
        bench.iter(|| {
            let x = Snapshot::from_parts(&pa)?;
            let y = Snapshot::from_parts(&pb)?;
            changes(&x, &head, &y, &head).map(|c| c.pricing.len())
        })
    });
}

/// A 100,000-person / 500,000-relation account: its stakeholders.toml parsed alone,
/// against the whole account loaded (parsed, then linked).
fn large(c: &mut Criterion) {
    let Ok(people) = toml::to_string(&org::organisation()) else {
        return;
    };
    let files: BTreeMap<String, String> = [
        ("kam.toml".to_owned(), "as_of = \"2026-11-20\"\n".to_owned()),
        ("stakeholders.toml".to_owned(), people.clone()),
    ]
    .into_iter()
    .collect();
    let mut group = c.benchmark_group("account: 100,000 people, 500,000 relations");
    group.sample_size(10);
    // The parser the load uses on a plain stakeholders.toml (`fastmap`), and the toml
    // crate it falls back to, against the whole load: parsing should dominate it.
    group.bench_function("parse stakeholders.toml alone (fastmap, as the load does)", |b| {
        b.iter(|| kam_account::fastmap::parse(&people).map(|m| m.people.len()))
    });
    group.bench_function("parse stakeholders.toml alone (toml crate)", |b| {
        b.iter(|| toml::from_str::<kam_core::stakeholders::StakeholderMap>(&people).map(|m| m.people.len()))
    });
    group.bench_function("load the account (parse + link)", |b| {
        b.iter(|| Account::load(Source::Memory(files.clone())).map(|a| a.manifest.as_of))
    });
    group.finish();
}

/// The organisation as a CRM export: kam.toml with `[import.*]` (kam's own column
/// names) and four CSV tables, in memory.
fn as_export(map: &kam_core::stakeholders::StakeholderMap) -> BTreeMap<String, String> {
    use kam_core::stakeholders::Relation;
    use std::fmt::Write as _;
    let word = |v: serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_default();
    let mut people =
        String::from("id,name,title,region,function,buying_role,power,support,last_contact,buying_centres\n");
    for p in &map.people {
        let _ = writeln!(
            people,
            "{},{},{},{},{},{},{},{},{},{}",
            p.id,
            p.name,
            p.title,
            p.region,
            p.function,
            word(serde_json::json!(p.buying_role)),
            word(serde_json::json!(p.power)),
            word(serde_json::json!(p.support)),
            p.last_contact.map(|d| d.to_string()).unwrap_or_default(),
            p.buying_centres.join(";")
        );
    }
    let mut ours = String::from("id,name,role\n");
    for o in &map.our_people {
        let _ = writeln!(ours, "{},{},{}", o.id, o.name, o.role);
    }
    let mut relations = String::from("kind,from,to,weight\n");
    for r in &map.relations {
        let (from, to) = r.ends();
        let weight = match r {
            Relation::Influences { weight, .. } => weight.to_string(),
            _ => String::new(),
        };
        let _ = writeln!(relations, "{},{from},{to},{weight}", r.kind());
    }
    let mut coverage = String::from("ours,theirs,level\n");
    for c in &map.coverage {
        let _ = writeln!(
            coverage,
            "{},{},{}",
            c.ours,
            c.theirs,
            word(serde_json::json!(c.level))
        );
    }
    let kam = "as_of = \"2026-11-20\"\n[import.people]\nfile = \"people.csv\"\n[import.our_people]\n\
               file = \"ours.csv\"\n[import.relations]\nfile = \"relations.csv\"\n[import.coverage]\n\
               file = \"coverage.csv\"\n";
    [
        ("kam.toml", kam.to_owned()),
        ("people.csv", people),
        ("ours.csv", ours),
        ("relations.csv", relations),
        ("coverage.csv", coverage),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `kam stakeholders DIR --json`'s work, without the disk and the printing: load a
/// 100,000-person / 500,000-relation account (from CSV, and from TOML) and run the
/// whole stakeholder analysis. The files are in memory, so this is a lower bound of
/// the wall time; README.md also gives the release binary's `/usr/bin/time -v` figures.
fn end_to_end(c: &mut Criterion) {
    let map = org::organisation();
    let csv = as_export(&map);
    let Ok(people) = toml::to_string(&map) else {
        return;
    };
    let toml_files: BTreeMap<String, String> = [
        ("kam.toml".to_owned(), "as_of = \"2026-11-20\"\n".to_owned()),
        ("stakeholders.toml".to_owned(), people),
    ]
    .into_iter()
    .collect();
    drop(map);
    let mut group = c.benchmark_group("stakeholders end to end: 100,000 people, 500,000 relations");
    group.sample_size(10);
    for (name, files) in [("from CSV", &csv), ("from TOML", &toml_files)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                Account::load(Source::Memory(files.clone()))
                    .and_then(|a| kam_account::views::stakeholders(&a).map(|r| r.paths.len()))
            })
        });
    }
    group.finish();
}

/// The sample's deal views: five months priced with credit banking, the cost-to-serve
/// per node × service line, and the concession log replayed.
fn deal(c: &mut Criterion) {
    use kam_account::plugins::Plugins;
    use kam_account::views;
    use kam_account::volumes::VolumeTable;
    let Ok(account) = Account::sample() else { return };
    let plugins = Plugins::none();
    let Ok(table) = VolumeTable::from_csv(
        "volumes_2026q4.csv",
        include_str!("../../../scenarios/sample/volumes_2026q4.csv"),
    ) else {
        return;
    };
    c.bench_function("pricing: the sample over 5 periods with credit banking", |b| {
        b.iter(|| views::price_periods(&account, &table, &plugins).map(|r| r.totals.proposal_net))
    });
    // One period with every [commercial] clause (open book, gainshare, indexation, fuel,
    // FX) against the same month with none: what the clauses cost (issue #16 item 2:
    // ≤ 1 ms, the order of the other pricing benches).
    c.bench_function("pricing: the sample's month with all commercial clauses", |b| {
        b.iter(|| views::price(&account, None, &plugins).map(|r| r.proposal_net))
    });
    let mut files = account.texts().clone();
    if let Some(t) = files.get_mut("pricing.toml")
        && let Some(cut) = t.find("[commercial.indices]")
    {
        t.truncate(cut);
    }
    if let Ok(plain) = Account::load(Source::Memory(files)) {
        c.bench_function("pricing: the sample's month without commercial clauses", |b| {
            b.iter(|| views::price(&plain, None, &plugins).map(|r| r.proposal_net))
        });
    }
    c.bench_function("pricing: cost-to-serve per node x service line", |b| {
        b.iter(|| {
            views::cost_to_serve(&account, None, views::GroupBy::NodeAndServiceLine, &plugins)
                .map(|r| r.rows.len())
        })
    });
    let log = include_str!("../../../scenarios/sample/concessions.toml");
    c.bench_function("negotiation: replay the sample's concession log", |b| {
        b.iter(|| views::concessions(&account, "concessions.toml", log).map(|r| r.offers.len()))
    });
}

/// The sample with its pipeline export (crm/pipeline.csv, the CRM's column names,
/// percent probabilities and service-start dates) grown to 10,000 deals, loaded from
/// memory, against the sample as shipped (issue #16: ≤ 50 ms to read the export into
/// the account).
fn pipeline_export(c: &mut Criterion) {
    use std::fmt::Write as _;
    let Ok(sample) = Account::sample() else { return };
    let shipped = sample.texts().clone();
    let lines = [
        ("Warehousing", "EMEA"),
        ("Transport", "APAC"),
        ("Aftermarket", "Americas"),
        ("Inbound to Manufacturing", "China"),
    ];
    let mut csv = String::from(
        "Opportunity Name,Service Line,Region,Probability (%),Value Model,Annual Value,Min Value,\
         Most Likely Value,Max Value,Service Start,Slip Min,Slip Max,Slip Months,\
         Slip Probabilities (%),Ramp-up Months,Margin (%),Volume Exposure\n",
    );
    for i in 0..10_000u32 {
        let (line, region) = lines[i as usize % lines.len()];
        let min = 100_000 + (i % 97) * 5_000;
        let _ = writeln!(
            csv,
            "Deal {i:05},{line},{region},{},Three-point estimate,,{min},{},{},{}-{:02}-{:02},,,0;3;6,60;30;10,{},{}.5,0.8",
            5 + i % 90,
            min + 50_000,
            min + 120_000,
            2027 + i % 3,
            1 + i % 12,
            1 + i % 28,
            1 + i % 6,
            4 + i % 8,
        );
    }
    let mut big = shipped.clone();
    big.insert("crm/pipeline.csv".to_owned(), csv);
    if let Err(e) = Account::load(Source::Memory(big.clone())) {
        eprintln!("pipeline export: the generated export does not load: {e}");
        return;
    }
    let mut group = c.benchmark_group("pipeline export");
    group.sample_size(20);
    group.bench_function("load the sample (2 deals exported)", |b| {
        b.iter(|| Account::load(Source::Memory(shipped.clone())).map(|a| a.manifest.as_of))
    });
    group.bench_function("load the sample with 10,000 exported deals", |b| {
        b.iter(|| {
            Account::load(Source::Memory(big.clone()))
                .map(|a| a.growth.as_ref().map_or(0, |g| g.opportunities.len()))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    load_and_check,
    history,
    large,
    end_to_end,
    deal,
    pipeline_export
);
criterion_main!(benches);
