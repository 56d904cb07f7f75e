//! End-to-end tests of the `kam` binary over the sample account: every subcommand, JSON
//! output, spreadsheets in and out, the EBR report, WASM plugins listed in kam.toml, and
//! malformed files (the error names the file, line and field).
//!
//! The sample's kam.toml lists an optional growth plugin built from `plugins/`. So that no
//! output depends on what happened to be built (or on test order), every test that
//! touches the sample directory builds the guest plugins first (`sample()`), with the
//! same support module as the plugin tests. Temporary copies of the sample cannot reach
//! the plugin by its relative path, so there it is skipped with a note, unless a test
//! points kam.toml at a built plugin by absolute path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../tests/support/guests.rs"]
mod guests;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The sample account on disk, with the guest plugins built.
fn sample() -> PathBuf {
    guests::plugin_dir();
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/sample")
}

/// Compiled plugins are cached here, not in the user's cache directory.
fn plugin_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kam-cache")
}

fn kam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(args)
        .env("KAM_CACHE_DIR", plugin_cache())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run kam")
}

fn ok(args: &[&str]) -> String {
    let out = kam(args);
    assert!(
        out.status.success(),
        "kam {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = kam(args);
    assert!(!out.status.success(), "kam {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

/// A fresh copy of the sample account in a temporary directory.
fn copy_sample(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kam-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&sample(), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn demo_runs_every_section_and_is_reproducible() {
    let out = ok(&["demo"]);
    for section in [
        "1. Account plan integrity",
        "2. Stakeholder gaps and map status",
        "3. Bremen renewal",
        "4. Negotiation recommendation",
        "5. QBR scorecard",
        "6. Alerts, action plans and escalations",
        "7. Growth P10 / P50 / P90 against target",
        "9. Implementation projects: go-lives and load (kam delivery)",
        "note: plugin oem_volume_growth (growth): skipped — the embedded sample carries no plugin files",
    ] {
        assert!(out.contains(section), "missing {section}");
    }
    insta::assert_snapshot!("demo", out);
    let json: serde_json::Value = serde_json::from_str(&ok(&["demo", "--json"])).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 12);
    assert_eq!(json["growth"]["paths"], 20_000);
}

#[test]
fn price_table_json_xlsx_and_volume_tables() {
    let dir = sample();
    insta::assert_snapshot!("price", ok(&["price", s(&dir)]));
    let raw = ok(&["price", s(&dir), "--json"]);
    // Stable field order: declaration order, not alphabetical.
    assert!(
        raw.starts_with("{\n  \"node\": \"bremen\",\n  \"service_line\""),
        "{raw}"
    );
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["contribution"][2]["layer"], "CM3");

    let tmp = copy_sample("price");
    let xlsx = tmp.join("quote.xlsx");
    ok(&["price", s(&tmp), "--xlsx", s(&xlsx)]);
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");

    // Volumes from CSV, and the same volumes from an XLSX sheet, price the same.
    let csv = tmp.join("volumes.csv");
    std::fs::write(&csv, "activity,quantity\npick_line,250000\norder,40000\n").unwrap();
    let from_csv = ok(&["price", s(&tmp), "--volumes", s(&csv), "--json"]);
    let book = tmp.join("volumes.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "activity").unwrap();
    ws.write_string(0, 1, "quantity").unwrap();
    ws.write_string(1, 0, "pick_line").unwrap();
    ws.write_number(1, 1, 250000.0).unwrap();
    ws.write_string(2, 0, "order").unwrap();
    ws.write_number(2, 1, 40000.0).unwrap();
    wb.save(&book).unwrap();
    let from_xlsx = ok(&["price", s(&tmp), "--volumes", s(&book), "--json"]);
    assert_eq!(from_csv, from_xlsx);
    let v: serde_json::Value = serde_json::from_str(&from_csv).unwrap();
    let lines = v["lines"].as_array().unwrap();
    let pick = lines.iter().find(|l| l["activity"] == "pick_line").unwrap();
    assert_eq!(pick["quantity"], "250000");
    // The storage minimum commitment still bills with no storage volume given.
    assert!(lines.iter().any(|l| l["activity"] == "storage_pallet_week"));

    std::fs::write(&csv, "activity,quantity\npick_line,250000\norder,lots\n").unwrap();
    let err = fails(&["price", s(&tmp), "--volumes", s(&csv)]);
    assert!(err.contains("volumes.csv:3:2: field `quantity`"), "{err}");

    // A sheet whose table starts lower down: errors name the row the spreadsheet shows,
    // and a period typed as a date (Excel turns "2026-11-01" into one) reads as that date.
    let book = tmp.join("lower.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 1).unwrap();
    let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (row, activity, quantity) in [(3, "pick_line", "250000"), (4, "order", "lots")] {
        ws.write_datetime_with_format(row, 0, &date, &day).unwrap();
        ws.write_string(row, 1, activity).unwrap();
        ws.write_string(row, 2, quantity).unwrap();
    }
    for (col, h) in ["period", "activity", "quantity"].into_iter().enumerate() {
        ws.write_string(2, col as u16, h).unwrap();
    }
    wb.save(&book).unwrap();
    let err = fails(&["price", s(&tmp), "--volumes", s(&book)]);
    assert!(err.contains("lower.xlsx [Sheet1]:5:3: field `quantity`"), "{err}");
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_string(4, 2, "40000").unwrap();
    wb.save(&book).unwrap();
    // A one-period file is priced at its own period, not at pricing.toml's October (where
    // indexation is 1: no line). The date cell reads as 2026-11-01, which takes the
    // monthly indices' November values; as text, 2026-11 takes them directly.
    let indexation = |book: &Path| -> (String, Vec<String>) {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&["price", s(&tmp), "--volumes", s(book), "--json"])).unwrap();
        let labels = v["adjustments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a[0].as_str().unwrap().to_owned())
            .filter(|l| l.starts_with("indexation "))
            .collect();
        (v["period"].as_str().unwrap().to_owned(), labels)
    };
    let (period, labels) = indexation(&book);
    assert_eq!(period, "2026-11-01");
    assert!(
        labels[0].starts_with("indexation 2026-11-01 on 2026-10: factor 1.002619"),
        "{labels:?}"
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    for row in [3, 4] {
        ws.write_string(row, 0, "2026-11").unwrap();
    }
    wb.save(&book).unwrap();
    let (period, labels) = indexation(&book);
    assert_eq!(period, "2026-11");
    assert!(
        labels[0].starts_with("indexation 2026-11 on 2026-10: factor 1.002619"),
        "{labels:?}"
    );
}

#[test]
fn negotiate_recommends_a_package_above_the_margin_floor() {
    let out = ok(&["negotiate", s(&sample())]);
    insta::assert_snapshot!("negotiate", out);
    let json: serde_json::Value = serde_json::from_str(&ok(&["negotiate", s(&sample()), "--json"])).unwrap();
    assert_eq!(json["keeps_margin_floor"], true);
    assert!(json["price_zopa"].is_array());
}

#[test]
fn simulate_table_and_sharded_runs_merge_to_the_single_run() {
    let growth = sample().join("growth.toml");
    let table = ok(&["simulate", s(&growth), "--paths", "2000", "--seed", "7"]);
    insta::assert_snapshot!("simulate", table);
    let single = ok(&[
        "simulate",
        s(&growth),
        "--paths",
        "2000",
        "--seed",
        "7",
        "--json",
        "--threads",
        "1",
    ]);
    let tmp = copy_sample("shards");
    let mut files = Vec::new();
    for i in 1..=2 {
        let shard = ok(&[
            "simulate",
            s(&growth),
            "--paths",
            "2000",
            "--seed",
            "7",
            "--shard",
            &format!("{i}/2"),
        ]);
        let f = tmp.join(format!("shard{i}.json"));
        std::fs::write(&f, shard).unwrap();
        files.push(f);
    }
    let merged = ok(&["simulate", "merge", s(&files[0]), s(&files[1]), "--json"]);
    assert_eq!(single, merged);
    let err = fails(&["simulate", s(&growth), "--shard", "3/2"]);
    assert!(err.contains("--shard"), "{err}");
}

#[test]
fn simulate_tornado_in_the_table_and_the_json() {
    let growth = sample().join("growth.toml");
    let run = |threads: &str, json: bool| {
        let mut args = vec![
            "simulate",
            s(&growth),
            "--paths",
            "300",
            "--seed",
            "7",
            "--tornado",
        ];
        args.extend(["--threads", threads]);
        if json {
            args.push("--json");
        }
        ok(&args)
    };
    let table = run("2", false);
    insta::assert_snapshot!("simulate_tornado", table);
    let json = run("2", true);
    assert_eq!(
        json,
        run("1", true),
        "the tornado JSON depends on the thread count"
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bars = parsed["tornado"]["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 8);
    let swing = |b: &serde_json::Value| b["swing"].as_str().unwrap().parse::<f64>().unwrap();
    assert!(bars.windows(2).all(|w| swing(&w[0]) >= swing(&w[1])), "{json}");
    // Without --tornado the JSON has no tornado field at all (the format is unchanged).
    let plain = ok(&["simulate", s(&growth), "--paths", "300", "--seed", "7", "--json"]);
    assert!(!plain.contains("\"tornado\""));
    let err = fails(&["simulate", s(&growth), "--tornado", "--shard", "1/2"]);
    assert!(err.contains("--tornado") && err.contains("--shard"), "{err}");
}

#[test]
fn scorecard_alerts_and_xlsx() {
    let dir = sample();
    insta::assert_snapshot!("scorecard", ok(&["scorecard", s(&dir)]));
    let alerts = ok(&["scorecard", s(&dir), "--alerts"]);
    insta::assert_snapshot!("alerts", alerts);
    for drifting in ["puebla", "shanghai", "curitiba", "tianjin"] {
        assert!(alerts.contains(drifting), "no alert for {drifting}");
    }
    let tmp = copy_sample("scorecard");
    let xlsx = tmp.join("scorecard.xlsx");
    ok(&["scorecard", s(&dir), "--xlsx", s(&xlsx)]);
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
}

#[test]
fn kpi_observations_from_xlsx_score_like_the_csv() {
    let tmp = copy_sample("obs-xlsx");
    let csv = std::fs::read_to_string(tmp.join("kpi_observations.csv")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in csv.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 && c >= 3 => ws.write_number(r as u32, c as u16, n).map(|_| ()),
                _ => ws.write_string(r as u32, c as u16, cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(tmp.join("kpi_observations.xlsx")).unwrap();
    assert_eq!(
        ok(&["scorecard", s(&tmp), "--json"]),
        ok(&["scorecard", s(&sample()), "--json"])
    );
}

#[test]
fn plan_check_and_diff() {
    let dir = sample();
    let check = ok(&["plan", "check", s(&dir)]);
    insta::assert_snapshot!("plan_check", check);
    let json: serde_json::Value = serde_json::from_str(&ok(&["plan", "check", s(&dir), "--json"])).unwrap();
    assert!(json["findings"].as_array().unwrap().len() >= 3);
    let err = fails(&["plan", "check", s(&dir), "--strict"]);
    assert!(err.contains("plan.toml: 2 error finding(s)"), "{err}");
    let before = dir.join("history/plan-2026-08.toml");
    let after = dir.join("plan.toml");
    let diff = ok(&["plan", "diff", s(&before), s(&after)]);
    insta::assert_snapshot!("plan_diff", diff);
    assert_eq!(ok(&["plan", "diff", s(&after), s(&after)]).trim(), "no changes");
}

#[test]
fn stakeholders_status_and_gaps() {
    let out = ok(&["stakeholders", s(&sample())]);
    insta::assert_snapshot!("stakeholders", out);
    assert!(out.starts_with("Stakeholder map: AMBER"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stakeholders", s(&sample()), "--json"])).unwrap();
    assert_eq!(json["people"], 60);
}

/// Checks that every non-void element is closed in order; returns the first problem.
fn well_formed(html: &str) -> Result<(), String> {
    const VOID: [&str; 8] = ["meta", "br", "hr", "img", "input", "link", "col", "wbr"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if rest.starts_with("<!--") {
            let end = rest.find("-->").ok_or("unclosed comment")?;
            rest = &rest[end + 3..];
            continue;
        }
        let end = rest.find('>').ok_or("unclosed tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("bad tag <{tag}>"));
        }
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "style" {
            let close = rest.find("</style>").ok_or("unclosed style")?;
            rest = &rest[close + "</style>".len()..];
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn well_formed_checker_catches_mismatches() {
    assert!(well_formed("<html><body><p>a<br></p></body></html>").is_ok());
    assert!(well_formed("<div><span></div></span>").is_err());
    assert!(well_formed("<div>").is_err());
}

#[test]
fn report_is_well_formed_self_contained_with_one_svg_per_chart() {
    let tmp = copy_sample("report");
    let out = tmp.join("ebr.html");
    let msg = ok(&[
        "report",
        s(&tmp),
        "-o",
        s(&out),
        "--paths",
        "2000",
        "--audience",
        "internal",
    ]);
    assert!(msg.starts_with("wrote "), "{msg}");
    let html = std::fs::read_to_string(&out).unwrap();
    well_formed(&html).unwrap();
    let customer = tmp.join("customer.html");
    ok(&["report", s(&tmp), "-o", s(&customer), "--paths", "2000"]);
    let customer = std::fs::read_to_string(&customer).unwrap();
    well_formed(&customer).unwrap();
    // The customer edition: the KPI trends, the contributions and the delivery roadmap; no
    // heat map or fan chart.
    assert_eq!(customer.matches("<svg").count(), 8 + 2);
    assert!(customer.contains("Delivery roadmap") && customer.contains("Leipzig NX"));
    // Value delivered includes October's gainshare on return units: direct cost 21,400.00
    // against the baseline 2.55 × 9,000 = 22,950.00 saves 1,550.00 (6.75 %); our share in
    // the bands is 694.50, so 855.50 stays with the customer.
    assert!(
        customer.contains(
            "<th>Gainshare on Return unit, Oct 2026: cost below the agreed baseline</th>\
             <td class=\"num\">EUR 1.55 k saved (6.8 %), EUR 856 of it yours</td>"
        ),
        "{customer}"
    );
    assert!(!html.to_ascii_lowercase().contains("<script"));
    for attr in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(attr), "external asset: {attr}");
    }
    // The pre-read's charts: one trend per scorecard KPI (8), contributions, the delivery
    // roadmap, coverage heat map, fan chart.
    assert_eq!(html.matches("<svg").count(), 8 + 4);
    assert_eq!(html.matches("</svg>").count(), 8 + 4);
    for text in [
        "Nordwerk Automotive AG",
        "Leipzig NX sequencing",
        "AP-2026-031",
        "ESC-0412",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
}

#[test]
fn errors_name_file_line_and_field() {
    let cases: &[(&str, &str, &str, &[&str], &str)] = &[
        (
            "kpis.toml",
            "thresholds = { target = \"0\", red = \"1\" }",
            "thresholds = { target = \"0\", red = \"one\" }",
            &["scorecard"],
            "kpis.toml:16:",
        ),
        (
            "kpi_observations.csv",
            "leipzig,2025-12,order_accuracy,",
            "leipzig,2025-12,order_accuracy,x",
            &["scorecard"],
            "kpi_observations.csv:4:4: field `numerator`",
        ),
        (
            "kpi_observations.csv",
            "leipzig,2025-12,otif_order_commit,",
            "lepzig,2025-12,otif_order_commit,",
            &["scorecard"],
            "kpi_observations.csv:2:1: field `node`: unknown account node \"lepzig\"",
        ),
        (
            "plan.toml",
            "due = \"2027-03-31\"",
            "due = 2027-03-31",
            &["plan", "check"],
            "quoted strings",
        ),
        (
            "pricing.toml",
            "pick_line = \"310000\"",
            "pick_line = \"many\"",
            &["price"],
            "pricing.toml:13:13: field `pick_line`",
        ),
        (
            "negotiation.toml",
            "seller_power = \"0.5\"",
            "seller_powr = \"0.5\"",
            &["negotiate"],
            "negotiation.toml:8:1: field `seller_powr`",
        ),
        (
            "stakeholders.toml",
            "buying_role = \"",
            "buying_role = \"chief_",
            &["stakeholders"],
            "field `buying_role`",
        ),
        (
            "kam.toml",
            "as_of = \"2026-11-20\"",
            "as_of = \"20.11.2026\"",
            &["price"],
            "kam.toml:3:9: field `as_of`",
        ),
        (
            "actions.toml",
            "severity = \"S1\"",
            "severity = \"S9\"",
            &["scorecard", "--alerts"],
            "field `severity`",
        ),
    ];
    for (i, (file, from, to, cmd, expected)) in cases.iter().enumerate() {
        let tmp = copy_sample(&format!("bad{i}"));
        edit(&tmp, file, from, to);
        let mut args: Vec<&str> = cmd.to_vec();
        args.push(s(&tmp));
        let err = fails(&args);
        assert!(err.contains(file), "case {i}: {err}");
        assert!(err.contains(expected), "case {i}: expected {expected:?} in {err}");
    }
    let err = fails(&["simulate", "/nonexistent/growth.toml"]);
    assert!(err.contains("/nonexistent/growth.toml"), "{err}");
    let err = fails(&["price", "/nonexistent"]);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn malformed_growth_scenario_names_line_and_field() {
    let tmp = copy_sample("badgrowth");
    edit(
        &tmp,
        "growth.toml",
        "win_probability = \"0.60\"",
        "win_probability = \"1.60\"",
    );
    let err = fails(&["simulate", s(&tmp.join("growth.toml")), "--paths", "100"]);
    assert!(
        err.contains("growth.toml:") && err.contains("win_probability"),
        "{err}"
    );
}

#[test]
fn missing_required_plugin_is_an_error_optional_one_a_note() {
    let tmp = copy_sample("plugin");
    let out = ok(&["price", s(&tmp)]);
    assert!(!out.contains("plugin"));
    edit(&tmp, "kam.toml", "optional = true", "optional = false");
    let err = fails(&["report", s(&tmp), "-o", s(&tmp.join("x.html")), "--paths", "100"]);
    assert!(
        err.contains("kam.toml:") && err.contains("field `path`") && err.contains("oem_volume_growth.wasm"),
        "{err}"
    );
    // kam price uses no growth plugin: the missing one does not concern it.
    ok(&["price", s(&tmp)]);
}

// ---------------------------------------------------------------- WASM plugins

/// Runs kam; (success, stdout, stderr).
fn run(args: &[&str]) -> (bool, String, String) {
    let out = kam(args);
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Appends a `[[plugin]]` entry for guest crate `krate` (built, absolute path) to the
/// kam.toml of `dir`; returns the 1-based line of its `kind` field.
fn add_plugin(dir: &Path, name: &str, kind: &str, krate: &str) -> usize {
    let p = dir.join("kam.toml");
    let mut text = std::fs::read_to_string(&p).unwrap();
    let kind_line = text.lines().count() + 4;
    text.push_str(&format!(
        "\n[[plugin]]\nname = \"{name}\"\nkind = \"{kind}\"\npath = \"{}\"\n",
        guests::wasm_path(krate).display()
    ));
    std::fs::write(&p, text).unwrap();
    kind_line
}

/// The growth years of a `simulate --json` run: (year, P50).
fn p50s(json: &str) -> Vec<(u64, f64)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| {
            let p50 = &y["revenue"]["p50"];
            let p50 = p50
                .as_str()
                .map_or_else(|| p50.as_f64().unwrap(), |t| t.parse().unwrap());
            (y["year"].as_u64().unwrap(), p50)
        })
        .collect()
}

#[test]
fn sample_growth_plugin_lifts_the_forecast_of_the_account_directory() {
    let dir = sample();
    let args = |target: &Path| {
        vec![
            "simulate".to_owned(),
            s(target).to_owned(),
            "--paths".into(),
            "300".into(),
            "--seed".into(),
            "7".into(),
        ]
    };
    let with_dir: Vec<String> = args(&dir);
    let with_dir: Vec<&str> = with_dir.iter().map(String::as_str).collect();
    let (good, table, notes) = run(&with_dir);
    assert!(good, "{notes}");
    assert!(
        notes.contains(
            "note: plugin oem_volume_growth (growth, ../../plugins/target/wasm32-wasip2/release/oem_volume_growth.wasm): \
             applied to every month of every simulated path"
        ),
        "{notes}"
    );
    insta::assert_snapshot!("simulate_growth_plugin", table);

    // A copy of the directory cannot reach the plugin by its relative path, so it runs
    // without it (and with the same delivery projects): same draws, and the plugin's
    // factor 1.03^(year-1) leaves year 1 unchanged and lifts years 2 and 3.
    let copy = copy_sample("plugin-lift");
    let plain: Vec<String> = args(&copy);
    let mut plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    plain.push("--json");
    let mut plugged = with_dir.clone();
    plugged.push("--json");
    let (plain, plugged) = (p50s(&ok(&plain)), p50s(&ok(&plugged)));
    assert_eq!(plain.len(), 3);
    assert_eq!(plain[0], plugged[0]);
    for y in 1..3 {
        assert!(
            plugged[y].1 > plain[y].1,
            "year {}: {plugged:?} vs {plain:?}",
            y + 1
        );
    }
}

#[test]
fn rhai_growth_rule_in_kam_toml_gives_the_forecast_of_its_wasm_twin() {
    let json = |dir: &Path| ok(&["simulate", s(dir), "--paths", "300", "--seed", "7", "--json"]);
    let without_rule = |text: &str| {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        let rule = v["rule"].take();
        (v, rule)
    };
    // The sample's growth plugin (built by `sample()`).
    let (plugged, plugin_name) = without_rule(&json(&sample()));
    assert_eq!(plugin_name, "oem_volume_growth");

    // The same rule as a Rhai script listed under [rules]; the copy cannot reach the
    // plugin by its relative path, so only the script runs.
    let tmp = copy_sample("rhai-growth");
    std::fs::write(
        tmp.join("rules/oem_volume_growth.rhai"),
        include_str!("../../../scripts/oem_volume_growth.rhai"),
    )
    .unwrap();
    edit(
        &tmp,
        "kam.toml",
        "pricing = [\"rules/volume_rebate.rhai\"]",
        "pricing = [\"rules/volume_rebate.rhai\"]\ngrowth = [\"rules/oem_volume_growth.rhai\"]",
    );
    let (scripted, script_name) = without_rule(&json(&tmp));
    assert_eq!(script_name, "rules/oem_volume_growth.rhai");
    assert_eq!(scripted, plugged, "the Rhai rule and its WASM twin disagree");

    // Both at once: each sees the month as the model made it, and the factors multiply.
    add_plugin(&tmp, "oem_growth_built", "growth", "oem-volume-growth");
    let both = json(&tmp);
    let (_, both_name) = without_rule(&both);
    assert_eq!(both_name, "rules/oem_volume_growth.rhai × oem_growth_built");
    let (once, twice) = (p50s(&json(&sample())), p50s(&both));
    assert_eq!(once[0], twice[0], "year 1: both factors are 1");
    assert!(
        twice[1].1 > once[1].1 && twice[2].1 > once[2].1,
        "{twice:?} vs {once:?}"
    );

    // A broken growth script stops the run, named at its line.
    std::fs::write(
        tmp.join("rules/oem_volume_growth.rhai"),
        "fn on_period(state) {\n  [1,\n}\n",
    )
    .unwrap();
    let err = fails(&["simulate", s(&tmp), "--paths", "10"]);
    assert!(err.contains("rules/oem_volume_growth.rhai:3:"), "{err}");
}

#[test]
fn pricing_plugin_gives_the_rebate_of_its_rhai_twin_and_says_so() {
    let rhai = ok(&["price", s(&sample()), "--json"]);
    let tmp = copy_sample("plugin-price");
    edit(
        &tmp,
        "kam.toml",
        "pricing = [\"rules/volume_rebate.rhai\"]",
        "pricing = []",
    );
    add_plugin(&tmp, "volume_rebate_wasm", "pricing", "volume-rebate");
    let (good, table, notes) = run(&["price", s(&tmp)]);
    assert!(good, "{notes}");
    assert!(table.contains("volume rebate (volume_rebate_wasm)"), "{table}");
    assert!(
        notes.contains("note: plugin volume_rebate_wasm (pricing, ")
            && notes.contains("applied to the proposal after the Rhai pricing rules"),
        "{notes}"
    );
    insta::assert_snapshot!("price_plugin", table);
    let wasm: serde_json::Value = serde_json::from_str(&ok(&["price", s(&tmp), "--json"])).unwrap();
    let rhai: serde_json::Value = serde_json::from_str(&rhai).unwrap();
    assert_eq!(wasm["proposal_net"], rhai["proposal_net"]);
    // The rebate comes after pricing.toml's [commercial] lines: the last adjustment.
    let rebate = |j: &serde_json::Value| j["adjustments"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(rebate(&wasm)[1], rebate(&rhai)[1]);
    assert_eq!(rebate(&wasm)[0], "volume rebate (volume_rebate_wasm)");

    // Listing both the Rhai rule and its WASM twin grants the rebate twice — why the
    // sample lists only the Rhai rule.
    edit(
        &tmp,
        "kam.toml",
        "pricing = []",
        "pricing = [\"rules/volume_rebate.rhai\"]",
    );
    let both: serde_json::Value = serde_json::from_str(&ok(&["price", s(&tmp), "--json"])).unwrap();
    let labels: Vec<&str> = both["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[0].as_str().unwrap())
        .filter(|l| !l.ends_with("(pricing.toml [commercial])"))
        .collect();
    assert_eq!(
        labels,
        [
            "volume rebate (rules/volume_rebate.rhai)",
            "volume rebate (volume_rebate_wasm)"
        ]
    );
}

#[test]
fn python_and_javascript_rebates_price_the_proposal_like_the_rust_plugin() {
    use guests::{Foreign, foreign_wasm_path};
    // One account directory per guest, each declaring its rebate under the same name, so
    // everything kam prints on stdout must be identical.
    let price_with = |tag: &str, plugin: &Path| {
        let tmp = copy_sample(&format!("plugin-{tag}"));
        edit(
            &tmp,
            "kam.toml",
            "pricing = [\"rules/volume_rebate.rhai\"]",
            "pricing = []",
        );
        let p = tmp.join("kam.toml");
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&format!(
            "\n[[plugin]]\nname = \"volume_rebate\"\nkind = \"pricing\"\npath = \"{}\"\n",
            plugin.display()
        ));
        std::fs::write(&p, text).unwrap();
        let (good, table, notes) = run(&["price", s(&tmp)]);
        assert!(good, "{tag}: {notes}");
        assert!(table.contains("volume rebate (volume_rebate)"), "{tag}: {table}");
        table
    };
    let rust = price_with("rust", &guests::wasm_path("volume-rebate"));
    for (guest, tag) in [(Foreign::Python, "python"), (Foreign::JavaScript, "javascript")] {
        if let Some(path) = foreign_wasm_path(guest) {
            assert_eq!(price_with(tag, &path), rust, "{tag} vs Rust");
        }
    }
}

#[test]
fn compiled_plugins_are_kept_where_kam_cache_dir_says() {
    let tmp = copy_sample("plugin-cache");
    add_plugin(&tmp, "volume_rebate_wasm", "pricing", "volume-rebate");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let price = |cache_dir: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_kam"))
            .args(["price", s(&tmp)])
            .env("KAM_CACHE_DIR", cache_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{stderr}");
        (String::from_utf8(out.stdout).unwrap(), stderr)
    };
    let cached = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir.join("plugins"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (compiled, _) = price(&cache);
    let files = cached(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".cwasm"), "{files:?}");
    let (from_cache, _) = price(&cache);
    assert_eq!(from_cache, compiled);
    assert_eq!(cached(&cache), files);

    // Set empty: nothing is kept.
    let (uncached, _) = price(Path::new(""));
    assert_eq!(uncached, compiled);
    // A directory that cannot be made costs a note, not the run.
    // (Under a file: the cached plugin itself.)
    let (same, notes) = price(&cache.join("plugins").join(&files[0]));
    assert_eq!(same, compiled);
    assert!(
        notes.contains("cannot create the plugin cache directory")
            && notes.contains("compiled for this run only"),
        "{notes}"
    );
    let _ = std::fs::remove_dir_all(&cache);
    // Where users learn of it.
    assert!(ok(&["--help"]).contains("KAM_CACHE_DIR  where compiled WASM plugins are kept"));
}

#[test]
fn alert_and_scoring_plugins_run_beside_the_built_in_logic() {
    let tmp = copy_sample("plugin-alert");
    add_plugin(&tmp, "two_misses", "alert", "consecutive-miss-alert");
    let (good, alerts, notes) = run(&["scorecard", s(&tmp), "--alerts"]);
    assert!(good, "{notes}");
    assert!(alerts.contains("rule:two_misses"), "{alerts}");
    assert!(alerts.contains("rule:rules/three_misses.rhai"), "{alerts}");
    assert!(notes.contains("note: plugin two_misses (alert, "), "{notes}");

    // Band scoring as a plugin scores like the built-in linear band.
    let builtin = ok(&["scorecard", s(&sample()), "--json"]);
    let tmp = copy_sample("plugin-scoring");
    let card = std::fs::read_to_string(tmp.join("scorecard.toml")).unwrap();
    std::fs::write(
        tmp.join("scorecard.toml"),
        card.replace("method = \"linear_band\"", "method = \"rule\""),
    )
    .unwrap();
    let err = fails(&["scorecard", s(&tmp)]);
    assert!(err.contains("no scoring rule was given"), "{err}");
    add_plugin(&tmp, "band", "scoring", "band-kpi-score");
    let (good, plugged, notes) = run(&["scorecard", s(&tmp), "--json"]);
    assert!(good, "{notes}");
    assert!(notes.contains("note: plugin band (scoring, "), "{notes}");
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&builtin).unwrap(),
        serde_json::from_str(&plugged).unwrap(),
    );
    assert_eq!(a["sheet"]["overall"], b["sheet"]["overall"]);
    assert_eq!(a["sites"], b["sites"]);
}

#[test]
fn plugin_of_the_wrong_kind_or_api_version_is_a_manifest_error() {
    let tmp = copy_sample("plugin-kind");
    let line = add_plugin(&tmp, "growth_as_pricing", "pricing", "oem-volume-growth");
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains(&format!(
            "kam.toml:{line}:8: field `kind`: plugin \"growth_as_pricing\""
        )),
        "{err}"
    );
    assert!(
        err.contains("is a growth plugin (world growth-rule), but kam.toml says kind = \"pricing\""),
        "{err}"
    );

    let tmp = copy_sample("plugin-api");
    let line = add_plugin(&tmp, "from_the_future", "pricing", "wrong-api-version");
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains(&format!(
            "kam.toml:{}:8: field `path`: plugin \"from_the_future\"",
            line + 1
        )),
        "{err}"
    );
    assert!(err.contains("0.9.0"), "{err}");

    let tmp = copy_sample("plugin-unknown-kind");
    let line = add_plugin(&tmp, "mystery", "pricnig", "volume-rebate");
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains(&format!(
            "kam.toml:{line}:8: field `kind`: plugin \"mystery\": unknown kind \"pricnig\""
        )),
        "{err}"
    );

    let tmp = copy_sample("plugin-two-growth");
    add_plugin(&tmp, "growth_a", "growth", "oem-volume-growth");
    add_plugin(&tmp, "growth_b", "growth", "oem-volume-growth");
    let err = fails(&["simulate", s(&tmp), "--paths", "10"]);
    assert!(
        err.contains("field `kind`: plugin \"growth_b\": a second growth plugin"),
        "{err}"
    );
}

#[test]
fn hostile_plugins_fail_the_command_naming_the_plugin() {
    let tmp = copy_sample("plugin-panic");
    let line = add_plugin(&tmp, "boom", "pricing", "hostile-panic");
    let (good, out, err) = run(&["price", s(&tmp)]);
    assert!(!good, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!(
            "kam.toml:{}:8: field `path`: plugin \"boom\" (pricing rule, ",
            line + 1
        )),
        "{err}"
    );
    assert!(err.contains("(Trap)"), "{err}");
    // The guest's own output comes with the error.
    assert!(
        err.contains("plugin boom stdout: hostile-panic: about to panic on a quote in EUR"),
        "{err}"
    );
    assert!(err.contains("plugin boom stderr: "), "{err}");
    // No "applied" note for a plugin that failed.
    assert!(!err.contains("note: plugin boom"), "{err}");

    let tmp = copy_sample("plugin-loop");
    add_plugin(&tmp, "spin", "pricing", "hostile-loop");
    let out = kam(&["price", s(&tmp)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("field `path`: plugin \"spin\" (pricing rule, ")
            && (err.contains("(OperationLimit)") || err.contains("(Timeout)")),
        "{err}"
    );
}

#[test]
fn simulate_refuses_a_pricing_plugin_listed_as_growth() {
    let tmp = copy_sample("plugin-sim-kind");
    let line = add_plugin(&tmp, "rebate_as_growth", "growth", "volume-rebate");
    let err = fails(&["simulate", s(&tmp), "--paths", "10"]);
    assert!(
        err.contains(&format!(
            "kam.toml:{line}:8: field `kind`: plugin \"rebate_as_growth\" ({}) is a pricing plugin",
            guests::wasm_path("volume-rebate").display()
        )),
        "{err}"
    );
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_not_an_error() {
    use std::process::Stdio;
    // `kam api | head -1` where `head` has already gone: every write hits a closed pipe.
    // kam must stop writing quietly instead of panicking.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_kam"))
        .arg("api")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `kam check --json` on `dir` as (code, file name, message) triples.
fn check_findings(dir: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    let json: serde_json::Value = serde_json::from_str(&ok(&["check", s(dir), "--json"])).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let name = Path::new(file).file_name().unwrap().to_str().unwrap().to_owned();
            (
                f["code"].as_str().unwrap().to_owned(),
                name,
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Removes every customer person of `region` from stakeholders.toml, with the relations
/// and coverage that name them.
fn remove_region(dir: &Path, region: &str) {
    let path = dir.join("stakeholders.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let gone: Vec<String> = blocks
        .iter()
        .filter(|b| b.trim_start().starts_with("[[people]]") && b.contains(&format!("region = \"{region}\"")))
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("id = ")).map(str::to_owned))
        .collect();
    assert!(gone.len() >= 5, "{gone:?}");
    let kept: Vec<&str> = blocks
        .into_iter()
        .filter(|b| !gone.iter().any(|id| b.contains(id.as_str())))
        .collect();
    std::fs::write(&path, kept.join("\n\n")).unwrap();
    // The CRM export (crm/*.csv): the region's contacts and every row naming them.
    let contacts = std::fs::read_to_string(dir.join("crm/contacts.csv")).unwrap();
    let mut gone: Vec<String> = gone.iter().map(|g| g.trim_matches('"').to_owned()).collect();
    gone.extend(
        contacts
            .lines()
            .filter(|l| l.contains(&format!(",{region},")))
            .filter_map(|l| l.split(',').next().map(str::to_owned)),
    );
    for file in ["crm/contacts.csv", "crm/relations.csv", "crm/coverage.csv"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.split(',').any(|f| gone.iter().any(|g| g == f)))
            .collect();
        std::fs::write(dir.join(file), kept.join("\n") + "\n").unwrap();
    }
}

#[test]
fn check_reports_problems_across_files_at_their_file() {
    let sample_findings = check_findings(&sample());
    assert!(
        sample_findings
            .iter()
            .any(|f| f.0 == "proposal-below-floor" && f.1 == "pricing.toml")
    );
    let table = ok(&["check", s(&sample())]);
    assert!(table.contains("findings:"), "{table}");
    let err = fails(&["check", s(&sample()), "--strict"]);
    assert!(err.contains("--strict"), "{err}");

    type Edit = fn(&Path);
    let cases: [(&str, Edit, &str, &str); 5] = [
        (
            "apac",
            |d| remove_region(d, "apac"),
            "region-unmapped",
            "stakeholders.toml",
        ),
        (
            "cost",
            |d| {
                edit(
                    d,
                    "pricing.toml",
                    "variable_per_unit = \"0.46\"",
                    "variable_per_unit = \"0.53\"",
                )
            },
            "proposal-rate-below-walk-away",
            "pricing.toml",
        ),
        (
            "target",
            |d| {
                let p = d.join("growth.toml");
                let mut t = std::fs::read_to_string(&p).unwrap();
                t.push_str("\n[[target]]\nyear = 1\nrevenue = \"110000000\"\n");
                std::fs::write(p, t).unwrap();
            },
            "growth-target-differs",
            "growth.toml",
        ),
        (
            "verified",
            |d| {
                edit(
                    d,
                    "actions.toml",
                    "state = \"in_progress\"",
                    "state = \"verified\"",
                )
            },
            "action-closed-while-red",
            "actions.toml",
        ),
        (
            "owner",
            |d| edit(d, "plan.toml", "owner = \"am-emea\"", "owner = \"k.mustermann\""),
            "owner-unknown",
            "plan.toml",
        ),
    ];
    for (name, apply, code, file) in cases {
        let dir = copy_sample(&format!("check-{name}"));
        apply(&dir);
        let after = check_findings(&dir);
        let new: Vec<_> = after.difference(&sample_findings).collect();
        assert!(
            new.iter().any(|f| f.0 == code && f.1 == file),
            "{name}: no new {code} in {file}; new: {new:#?}"
        );
    }
}

/// `kam` with `KAM_NOW` and `KAM_AUTHOR` set, for reproducible history.
fn kam_at(now: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(args)
        .env("KAM_CACHE_DIR", plugin_cache())
        .env("KAM_NOW", now)
        .env("KAM_AUTHOR", "J. Brenner")
        .env_remove("KAM_STORE")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run kam")
}

fn ok_at(now: &str, args: &[&str]) -> String {
    let out = kam_at(now, args);
    assert!(
        out.status.success(),
        "kam {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn history_keeps_revisions_and_changes_show_what_moved_since_the_last_ebr() {
    let dir = copy_sample("history");
    let files = [
        "plan.toml",
        "stakeholders.toml",
        "pricing.toml",
        "growth.toml",
        "actions.toml",
    ];
    let read =
        |d: &Path| -> Vec<Vec<u8>> { files.iter().map(|f| std::fs::read(d.join(f)).unwrap()).collect() };
    let now = read(&dir);
    // The account as it stood at the Q2 EBR: the August plan, Brandt not yet a supporter,
    // a dearer storage rate, the Leipzig deal at a lower probability and earlier start,
    // Puebla's action plan not yet opened.
    std::fs::copy(dir.join("history/plan-2026-08.toml"), dir.join("plan.toml")).unwrap();
    edit(
        &dir,
        "stakeholders.toml",
        "support = \"supporter\"",
        "support = \"neutral\"",
    );
    edit(&dir, "pricing.toml", "rate = \"1.38\"", "rate = \"1.42\"");
    edit(
        &dir,
        "growth.toml",
        "win_probability = \"0.60\"",
        "win_probability = \"0.50\"",
    );
    edit(
        &dir,
        "actions.toml",
        "id = \"AP-2026-031\"",
        "id = \"AP-2026-030\"",
    );
    let q2 = "2026-08-31T17:00:00+02:00";
    let saved = ok_at(
        q2,
        &[
            "history",
            "save",
            s(&dir),
            "--label",
            "EBR 2026-Q2",
            "--paths",
            "300",
            "--message",
            "Q2 review",
        ],
    );
    assert!(saved.starts_with("saved revision 1 \"EBR 2026-Q2\""), "{saved}");
    for (f, text) in files.iter().zip(&now) {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let q3 = "2026-11-20T17:00:00+01:00";
    ok_at(
        q3,
        &[
            "history",
            "save",
            s(&dir),
            "--label",
            "EBR 2026-Q3",
            "--paths",
            "300",
        ],
    );
    assert!(dir.join(".kam/history.db").is_file());
    // The store never touches the account's files.
    assert_eq!(read(&dir), now);

    let list: serde_json::Value = serde_json::from_str(&ok(&["history", "list", s(&dir), "--json"])).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["label"], "EBR 2026-Q2");
    assert_eq!(list[0]["author"], "J. Brenner");
    assert_eq!(list[0]["message"], "Q2 review");
    assert!(list[1]["parts_changed"].as_u64().unwrap() >= 5, "{list:?}");
    let table = ok(&["history", "list", s(&dir)]);
    assert!(
        table.contains("EBR 2026-Q3") && table.contains("2026-11-20 17:00 +01:00"),
        "{table}"
    );

    let changes: serde_json::Value = serde_json::from_str(&ok(&[
        "changes",
        s(&dir),
        "--since",
        "EBR 2026-Q2",
        "--until",
        "EBR 2026-Q3",
        "--json",
    ]))
    .unwrap();
    assert!(
        !changes["plan"]["objectives"].as_array().unwrap().is_empty()
            || !changes["plan"]["targets"].as_array().unwrap().is_empty(),
        "{changes}"
    );
    let people = changes["stakeholders"]["people"].as_array().unwrap();
    assert!(
        people
            .iter()
            .any(|p| p["change"] == "changed" && p["fields"][0]["field"] == "support"),
        "{people:?}"
    );
    let pricing = changes["pricing"].as_array().unwrap();
    assert!(
        pricing.iter().any(|p| p["id"] == "proposal storage_pallet_week"),
        "{pricing:?}"
    );
    let pipeline = changes["pipeline"].as_array().unwrap();
    assert!(
        pipeline.iter().any(|d| d["id"] == "Leipzig NX sequencing"),
        "{pipeline:?}"
    );
    let actions = changes["actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a["id"] == "AP-2026-031" && a["change"] == "opened"),
        "{actions:?}"
    );
    // A date selects the last revision saved by the end of that day; without --until the
    // account as it is now is compared.
    let text = ok(&["changes", s(&dir), "--since", "2026-09-01", "--paths", "300"]);
    assert!(text.starts_with("Changes from \"EBR 2026-Q2\""), "{text}");
    assert!(text.contains("Pipeline:") && text.contains("Pricing:"), "{text}");
    let same = ok(&["changes", s(&dir), "--since", "EBR 2026-Q3", "--paths", "300"]);
    assert!(same.contains("no changes"), "{same}");

    // A label saved twice, an unknown label, a store that is not one: clear errors.
    let err = String::from_utf8(
        kam_at(
            q3,
            &[
                "history",
                "save",
                s(&dir),
                "--label",
                "EBR 2026-Q3",
                "--paths",
                "100",
            ],
        )
        .stderr,
    )
    .unwrap();
    assert!(err.contains("EBR 2026-Q3"), "{err}");
    let err = fails(&["changes", s(&dir), "--since", "EBR 1999"]);
    assert!(err.contains("EBR 1999"), "{err}");
    let junk = dir.join("junk.db");
    std::fs::write(
        &junk,
        "not a database at all, just text, long enough to look like a file",
    )
    .unwrap();
    let err = fails(&["history", "list", s(&dir), "--store", s(&junk)]);
    assert!(err.contains("junk.db"), "{err}");
}

/// A headless Chromium, if this machine has one (`$KAM_CHROMIUM` names another binary).
/// `./tools/test.sh` installs it where it can.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("KAM_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .map(PathBuf::from),
        )
        .collect();
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn headless(browser: &Path, args: &[&str], page: &Path) -> Output {
    Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
        ])
        .args(args)
        .arg(page)
        .output()
        .expect("run chromium")
}

/// The page with a measuring script added (the report itself has none): every SVG's
/// box, the text containers whose content is wider than they are, the page's width.
fn measured(html: &str) -> String {
    let probe = r#"<script>
      const svgs = [...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect());
      const boxes = [...document.querySelectorAll('td, th, figcaption, li, p, h1, h2, .headline')];
      const over = boxes.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim().slice(0, 60));
      document.body.setAttribute('data-measure', JSON.stringify({
        svgs: svgs.length,
        empty_svgs: svgs.filter(r => r.width < 1 || r.height < 1).length,
        overflowing: over,
        page_overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
      }));
    </script></body>"#;
    html.replacen("</body>", probe, 1)
}

#[test]
fn ebr_pack_customer_and_internal_editions_render_in_a_real_browser() {
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ebr-artifacts");
    std::fs::create_dir_all(&out).unwrap();
    let dir = copy_sample("ebr");
    let mut pages = Vec::new();
    for edition in ["customer", "internal"] {
        let file = out.join(format!("ebr-{edition}.html"));
        let msg = ok(&[
            "report",
            s(&dir),
            "--audience",
            edition,
            "--paths",
            "1000",
            "-o",
            s(&file),
        ]);
        assert!(msg.contains(&format!("{edition} edition")), "{msg}");
        pages.push((edition, file.clone(), std::fs::read_to_string(&file).unwrap()));
    }
    let (customer, internal) = (&pages[0].2, &pages[1].2);
    // The customer edition holds nothing of the internal sections; the internal one does.
    for secret in [
        "Win probability",
        "Relationship coverage",
        "No supporter",
        "Proposal margin",
        "Walk-away",
        "Pune APAC aftermarket hub",
        "Revenue P10–P90",
        "no action plan",
        "supporter",
        "mentor",
        "Most influential",
        "Strongest path to each decision maker",
    ] {
        assert!(
            !customer.contains(secret),
            "the customer edition shows {secret:?}"
        );
    }
    for shown in [
        "Win probability",
        "Relationship coverage",
        "No supporter",
        "Proposal margin",
        "Walk-away",
        "Most influential",
        "Strongest path to each decision maker",
        "—covers→",
    ] {
        assert!(internal.contains(shown), "the internal pre-read lacks {shown:?}");
    }
    // Executive formatting: currency and scale, human labels, month names.
    assert!(internal.contains("EUR 105.1 M"), "year-1 target as EUR 105.1 M");
    assert!(customer.contains("Nov 2026"));
    assert!(!customer.contains("supply_chain") && !internal.contains(">supply_chain<"));
    // No history store: the section is absent, not empty.
    assert!(!customer.contains("Since our last review"));
    for html in [customer, internal] {
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(html.contains("@page { size: A4 landscape"));
    }

    let Some(browser) = chromium() else {
        eprintln!(
            "skipped the browser checks: no chromium on this machine (./tools/test.sh installs it with apt-get; or set KAM_CHROMIUM)"
        );
        return;
    };
    let mut pdf_pages = Vec::new();
    for (edition, file, html) in &pages {
        // A screenshot kept as an artifact of the run.
        let png = out.join(format!("ebr-{edition}.png"));
        let shot = headless(
            &browser,
            &[
                "--window-size=1280,3000",
                &format!("--screenshot={}", png.display()),
            ],
            file,
        );
        assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
        assert!(
            std::fs::metadata(&png).unwrap().len() > 20_000,
            "{edition}: empty screenshot"
        );
        // Layout measured in the browser: every chart has a box, no text overflows.
        let probe = out.join(format!("ebr-{edition}-measure.html"));
        std::fs::write(&probe, measured(html)).unwrap();
        let dom = headless(&browser, &["--window-size=1280,1000", "--dump-dom"], &probe);
        let dom = String::from_utf8_lossy(&dom.stdout).to_string();
        let attr = dom
            .split("data-measure=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{edition}: no measurement in the dumped DOM"))
            .replace("&quot;", "\"");
        let m: serde_json::Value = serde_json::from_str(&attr).unwrap();
        assert!(m["svgs"].as_u64().unwrap() >= 9, "{edition}: {m}");
        assert_eq!(m["empty_svgs"], 0, "{edition}: an SVG without a box: {m}");
        assert_eq!(
            m["overflowing"],
            serde_json::json!([]),
            "{edition}: text overflows: {m}"
        );
        assert_eq!(
            m["page_overflow"], false,
            "{edition}: the page is wider than the window: {m}"
        );
        // Print to PDF: the print stylesheet paginates, section by section.
        let pdf = out.join(format!("ebr-{edition}.pdf"));
        let print = headless(
            &browser,
            &[
                "--no-pdf-header-footer",
                &format!("--print-to-pdf={}", pdf.display()),
            ],
            file,
        );
        assert!(
            print.status.success(),
            "{}",
            String::from_utf8_lossy(&print.stderr)
        );
        let bytes = std::fs::read(&pdf).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let count = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
        assert!(count >= 3, "{edition}: {count} PDF pages");
        pdf_pages.push(count);
    }
    assert!(
        pdf_pages[1] > pdf_pages[0],
        "the pre-read has more pages: {pdf_pages:?}"
    );
}

/// The sample directory as it is (no plugins built: `kam delivery` loads none).
fn sample_files() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/sample")
}

#[test]
fn delivery_shows_the_late_project_its_critical_path_and_overloads() {
    let dir = sample_files();
    let out = ok(&["delivery", s(&dir)]);
    assert!(
        out.contains("leipzig-nx — Leipzig NX sequencing centre  [LATE]"),
        "{out}"
    );
    assert!(
        out.contains("critical path: design → wms-release → integration → ppap → go-live"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&["delivery", s(&dir), "--json"])).unwrap();
    assert_eq!(json["unit"], "weeks");
    let projects = json["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 3);
    let leipzig = &projects[0];
    assert_eq!(leipzig["id"], "leipzig-nx");
    assert_eq!(leipzig["late"], true);
    assert_eq!(leipzig["feeds_growth"], true);
    assert!(leipzig["p90"].as_str().unwrap() > leipzig["committed"].as_str().unwrap());
    assert_eq!(leipzig["raci"]["accountable"], "solutions");
    assert!(projects[1..].iter().all(|p| p["late"] == false));
    assert_eq!(projects[2]["unowned_critical"], serde_json::json!(["carrier-it"]));
    let overloads = json["overloads"].as_array().unwrap();
    assert!(
        overloads.iter().any(|o| o["person"] == "solutions"),
        "{overloads:?}"
    );
    // Assignments: the Puebla escalation loads am-americas, the CFO office is consulted
    // on the Greenville objective, whose owner in plan.toml is accountable.
    let am = json["load"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person"] == "am-americas")
        .unwrap();
    let dec_month = am["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-12")
        .unwrap();
    assert_eq!(dec_month["days"], "4", "{am}");
    let greenville = json["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["objective"] == "o-nx-greenville")
        .unwrap();
    assert_eq!(greenville["raci"]["accountable"], "am-americas");
    assert_eq!(greenville["raci"]["consulted"], serde_json::json!(["cfo-office"]));
    assert_eq!(greenville["projects"], serde_json::json!(["greenville-nx"]));
    assert!(
        out.contains("o-nx-greenville    R solutions, am-americas; A am-americas; C cfo-office; I ad"),
        "{out}"
    );
    // The same seed, the same figures.
    assert_eq!(
        ok(&["delivery", s(&dir), "--json"]),
        ok(&["delivery", s(&dir), "--json"])
    );
}

#[test]
fn ebr_pack_refuses_an_unknown_label_and_audience_and_shows_the_last_review() {
    let dir = copy_sample("ebr-bad");
    edit(
        &dir,
        "labels.toml",
        "apac = \"APAC\"",
        "apac = \"APAC\"\nasia_pacific = \"Asia\"",
    );
    let err = fails(&["report", s(&dir), "-o", s(&dir.join("x.html"))]);
    assert!(err.contains("labels.toml:6:1: field `asia_pacific`"), "{err}");
    let out = kam(&["report", s(&sample()), "--audience", "board"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses the audience");
    assert!(String::from_utf8_lossy(&out.stderr).contains("board"));

    // With a saved review, "since our last review" appears, worded for the customer.
    let dir = copy_sample("ebr-since");
    ok_at(
        "2026-08-31T17:00:00+02:00",
        &[
            "history",
            "save",
            s(&dir),
            "--label",
            "EBR 2026-Q2",
            "--paths",
            "300",
        ],
    );
    edit(
        &dir,
        "actions.toml",
        "state = \"in_progress\"",
        "state = \"resolved\"",
    );
    edit(&dir, "pricing.toml", "rate = \"1.38\"", "rate = \"1.42\"");
    let file = dir.join("ebr.html");
    ok(&["report", s(&dir), "--paths", "300", "-o", s(&file)]);
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(
        html.contains("Since our last review (EBR 2026-Q2, Aug 2026)"),
        "since section"
    );
    assert!(!html.contains("Pricing proposal"), "prices changed are internal");
    ok(&[
        "report",
        s(&dir),
        "--paths",
        "300",
        "--audience",
        "internal",
        "-o",
        s(&file),
    ]);
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(
        html.contains("Pricing proposal storage_pallet_week changed"),
        "internal sees the price change"
    );
}

#[test]
fn delivery_bad_input_names_file_line_column_and_task() {
    let dir = std::env::temp_dir().join(format!("kam-cli-delivery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&sample_files(), &dir);
    let text = std::fs::read_to_string(dir.join("delivery.toml")).unwrap();
    let line = text.lines().position(|l| l.contains("id = \"ppap\"")).unwrap() + 1;
    edit(
        &dir,
        "delivery.toml",
        "\"site-ready\", \"hiring\"]",
        "\"site-ready\", \"nowhere\"]",
    );
    let e = fails(&["delivery", s(&dir)]);
    assert!(e.contains(&format!("delivery.toml:{line}:")), "{e}");
    assert!(
        e.contains("\"ppap\"") && e.contains("unknown task \"nowhere\""),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stakeholders_rank_influence_find_paths_hostile_players_and_departures() {
    let dir = copy_sample("reach");
    let json: serde_json::Value = serde_json::from_str(&ok(&["stakeholders", s(&dir), "--json"])).unwrap();
    let ranking = json["influence"].as_array().unwrap();
    assert_eq!(ranking.len(), 60, "the whole ranking in JSON");
    let total: rust_decimal::Decimal = ranking
        .iter()
        .map(|r| {
            r["score"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, rust_decimal::Decimal::ONE, "scores sum to exactly 1");
    let paths = json["paths"].as_array().unwrap();
    assert_eq!(paths.len(), json["deciders"].as_u64().unwrap() as usize);
    assert!(
        paths
            .iter()
            .any(|p| p["path"]["steps"][0]["link"]["kind"] == "coverage"),
        "{paths:?}"
    );
    let hostile = json["hostile"].as_array().unwrap();
    assert!(
        hostile
            .iter()
            .any(|h| h["person"] == "wang" && h["why"] == "enemy"),
        "{hostile:?}"
    );
    let table = ok(&["stakeholders", s(&dir), "--top", "3"]);
    assert!(
        table.contains("Influence (weighted PageRank), top 3:") && table.contains("   3. "),
        "{table}"
    );
    assert!(!table.contains("   4. "), "{table}");
    assert!(table.contains("Strongest path to each decision maker"), "{table}");

    // A conflict with one of our mentors is a finding too.
    edit(
        &dir,
        "crm/relations.csv",
        "Relationship,Contact,Related Contact,Strength\n",
        "Relationship,Contact,Related Contact,Strength\nConflicts With,brandt,okafor,\n",
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&["stakeholders", s(&dir), "--json"])).unwrap();
    assert!(
        json["hostile"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["person"] == "brandt" && h["why"] == "conflicts with our mentor okafor"),
        "{}",
        json["hostile"]
    );

    // If the APAC account manager leaves, APAC's relationships go with them.
    let leaves = ok(&["stakeholders", s(&dir), "--if-leaves", "am-apac"]);
    assert!(leaves.starts_with("If am-apac (ours) leaves"), "{leaves}");
    let d: serde_json::Value = serde_json::from_str(&ok(&[
        "stakeholders",
        s(&dir),
        "--if-leaves",
        "am-apac",
        "--json",
    ]))
    .unwrap();
    assert!(!d["relationships_lost"].as_array().unwrap().is_empty(), "{d}");
    let err = fails(&["stakeholders", s(&dir), "--if-leaves", "nobody"]);
    assert!(err.contains("nobody"), "{err}");
}

#[test]
fn coaching_and_the_scorecard_roll_up_from_the_account_directory() {
    let dir = copy_sample("coach");
    let json: serde_json::Value = serde_json::from_str(&ok(&["coach", s(&dir), "--json"])).unwrap();
    let regions = json["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 4);
    let china = regions
        .iter()
        .find(|r| r["assessment"]["region"] == "china")
        .unwrap();
    assert_eq!(china["assessment"]["manager"], "am-china");
    assert!(
        !china["assessment"]["development_actions"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{china}"
    );
    let table = ok(&["coach", s(&dir)]);
    assert!(table.contains("completeness") && table.contains("→ "), "{table}");

    let r: serde_json::Value =
        serde_json::from_str(&ok(&["scorecard", s(&dir), "--rollup", "--json"])).unwrap();
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["node"], "global");
    assert_eq!(nodes.len(), 26, "every node of account.toml");
    // The account's score is the revenue-weighted mean of its regions'.
    let num = |v: &serde_json::Value| v.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    let regions: Vec<&serde_json::Value> = nodes.iter().filter(|n| n["level"] == "region").collect();
    let weighted: rust_decimal::Decimal = regions.iter().map(|n| num(&n["score"]) * num(&n["weight"])).sum();
    let weight: rust_decimal::Decimal = regions.iter().map(|n| num(&n["weight"])).sum();
    let diff = (weighted / weight - num(&nodes[0]["score"])).abs();
    assert!(diff < rust_decimal::Decimal::new(1, 3), "{diff}");
    assert!(ok(&["scorecard", s(&dir), "--rollup"]).contains("weighted by revenue"));
}

#[test]
fn alerts_ack_snooze_notify_once_webhook_and_escalations() {
    let dir = copy_sample("alerts");
    let now = "2026-11-20T14:00:00+01:00";
    let json: serde_json::Value = serde_json::from_str(&ok(&["alerts", s(&dir), "--json"])).unwrap();
    let alerts = json["alerts"].as_array().unwrap();
    let mut open = std::collections::BTreeSet::new();
    for a in alerts {
        for key in [
            "id",
            "node",
            "kpi",
            "reasons",
            "severity",
            "owner",
            "action",
            "escalation",
        ] {
            assert!(a.get(key).is_some(), "alert without {key}: {a}");
        }
        assert!(a["reasons"].is_array() && a["owner"].is_string(), "{a}");
        if a["closed"].is_null() {
            assert!(open.insert((a["node"].to_string(), a["kpi"].to_string())), "{a}");
        }
    }
    for level in ["region", "global", "site"] {
        let j: serde_json::Value =
            serde_json::from_str(&ok(&["alerts", s(&dir), "--level", level, "--json"])).unwrap();
        let list = j["alerts"].as_array().unwrap();
        assert!(!list.is_empty(), "no {level} alert");
        assert!(list.iter().all(|a| a["level"] == level));
    }
    // `kam scorecard --alerts` is the same view.
    assert_eq!(ok(&["scorecard", s(&dir), "--alerts"]), ok(&["alerts", s(&dir)]));

    // Acknowledge one, snooze another; an unknown id is refused and names the open ones.
    let stop = "puebla/line_stoppages/2026-10";
    let out = ok_at(
        now,
        &["alerts", "ack", s(&dir), stop, "--reason", "plan being written"],
    );
    assert!(out.starts_with(&format!("acknowledged {stop}")), "{out}");
    let margin = "tianjin/margin_pct/2026-09";
    ok_at(
        now,
        &[
            "alerts",
            "ack",
            s(&dir),
            margin,
            "--reason",
            "repricing in December",
            "--snooze-until",
            "2026-12-01",
        ],
    );
    let err = String::from_utf8(
        kam_at(
            now,
            &["alerts", "ack", s(&dir), "nowhere/otif/2026-01", "--reason", "x"],
        )
        .stderr,
    )
    .unwrap();
    assert!(
        err.contains("no alert \"nowhere/otif/2026-01\"") && err.contains(stop),
        "{err}"
    );
    let listed = ok(&["alerts", s(&dir)]);
    assert!(listed.contains("acknowledged: plan being written"), "{listed}");
    assert!(
        listed.contains("snoozed until 2026-12-01: repricing in December"),
        "{listed}"
    );

    // Notify: one message per owner, without the acknowledged and snoozed alerts; a
    // rerun sends nothing.
    let outbox = dir.join("outbox");
    let first = kam_at(now, &["alerts", s(&dir), "--notify", s(&outbox)]);
    assert!(first.status.success());
    let note = String::from_utf8(first.stderr).unwrap();
    assert!(note.starts_with("notify: "), "{note}");
    let mut owners = Vec::new();
    for e in std::fs::read_dir(&outbox).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jsonl") {
            let text = std::fs::read_to_string(&p).unwrap();
            assert_eq!(text.lines().count(), 1, "{}", p.display());
            let m: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
            for a in m["alerts"].as_array().unwrap() {
                assert_eq!(a["owner"], m["owner"]);
                assert!(a["id"] != stop && a["id"] != margin, "{a}");
            }
            owners.push(m["owner"].as_str().unwrap().to_owned());
            assert!(p.with_extension("txt").is_file());
        }
    }
    owners.sort();
    assert!(
        owners.contains(&"am-americas".to_owned()) && owners.contains(&"ad".to_owned()),
        "{owners:?}"
    );
    let again = kam_at(now, &["alerts", s(&dir), "--notify", s(&outbox)]);
    assert!(String::from_utf8(again.stderr).unwrap().contains("nothing new"));
    let jsonl = std::fs::read_to_string(outbox.join("am-americas.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 1);

    // A severity rise is news: an alert notified before at a lower severity is sent
    // again, saying what it was; one notified at its current severity is not. (A fresh
    // store with two earlier notifications recorded as `kam alerts --notify` records them.)
    {
        use kam_store::HistoryStore as _;
        let severe: Vec<&serde_json::Value> = alerts
            .iter()
            .filter(|a| a["closed"].is_null() && a["owner"].is_string() && a["severity"] != "S4")
            .collect();
        assert!(severe.len() >= 2, "need two open alerts above S4: {severe:?}");
        let (rose, same) = (severe[0], severe[1]);
        let path = dir.join("rise.db");
        let mut store = kam_store::SqliteStore::open(&path).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-01T09:00:00+01:00").unwrap();
        for (a, level) in [(rose, serde_json::json!("S4")), (same, same["severity"].clone())] {
            let event = kam_store::NewEvent::new(at, "alert.notified", a["id"].as_str().unwrap())
                .payload(serde_json::json!({ "owner": a["owner"], "severity": level, "target": "earlier" }));
            store.append_event(&event).unwrap();
        }
        drop(store);
        let outbox2 = dir.join("outbox-rise");
        let run = kam_at(
            now,
            &["alerts", s(&dir), "--notify", s(&outbox2), "--store", s(&path)],
        );
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let owner = rose["owner"].as_str().unwrap();
        let text = std::fs::read_to_string(outbox2.join(format!("{owner}.jsonl"))).unwrap();
        let m: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        let ids: Vec<&str> = m["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&rose["id"].as_str().unwrap()), "{ids:?}");
        assert_eq!(m["severity_rose_from"][rose["id"].as_str().unwrap()], "S4", "{m}");
        let sent_again: Vec<String> = std::fs::read_dir(&outbox2)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "jsonl").then(|| std::fs::read_to_string(p).unwrap())
            })
            .collect();
        assert!(
            sent_again
                .iter()
                .all(|t| !t.contains(&format!("\"id\":{}", same["id"]))),
            "{} was re-sent at the same severity",
            same["id"]
        );
        let digest = std::fs::read_to_string(outbox2.join(format!("{owner}.txt"))).unwrap();
        assert!(digest.contains("(was S4)"), "{digest}");
        let rerun = kam_at(
            now,
            &["alerts", s(&dir), "--notify", s(&outbox2), "--store", s(&path)],
        );
        assert!(String::from_utf8(rerun.stderr).unwrap().contains("nothing new"));
    }

    // The webhook: a local server only, one POST per owner (a fresh store: nothing sent).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/kam", listener.local_addr().unwrap());
    let expected = owners.len();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Read, Write};
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut bodies = Vec::new();
        while bodies.len() < expected && std::time::Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
            bodies.push((request_line, String::from_utf8(body).unwrap()));
        }
        bodies
    });
    let store2 = dir.join("webhook.db");
    let hook = kam_at(now, &["alerts", s(&dir), "--notify", &url, "--store", s(&store2)]);
    assert!(hook.status.success(), "{}", String::from_utf8_lossy(&hook.stderr));
    let bodies = server.join().unwrap();
    assert_eq!(bodies.len(), expected);
    for (line, body) in &bodies {
        assert!(line.starts_with("POST /kam HTTP/1.1"), "{line}");
        let m: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(m["owner"].is_string() && m["alerts"].is_array());
    }
    let store3 = dir.join("https.db");
    let https = fails(&[
        "alerts",
        s(&dir),
        "--notify",
        "https://example.invalid/hook",
        "--store",
        s(&store3),
    ]);
    assert!(https.contains("https is not supported"), "{https}");

    // Escalations with time to breach.
    let esc = ok(&["escalations", s(&dir)]);
    assert!(
        esc.contains("ESC-0412") && esc.contains("esc/tianjin/cost_to_serve_pct/2026-09"),
        "{esc}"
    );
    insta::assert_snapshot!("escalations", esc);
    let j: serde_json::Value = serde_json::from_str(&ok(&["escalations", s(&dir), "--json"])).unwrap();
    assert!(
        j["escalations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["minutes_to_breach"].is_i64())
    );

    // Bad input, located.
    let bad = copy_sample("alerts-bad");
    edit(
        &bad,
        "alerts.toml",
        "owner = \"cfo-office\"",
        "owner = \"finance\"",
    );
    let err = fails(&["alerts", s(&bad)]);
    assert!(
        err.contains("alerts.toml:37:9: field `owner`: unknown owner \"finance\""),
        "{err}"
    );
    let bad = copy_sample("alerts-naive");
    edit(&bad, "actions.toml", "06:40:00-06:00", "06:40:00");
    let err = fails(&["escalations", s(&bad)]);
    assert!(
        err.contains("field `opened`") && err.contains("has no time zone"),
        "{err}"
    );
}

/// The sample with its whole stakeholder map in stakeholders.toml (the CRM export's
/// records written back as TOML, kam.toml's `[import.*]` removed).
fn sample_all_toml(name: &str) -> PathBuf {
    let dir = copy_sample(name);
    let account = kam_account::Account::open(&dir).unwrap();
    let map = account.stakeholders.as_ref().unwrap();
    std::fs::write(dir.join("stakeholders.toml"), toml::to_string(map).unwrap()).unwrap();
    let kam = std::fs::read_to_string(dir.join("kam.toml")).unwrap();
    let (head, rest) = kam.split_once("[import.people]").unwrap();
    // The pipeline export ([import.pipeline], crm/pipeline.csv) stays.
    let (_, tail) = rest.split_once("# The newest deals").unwrap();
    std::fs::write(dir.join("kam.toml"), format!("{head}# The newest deals{tail}")).unwrap();
    for f in ["contacts", "relations", "coverage"] {
        std::fs::remove_file(dir.join(format!("crm/{f}.csv"))).unwrap();
    }
    dir
}

#[test]
fn the_crm_export_gives_the_same_stakeholder_analysis_as_toml() {
    let all_toml = sample_all_toml("all-toml");
    let imported = ok(&["stakeholders", s(&sample()), "--json"]);
    assert_eq!(imported, ok(&["stakeholders", s(&all_toml), "--json"]));
    let json: serde_json::Value = serde_json::from_str(&imported).unwrap();
    assert_eq!(
        json["people"], 60,
        "46 from stakeholders.toml, 14 from crm/contacts.csv"
    );
    // `kam check` finds the same things; a finding about an imported person points at
    // its row in the export.
    let strip = |set: std::collections::BTreeSet<(String, String, String)>| -> std::collections::BTreeSet<(String, String)> {
        set.into_iter().map(|(code, _, message)| (code, message)).collect()
    };
    assert_eq!(strip(check_findings(&sample())), strip(check_findings(&all_toml)));
    let check: serde_json::Value = serde_json::from_str(&ok(&["check", s(&sample()), "--json"])).unwrap();
    let klein = check
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "key-player-stale" && f["message"].as_str().unwrap().contains("klein"))
        .expect("klein, an approver last met in June, is stale");
    assert!(
        klein["file"].as_str().unwrap().ends_with("crm/contacts.csv"),
        "{klein}"
    );
    assert_eq!(klein["line"], 17);
    // kam demo (the embedded sample) reads the export too.
    let demo = ok(&["demo"]);
    assert!(demo.contains("Stakeholder"), "{demo}");
    let _ = std::fs::remove_dir_all(&all_toml);
}

#[test]
fn crm_export_errors_name_the_file_line_column_and_field() {
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "crm/relations.csv",
            "Reports To,brandt,mueller,",
            "Reports To,brandt,mueler,",
            "crm/relations.csv:3:3: field `to`",
        ),
        (
            "crm/relations.csv",
            "Reports To,brandt,mueller,",
            "Reports To,brandt,mueller",
            "crm/relations.csv:3:4:",
        ),
        (
            "crm/relations.csv",
            "Reports To,brandt,mueller,",
            "Reports To,mueller,brandt,\nReports To,brandt,mueller,",
            "crm/relations.csv:",
        ),
        (
            "crm/coverage.csv",
            "ad,brandt,Trusted Advisor",
            "ad,brandt,Best Friend",
            "crm/coverage.csv:3:3: field `level`",
        ),
        (
            "kam.toml",
            "level = \"Relationship Level\"",
            "level = \"Level\"",
            "crm/coverage.csv:2:1: field `level`",
        ),
    ];
    for (i, (file, from, to, want)) in cases.into_iter().enumerate() {
        let dir = copy_sample(&format!("crm-bad-{i}"));
        edit(&dir, file, from, to);
        let err = fails(&["stakeholders", s(&dir), "--json"]);
        assert!(
            err.contains(&format!("{}/{want}", dir.display())),
            "{file}: {to}\n{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    // A weight ≤ 0, and a reports-to cycle, named as such.
    let dir = copy_sample("crm-weight");
    let text = std::fs::read_to_string(dir.join("crm/relations.csv")).unwrap();
    let (line, row) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("Influences,"))
        .unwrap();
    let mut fields: Vec<&str> = row.split(',').collect();
    fields[3] = "0";
    edit(&dir, "crm/relations.csv", row, &fields.join(","));
    let err = fails(&["stakeholders", s(&dir)]);
    assert!(
        err.contains(&format!("crm/relations.csv:{}:4: field `weight`", line + 1)),
        "{err}"
    );
    assert!(err.contains("outside (0, 1]"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let dir = copy_sample("crm-cycle");
    edit(
        &dir,
        "crm/relations.csv",
        "Reports To,brandt,mueller,",
        "Reports To,brandt,mueller,\nReports To,mueller,brandt,",
    );
    let err = fails(&["stakeholders", s(&dir)]);
    assert!(
        err.contains("reports-to cycle") && err.contains("crm/relations.csv:"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn contacts_can_come_from_a_workbook_with_errors_at_sheet_and_cell() {
    let dir = copy_sample("crm-xlsx");
    let account = kam_account::Account::open(&dir).unwrap();
    let map = account.stakeholders.as_ref().unwrap();
    // The contacts the CSV export holds, as a workbook with kam's own column names.
    let imported = &map.people[46..];
    let book = dir.join("crm/contacts.xlsx");
    let write = |support_of_second: Option<&str>| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("Contacts").unwrap();
        let head = [
            "id",
            "name",
            "title",
            "region",
            "function",
            "buying_role",
            "power",
            "support",
            "last_contact",
            "buying_centres",
        ];
        for (c, h) in head.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        let word = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for (r, p) in imported.iter().enumerate() {
            let mut support = word(serde_json::to_value(p.support).unwrap());
            if r == 1
                && let Some(s) = support_of_second
            {
                support = s.to_owned();
            }
            let row = [
                p.id.clone(),
                p.name.clone(),
                p.title.clone(),
                p.region.clone(),
                p.function.clone(),
                word(serde_json::to_value(p.buying_role).unwrap()),
                word(serde_json::to_value(p.power).unwrap()),
                support,
                p.last_contact.map(|d| d.to_string()).unwrap_or_default(),
                p.buying_centres.join(";"),
            ];
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
        wb.save(&book).unwrap();
    };
    write(None);
    let kam = std::fs::read_to_string(dir.join("kam.toml")).unwrap();
    let (head, rest) = kam.split_once("[import.people]").unwrap();
    let (_, tail) = rest.split_once("[import.relations]").unwrap();
    std::fs::write(
        dir.join("kam.toml"),
        format!("{head}[import.people]\nfile = \"crm/contacts.xlsx\"\nsheet = \"Contacts\"\n\n[import.relations]{tail}"),
    )
    .unwrap();
    std::fs::remove_file(dir.join("crm/contacts.csv")).unwrap();
    assert_eq!(
        ok(&["stakeholders", s(&dir), "--json"]),
        ok(&["stakeholders", s(&sample()), "--json"])
    );
    write(Some("lukewarm"));
    let err = fails(&["stakeholders", s(&dir)]);
    assert!(
        err.contains("crm/contacts.xlsx [Contacts]:3:8: field `support`"),
        "{err}"
    );
    assert!(err.contains("Contacts!H3"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The columns of a pipeline export with kam's own names (no mapping needed).
const DEAL_COLUMNS: [&str; 19] = [
    "name",
    "service_line",
    "region",
    "win_probability",
    "distribution",
    "value",
    "value_min",
    "value_mode",
    "value_max",
    "value_mean",
    "value_sd",
    "start_month",
    "slippage_min",
    "slippage_max",
    "slippage_months",
    "slippage_probabilities",
    "ramp_up_months",
    "margin_pct",
    "volume_exposure",
];

/// Growth deals (as kam writes them to JSON) as rows of [`DEAL_COLUMNS`]: fractions,
/// month numbers, every distribution and slippage kind.
fn deal_rows(deals: &[serde_json::Value]) -> Vec<Vec<String>> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let list = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(text)
            .collect::<Vec<_>>()
            .join(";")
    };
    deals
        .iter()
        .map(|d| {
            let mut row: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
            for f in [
                "name",
                "service_line",
                "region",
                "win_probability",
                "start_month",
                "ramp_up_months",
                "margin_pct",
                "volume_exposure",
            ] {
                row.insert(f, text(&d[f]));
            }
            let v = &d["value"];
            row.insert("distribution", text(&v["kind"]));
            for (field, key) in [
                ("value", "value"),
                ("value_min", "min"),
                ("value_mode", "mode"),
                ("value_max", "max"),
                ("value_mean", "mean"),
                ("value_sd", "sd"),
            ] {
                row.insert(field, text(&v[key]));
            }
            let sl = &d["slippage"];
            match sl["kind"].as_str().unwrap() {
                "uniform" => {
                    row.insert("slippage_min", text(&sl["min"]));
                    row.insert("slippage_max", text(&sl["max"]));
                }
                "discrete" => {
                    row.insert("slippage_months", list(&sl["months"]));
                    row.insert("slippage_probabilities", list(&sl["probabilities"]));
                }
                "fixed" => {
                    row.insert("slippage_months", text(&sl["months"]));
                }
                _ => {}
            }
            DEAL_COLUMNS
                .iter()
                .map(|c| row.get(c).cloned().unwrap_or_default())
                .collect()
        })
        .collect()
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut out = DEAL_COLUMNS.join(",") + "\n";
    for r in rows {
        assert!(r.iter().all(|f| !f.contains([',', '"', '\n'])), "{r:?}");
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out
}

/// The sample's deals: all of them, and those its kam.toml imports from crm/pipeline.csv.
fn sample_deals() -> (Vec<serde_json::Value>, usize) {
    let account = kam_account::Account::open(&sample()).unwrap();
    let g = account.growth.as_ref().unwrap();
    let first = account.pipeline_origins.as_ref().unwrap().first;
    let deals = g
        .opportunities
        .iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    (deals, first)
}

/// `dir`'s kam.toml with its `[import.pipeline]` table replaced by `table` (none: "").
fn replace_pipeline_import(dir: &Path, table: &str) {
    let kam = std::fs::read_to_string(dir.join("kam.toml")).unwrap();
    let (head, rest) = kam.split_once("[import.pipeline]").unwrap();
    let (_, tail) = rest.split_once("# User rules").unwrap();
    std::fs::write(dir.join("kam.toml"), format!("{head}{table}\n# User rules{tail}")).unwrap();
}

/// `dir`'s growth.toml without any `[[opportunity]]` (correlation groups kept).
fn growth_without_deals(dir: &Path) {
    let path = dir.join("growth.toml");
    let mut g: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    g.remove("opportunity");
    std::fs::write(&path, toml::to_string(&g).unwrap()).unwrap();
}

#[test]
fn a_pipeline_export_forecasts_exactly_like_the_same_deals_in_growth_toml() {
    let sim = |dir: &Path| ok(&["simulate", s(dir), "--paths", "2000", "--seed", "7", "--json"]);
    // Copies of the sample, which find no growth plugin at its relative path: the
    // forecasts compared are growth.toml's and the export's alone.
    let shipped = copy_sample("pipeline-as-shipped");
    let want = sim(&shipped);
    let same = |dir: &Path, what: &str| assert!(sim(dir) == want, "{what}: another forecast");
    let (deals, first) = sample_deals();
    assert_eq!(
        (deals.len(), first),
        (30, 28),
        "2 deals come from crm/pipeline.csv"
    );
    // The sample's eight exported deals typed back into growth.toml: the same forecast
    // and the same findings.
    let all_toml = copy_sample("pipeline-all-toml");
    let mut growth = std::fs::read_to_string(all_toml.join("growth.toml")).unwrap();
    growth.push_str(&toml::to_string(&serde_json::json!({ "opportunity": &deals[first..] })).unwrap());
    std::fs::write(all_toml.join("growth.toml"), growth).unwrap();
    replace_pipeline_import(&all_toml, "");
    std::fs::remove_file(all_toml.join("crm/pipeline.csv")).unwrap();
    same(&all_toml, "the exported deals in growth.toml");
    let strip = |set: std::collections::BTreeSet<(String, String, String)>| -> std::collections::BTreeSet<(String, String)> {
        set.into_iter().map(|(code, _, message)| (code, message)).collect()
    };
    assert_eq!(strip(check_findings(&sample())), strip(check_findings(&all_toml)));
    // Every deal from an export with kam's own column names (month numbers, fractions,
    // lognormal values, uniform and discrete slippage): the correlation groups and the
    // delivery projects of growth.toml and delivery.toml find their deals there.
    let all_csv = copy_sample("pipeline-all-csv");
    growth_without_deals(&all_csv);
    std::fs::write(all_csv.join("crm/deals.csv"), csv_text(&deal_rows(&deals))).unwrap();
    replace_pipeline_import(&all_csv, "[import.pipeline]\nfile = \"crm/deals.csv\"\n");
    same(&all_csv, "every deal from a CSV export");
    // The same export as a workbook; an error there names the sheet's cell.
    let book = |rows: &[Vec<String>]| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("Pipeline").unwrap();
        for (c, h) in DEAL_COLUMNS.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
        wb.save(all_csv.join("crm/deals.xlsx")).unwrap();
    };
    let mut rows = deal_rows(&deals);
    book(&rows);
    replace_pipeline_import(
        &all_csv,
        "[import.pipeline]\nfile = \"crm/deals.xlsx\"\nsheet = \"Pipeline\"\n",
    );
    same(&all_csv, "every deal from a workbook");
    rows[2][3] = "1.5".into();
    book(&rows);
    let err = fails(&["check", s(&all_csv)]);
    assert!(
        err.contains(
            "crm/deals.xlsx [Pipeline]:4:4: field `win_probability`: Pipeline!D4: 1.5 is outside [0, 1]"
        ),
        "{err}"
    );
    // The embedded sample (kam demo) reads the export too: its forecast is the one of
    // the directory on disk, growth plugin aside.
    let demo: serde_json::Value = serde_json::from_str(&ok(&["demo", "--json"])).unwrap();
    assert_eq!(demo["growth"]["paths"], 20_000);
    for d in [shipped, all_toml, all_csv] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn pipeline_export_errors_name_the_file_line_column_and_field() {
    // crm/pipeline.csv: three comment lines, the header on line 4, "Zaragoza plant
    // warehousing" on line 5.
    let zaragoza = "Zaragoza plant warehousing,Warehousing,EMEA,45,Three-point estimate,,500000,700000,1000000,2027-07-01,";
    let row = |edit: &str| format!("{edit},,0;3;6,60;30;10,2,8.5,0.8");
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace(",45,", ",250,"),
            "crm/pipeline.csv:5:4: field `win_probability`: 250 is outside 0–100 %",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace(",45,", ",0.45,"),
            "crm/pipeline.csv:5:4: field `win_probability`: 0.45 in a percent column is ambiguous",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace(",45,", ",45 pct,"),
            "crm/pipeline.csv:5:4: field `win_probability`: \"45 pct\" is not a number",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("500000,700000", "900000,700000"),
            "crm/pipeline.csv:5:8: field `value_mode`: mode 700000 is below min 900000",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("700000,1000000", "700000,650000"),
            "crm/pipeline.csv:5:9: field `value_max`: max 650000 is below mode 700000",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("1000000", "1,000000"),
            "crm/pipeline.csv:5:18: the row has 18 fields, the header has 17",
        ),
        (
            "crm/pipeline.csv",
            row(zaragoza),
            zaragoza.to_owned(),
            "crm/pipeline.csv:5:12: the row has 11 fields, the header has 17",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("2027-07-01", "2027-13-01"),
            "crm/pipeline.csv:5:10: field `start_date`: \"2027-13-01\" is not a date (YYYY-MM-DD)",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("2027-07-01", "2026-12-01"),
            "crm/pipeline.csv:5:10: field `start_date`: 2026-12-01 is before month 0 (2027-01",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("Zaragoza plant warehousing", ""),
            "crm/pipeline.csv:5:1: field `name`: empty (a value is required)",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace(",EMEA,", ",Africa,"),
            "crm/pipeline.csv:5:3: field `region`: ",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("Three-point estimate", "Beta"),
            "crm/pipeline.csv:5:5: field `distribution`: unknown distribution \"Beta\"",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("estimate,", "estimate,400000"),
            "crm/pipeline.csv:5:6: field `value`: a pert value has no value",
        ),
        (
            "crm/pipeline.csv",
            row(zaragoza),
            row(zaragoza).replace("60;30;10", "60;30;20"),
            "crm/pipeline.csv:5:14: field `slippage_probabilities`: the probabilities sum to 1.10, not 1",
        ),
        (
            "crm/pipeline.csv",
            zaragoza.into(),
            zaragoza.replace("Zaragoza plant warehousing", "APAC transport management"),
            "crm/pipeline.csv:6:1: field `name`: deal \"APAC transport management\" is already at line 5",
        ),
        (
            "kam.toml",
            "region = \"Region\"".into(),
            "region = \"Sales Region\"".into(),
            "crm/pipeline.csv:4:1: field `region`: no column \"Sales Region\" in the header (mapped at ",
        ),
        (
            "kam.toml",
            "region = \"Region\"".into(),
            "region = \"Region\"\nowner = \"Owner\"".into(),
            "kam.toml:",
        ),
    ];
    for (i, (file, from, to, want)) in cases.into_iter().enumerate() {
        let dir = copy_sample(&format!("pipeline-bad-{i}"));
        edit(&dir, file, &from, &to);
        let err = fails(&["check", s(&dir)]);
        assert!(err.contains(&format!("{}/{want}", dir.display())), "{to}\n{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The mapping's line in kam.toml is named: a header without the mapped column, and
    // a field [import.pipeline] does not have.
    let dir = copy_sample("pipeline-bad-mapping");
    let kam = std::fs::read_to_string(dir.join("kam.toml")).unwrap();
    let line = kam.lines().position(|l| l == "region = \"Region\"").unwrap() + 1;
    edit(
        &dir,
        "kam.toml",
        "region = \"Region\"",
        "region = \"Sales Region\"",
    );
    let err = fails(&["check", s(&dir)]);
    assert!(
        err.contains(&format!("kam.toml:{line} [import.pipeline] region")),
        "{err}"
    );
    edit(&dir, "kam.toml", "region = \"Sales Region\"", "owner = \"Owner\"");
    let err = fails(&["check", s(&dir)]);
    assert!(
        err.contains(&format!(
            "kam.toml:{line}:1: field `owner`: [import.pipeline] has no field \"owner\""
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // A deal in both growth.toml and the export: an error naming both places.
    let dir = copy_sample("pipeline-twice");
    let growth = std::fs::read_to_string(dir.join("growth.toml")).unwrap();
    let line = growth
        .lines()
        .position(|l| l == "name = \"Rayong SKD kits\"")
        .unwrap()
        + 1;
    edit(
        &dir,
        "crm/pipeline.csv",
        "Zaragoza plant warehousing",
        "Rayong SKD kits",
    );
    let err = fails(&["simulate", s(&dir), "--paths", "10"]);
    assert!(
        err.contains(&format!("{}/crm/pipeline.csv:5:1: field `name`", dir.display()))
            && err.contains(&format!("{}/growth.toml:{line}", dir.display())),
        "{err}"
    );
    // A fraction column (the default unit) refuses a bare percentage.
    edit(
        &dir,
        "crm/pipeline.csv",
        "Rayong SKD kits",
        "Zaragoza plant warehousing",
    );
    edit(&dir, "kam.toml", "probability_unit = \"percent\"\n", "");
    let err = fails(&["check", s(&dir)]);
    assert!(
        err.contains(
            "crm/pipeline.csv:5:4: field `win_probability`: 45 is outside [0, 1]; a percentage needs a % sign"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_names_the_export_row_of_a_deal_for_a_region_the_account_lacks() {
    let dir = copy_sample("pipeline-region");
    edit(
        &dir,
        "growth.toml",
        "regions = [\"emea\", \"americas\", \"apac\", \"china\"]",
        "regions = [\"emea\", \"americas\", \"apac\", \"china\", \"mena\"]",
    );
    edit(
        &dir,
        "crm/pipeline.csv",
        "Zaragoza plant warehousing,Warehousing,EMEA",
        "Zaragoza plant warehousing,Warehousing,MENA",
    );
    let check: serde_json::Value = serde_json::from_str(&ok(&["check", s(&dir), "--json"])).unwrap();
    let deal = check
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["code"] == "deal-unknown-region"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("Zaragoza plant warehousing")
        })
        .expect("a deal-unknown-region finding for the imported deal");
    assert!(
        deal["file"].as_str().unwrap().ends_with("crm/pipeline.csv"),
        "{deal}"
    );
    assert_eq!(deal["line"], 5);
    assert!(deal["message"].as_str().unwrap().contains("\"mena\""), "{deal}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JSON decimal (kam writes decimals as strings).
fn dec(v: &serde_json::Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

#[test]
fn price_over_several_periods_banks_the_storage_shortfalls() {
    let dir = sample();
    let volumes = dir.join("volumes_2026q4.csv");
    let out = ok(&["price", s(&dir), "--volumes", s(&volumes)]);
    assert!(
        out.starts_with("Proposal for bremen / aftermarket over 5 periods, EUR"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["price", s(&dir), "--volumes", s(&volumes), "--json"])).unwrap();
    let periods = json["periods"].as_array().unwrap();
    let labels: Vec<&str> = periods.iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]);
    // Storage at 1.38 against the 55,000 minimum, credits usable for 3 months:
    //   Sep 53,000: shortfall 2,000 × 1.38 = 2,760 banked (usable to Dec)
    //   Oct 52,000: shortfall 3,000 × 1.38 = 4,140 banked (usable to Jan)
    //   Nov 56,500: 1,500 above × 1.38 = 2,070 used (Sep's credit, 690 left)
    //   Dec 58,000: 3,000 above × 1.38 = 4,140 used (690 of Sep's + 3,450 of Oct's)
    //   Jan 54,000: shortfall 1,000 × 1.38 = 1,380 banked; Oct's last 690 expire.
    let banking = json["banking"].as_array().unwrap();
    assert_eq!(banking.len(), 1, "only the proposal's storage has a minimum");
    let bill = &banking[0]["billing"];
    assert_eq!(banking[0]["card"], "proposal");
    assert_eq!(bill["activity"], "storage_pallet_week");
    assert_eq!(dec(&bill["total_shortfall"]), rust_decimal::Decimal::new(8280, 0));
    assert_eq!(
        dec(&bill["total_credit_applied"]),
        rust_decimal::Decimal::new(6210, 0)
    );
    assert_eq!(
        dec(&bill["total_credit_expired"]),
        rust_decimal::Decimal::new(690, 0)
    );
    let used: Vec<_> = bill["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| dec(&p["credit_applied"]))
        .collect();
    assert_eq!(used, [0, 0, 2070, 4140, 0].map(rust_decimal::Decimal::from));
    // The credit is an explained adjustment line of the month that uses it.
    let nov = &periods[2]["adjustments"];
    assert!(
        nov.as_array().unwrap().iter().any(|a| a[0]
            == "storage_pallet_week: banked shortfall credit used (minimum commitment)"
            && dec(&a[1]) == rust_decimal::Decimal::new(-2070, 0)),
        "{nov}"
    );
    assert_eq!(
        dec(&json["totals"]["proposal_credits"]),
        rust_decimal::Decimal::new(6210, 0)
    );
    // October is pricing.toml's own month: priced alone it gives `kam price`'s figures.
    let single: serde_json::Value = serde_json::from_str(&ok(&["price", s(&dir), "--json"])).unwrap();
    assert_eq!(periods[1]["proposal_net"], single["proposal_net"]);
    assert_eq!(periods[1]["baseline_total"], single["baseline_total"]);
    // Totals are the sums of the periods.
    let sum = |k: &str| periods.iter().map(|p| dec(&p[k])).sum::<rust_decimal::Decimal>();
    assert_eq!(sum("proposal_net"), dec(&json["totals"]["proposal_net"]));
    assert_eq!(sum("baseline_total"), dec(&json["totals"]["baseline_total"]));

    // The same two months as CSV and as TOML price the same.
    let tmp = copy_sample("periods");
    let csv = tmp.join("two.csv");
    std::fs::write(
        &csv,
        "period,activity,quantity\n2026-09,storage_pallet_week,53000\n2026-09,pick_line,296000\n\
         2026-10,storage_pallet_week,57000\n2026-10,pick_line,300000\n",
    )
    .unwrap();
    let toml = tmp.join("two.toml");
    std::fs::write(
        &toml,
        "[[period]]\nperiod = \"2026-09\"\nvolumes = { storage_pallet_week = \"53000\", pick_line = \"296000\" }\n\n\
         [[period]]\nperiod = \"2026-10\"\nvolumes = { storage_pallet_week = \"57000\", pick_line = \"300000\" }\n",
    )
    .unwrap();
    let from_csv = ok(&["price", s(&tmp), "--volumes", s(&csv), "--json"]);
    assert_eq!(from_csv, ok(&["price", s(&tmp), "--volumes", s(&toml), "--json"]));
    let two: serde_json::Value = serde_json::from_str(&from_csv).unwrap();
    // 2,000 above the minimum in October uses all of September's 2,760 credit.
    assert_eq!(
        dec(&two["banking"][0]["billing"]["periods"][1]["credit_applied"]),
        rust_decimal::Decimal::new(2760, 0)
    );

    // Bad volume files: each error at its file, line and column.
    std::fs::write(
        &csv,
        "period,activity,quantity\n2026-09,pick_line,1\n2026-10,pick_line,1\n2026-09,order,1\n",
    )
    .unwrap();
    let err = fails(&["price", s(&tmp), "--volumes", s(&csv)]);
    assert!(
        err.contains("two.csv:4:1: field `period`: period 2026-09 comes back"),
        "{err}"
    );
    std::fs::write(
        &toml,
        "[[period]]\nperiod = \"2026-09\"\nvolumes = { pick_line = \"-5\" }\n",
    )
    .unwrap();
    let err = fails(&["price", s(&tmp), "--volumes", s(&toml)]);
    assert!(err.contains("two.toml:3:25: field `quantity`"), "{err}");
}

#[test]
fn price_applies_the_samples_open_book_gainshare_and_fx_clauses() {
    let dir = sample();
    let out = ok(&["price", s(&dir)]);
    for line in [
        "open book return_unit: direct cost 2.10 × 9,000 + 2,500.00 fixed = 21,400.00 replaces the card's 27,900.00",
        "management fee (open book): 8 % of the cost passed through 21,400.00",
        "gainshare return_unit: direct cost 21,400.00 vs baseline 2.55 × 9,000 = 22,950.00: saving 1,550.00 (6.75 %)",
        "FX EUR/USD 1.07 of 2026-09-30 (review 2026-10-01) vs base 1.12 of 2026-06-30: -4.46 %",
    ] {
        assert!(out.contains(line), "{line} not in {out}");
    }
    let json: serde_json::Value = serde_json::from_str(&ok(&["price", s(&dir), "--json"])).unwrap();
    let adjustments = json["adjustments"].as_array().unwrap();
    let amount = |prefix: &str| {
        adjustments
            .iter()
            .find(|a| a[0].as_str().unwrap().starts_with(prefix))
            .map(|a| dec(&a[1]))
            .unwrap_or_else(|| panic!("no {prefix} in {adjustments:?}"))
    };
    let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    // Returns at direct cost 2.10 × 9,000 + 2,500 = 21,400 instead of 3.10 × 9,000.
    assert_eq!(amount("open book return_unit"), d("-6500.00"));
    // 8 % of 21,400.
    assert_eq!(amount("management fee"), d("1712.00"));
    // Saving 22,950 − 21,400 = 1,550 = 6.754 %: 50 % of the first 5 % (1,147.50) is
    // 573.75, 30 % of the remaining 402.50 is 120.75 → ours 694.50, billed (open book).
    assert_eq!(amount("gainshare return_unit"), d("694.50"));
    // 1.07 against 1.12 is −4.46 %; 1.46 points beyond the 3 % band raise the EUR
    // shipments by 1 / (1 − 0.0146…) − 1: 167,200.00 × 0.0148605 = 2,484.67.
    assert_eq!(amount("FX EUR/USD"), d("2484.67"));
    // Totals follow: the rebate is on the price after the clauses.
    let sum: rust_decimal::Decimal = adjustments.iter().map(|a| dec(&a[1])).sum();
    assert_eq!(dec(&json["proposal_total"]) + sum, dec(&json["proposal_net"]));
    assert_eq!(
        dec(&json["contribution"][0]["margin"]),
        dec(&json["proposal_net"]) - dec(&json["contribution"][0]["cost"])
    );

    // Bad clauses: exit 1 with pricing.toml:line:col.
    let tmp = copy_sample("commercial-models");
    let bad = |from: &str, to: &str, expect: &str| {
        edit(&tmp, "pricing.toml", from, to);
        let err = fails(&["price", s(&tmp)]);
        edit(&tmp, "pricing.toml", to, from);
        assert!(err.contains(expect), "{expect} not in {err}");
    };
    bad(
        "from_pct = \"5\"",
        "from_pct = \"4.5\"",
        "pricing.toml:293:12: field `band`: gainshare band 2 starts at 4.5 %, inside band 1 (0 – 5 %): bands overlap",
    );
    bad(
        "rates = { 2026-06-30 = \"1.12\", 2026-07-31 = \"1.10\", 2026-08-31 = \"1.09\", 2026-09-30 = \"1.07\",",
        "rates = { 2026-10-02 = \"1.07\",",
        "pricing.toml:312:9: field `rates`: no EUR/USD rate on or before 2026-10-01, the review date of period 2026-10",
    );
    bad(
        "activities = [\"return_unit\"]",
        "activities = [\"repair_unit\"]",
        "pricing.toml:275:15: field `activities`: activity \"repair_unit\" is not on the proposal card",
    );
    bad(
        "pct = \"8\" }",
        "pct = \"-8\" }",
        "pricing.toml:277:7: field `fee`: management fee % -8 must not be negative",
    );
    // kam check names them as findings at their line, and exits 0 without --strict.
    edit(&tmp, "pricing.toml", "from_pct = \"5\"", "from_pct = \"4.5\"");
    let out = ok(&["check", s(&tmp)]);
    assert!(
        out.lines()
            .any(|l| l.contains("pricing.toml:293:") && l.contains("commercial-invalid")),
        "{out}"
    );
}

#[test]
fn price_by_node_and_service_line_reconciles_to_the_aggregate() {
    let dir = sample();
    let price: serde_json::Value = serde_json::from_str(&ok(&["price", s(&dir), "--json"])).unwrap();
    let by = |g: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&["price", s(&dir), "--by", g, "--json"])).unwrap()
    };
    let both = by("node,service_line");
    let keys: Vec<(String, String)> = both["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["node"].as_str().unwrap().into(),
                r["service_line"].as_str().unwrap().into(),
            )
        })
        .collect();
    let key = |n: &str, l: &str| (n.to_owned(), l.to_owned());
    assert_eq!(
        keys,
        [
            key("bremen", "aftermarket"),
            key("leipzig", "inbound_to_manufacturing"),
            key("bremen", "reverse_and_repair"),
            key("bremen", "transport"),
        ]
    );
    // Leipzig line-side supply: 1,200 pallets out × 4.10 + 14,000 km × 1.82 = 30,400.00
    // revenue; CM1 = 30,400 − (1,200 × 2.80 + 14,000 × 1.58) = 30,400 − 25,480 = 4,920.
    let leipzig = &both["rows"][1]["contribution"];
    assert_eq!(dec(&leipzig["revenue"]), rust_decimal::Decimal::new(30400, 0));
    assert_eq!(
        dec(&leipzig["cm1"]["margin"]),
        rust_decimal::Decimal::new(4920, 0)
    );
    for g in ["node,service_line", "node", "service_line", "service_line,node"] {
        let r = by(g);
        let rows = r["rows"].as_array().unwrap();
        for field in [
            ("revenue", None),
            ("cm1", Some("margin")),
            ("cm2", Some("margin")),
            ("cm3", Some("margin")),
        ] {
            let get = |c: &serde_json::Value| match field.1 {
                None => dec(&c["contribution"][field.0]),
                Some(m) => dec(&c["contribution"][field.0][m]),
            };
            let sum: rust_decimal::Decimal =
                rows.iter().map(get).sum::<rust_decimal::Decimal>() + get(&r["unallocated"]);
            assert_eq!(sum, get(&r["total"]), "{g}: {field:?} rows + unallocated = total");
        }
        // The total is kam price's: proposal net (after the volume rebate) and CM3.
        assert_eq!(
            dec(&r["total"]["contribution"]["revenue"]),
            dec(&price["proposal_net"]),
            "{g}"
        );
        assert_eq!(
            dec(&r["total"]["contribution"]["cm3"]["margin"]),
            dec(&price["contribution"][2]["margin"]),
            "{g}"
        );
    }
    assert_eq!(by("node")["rows"].as_array().unwrap().len(), 2);
    assert_eq!(by("service_line")["rows"].as_array().unwrap().len(), 4);
    let table = ok(&["price", s(&dir), "--by", "node"]);
    assert!(
        table.starts_with("Cost-to-serve of the proposal by node (2026-10), EUR"),
        "{table}"
    );

    // A split that claims more than [volumes] has is an error at the split.
    let tmp = copy_sample("by");
    edit(
        &tmp,
        "pricing.toml",
        "pallet_out = \"1200\"",
        "pallet_out = \"9000\"",
    );
    let err = fails(&["price", s(&tmp), "--by", "node"]);
    assert!(
        err.contains("pricing.toml:227:1: served[0]: pallet_out = 9000"),
        "{err}"
    );
    let err = fails(&["price", s(&tmp), "--by", "region"]);
    assert!(
        err.contains("expected node,service_line, node or service_line"),
        "{err}"
    );

    // A one-period volume file with node and service-line columns (empty: pricing.toml's).
    let csv = tmp.join("by.csv");
    std::fs::write(
        &csv,
        "node,service_line,activity,quantity\nbremen,,pick_line,200000\n\
         leipzig,inbound_to_manufacturing,pick_line,110000\n,,order,48000\n",
    )
    .unwrap();
    let r: serde_json::Value = serde_json::from_str(&ok(&[
        "price",
        s(&dir),
        "--volumes",
        s(&csv),
        "--by",
        "node",
        "--json",
    ]))
    .unwrap();
    let nodes: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["bremen", "leipzig"]);
    // 310,000 lines priced once (graduated: 200,000 × 0.66 + 110,000 × 0.60 = 198,000),
    // split by quantity: Leipzig's 110,000 / 310,000 of it = 70,258.06 (to the cent).
    assert_eq!(
        dec(&r["rows"][1]["contribution"]["revenue"]),
        rust_decimal::Decimal::new(7025806, 2)
    );
    // Several periods are refused: --by prices one.
    let err = fails(&[
        "price",
        s(&dir),
        "--volumes",
        s(&dir.join("volumes_2026q4.csv")),
        "--by",
        "node",
    ]);
    assert!(err.contains("5 periods; --by prices one period"), "{err}");
}

#[test]
fn price_by_puts_each_clause_line_on_the_rows_it_is_charged_on() {
    let d = |v: i64, dp: u32| rust_decimal::Decimal::new(v, dp);
    let rows = |dir: &Path| -> Vec<(String, rust_decimal::Decimal)> {
        let r: serde_json::Value =
            serde_json::from_str(&ok(&["price", s(dir), "--by", "node,service_line", "--json"])).unwrap();
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .chain([&r["unallocated"]])
            .map(|x| {
                (
                    format!(
                        "{}/{}",
                        x["node"].as_str().unwrap_or("-"),
                        x["service_line"].as_str().unwrap_or("-")
                    ),
                    dec(&x["contribution"]["revenue"]),
                )
            })
            .collect()
    };
    // The adjustment lines of `kam price` that are not the contract's clauses.
    let rules = |dir: &Path| -> rust_decimal::Decimal {
        let price: serde_json::Value = serde_json::from_str(&ok(&["price", s(dir), "--json"])).unwrap();
        price["adjustments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| !a[0].as_str().unwrap().ends_with("(pricing.toml [commercial])"))
            .map(|a| dec(&a[1]))
            .sum()
    };
    let dir = sample();
    let price: serde_json::Value = serde_json::from_str(&ok(&["price", s(&dir), "--json"])).unwrap();
    let g = &price["gainshare"];
    assert_eq!(g["activities"], serde_json::json!(["return_unit"]));
    assert_eq!(
        (
            dec(&g["saving"]),
            dec(&g["provider_share"]),
            dec(&g["customer_share"])
        ),
        (d(155000, 2), d(69450, 2), d(85550, 2))
    );
    let got = rows(&dir);
    // Return units are billed open book at Bremen's reverse and repair: the card's
    // 9,000 × 3.10 + 600 VAS hours (51,450.00) − 6,500.00 card replaced by cost + 1,712.00
    // fee + 694.50 provider's gainshare share.
    assert_eq!(got[2], ("bremen/reverse_and_repair".into(), d(4735650, 2)));
    // Shipments are all Bremen transport's: the FX line (+2,484.67) is theirs.
    assert_eq!(got[3], ("bremen/transport".into(), d(25522467, 2)));
    // What is left unallocated is the rules' lines (the volume rebate), nothing else.
    assert!(!rules(&dir).is_zero());
    assert_eq!(got[4], ("-/-".into(), rules(&dir)));

    // With diesel at 1.58 in October the fuel surcharge is 1.5 % of transport_km
    // (111,020.00) and shipment (167,200.00) = 4,173.30. Its transport_km part (1,665.30)
    // is split by kilometres: Leipzig 14,000 / 61,000 = 382.20, Bremen transport the
    // remaining 1,283.10 plus the shipment part 2,508.00.
    let tmp = copy_sample("by-fuel");
    edit(
        &tmp,
        "pricing.toml",
        "\"2026-10\" = \"1.45\", \"2026-11\" = \"1.53\"",
        "\"2026-10\" = \"1.58\", \"2026-11\" = \"1.53\"",
    );
    let fuel = rows(&tmp);
    assert_eq!(
        fuel[1],
        (
            "leipzig/inbound_to_manufacturing".into(),
            d(3040000, 2) + d(38220, 2)
        )
    );
    assert_eq!(
        fuel[3],
        (
            "bremen/transport".into(),
            d(25522467, 2) + d(128310, 2) + d(250800, 2)
        )
    );
    assert_eq!(fuel[0], got[0], "bremen/aftermarket carries neither activity");
    assert_eq!(
        fuel[4],
        ("-/-".into(), rules(&tmp)),
        "the rebate is not a clause of the contract"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn gainshare_over_a_pool_of_activities() {
    const ONE: &str = "activity = \"return_unit\"\nbaseline_unit_cost = \"2.55\"";
    let pool = |costs: &str| -> PathBuf {
        let tmp = copy_sample("gainshare-pool");
        edit(
            &tmp,
            "pricing.toml",
            ONE,
            &format!("baseline_unit_costs = {{ {costs} }}"),
        );
        tmp
    };
    // Picks and orders, both card-billed, against 0.55 a line and 1.80 an order:
    // baseline 1.80 × 48,000 + 0.55 × 310,000 = 256,900.00; direct cost (0.46 × 310,000
    // + 20,000) + (1.45 × 48,000 + 4,000) = 236,200.00; saving 20,700.00 (8.06 %).
    // Bands: 5 % of 256,900 = 12,845.00 at 50/50 (6,422.50 ours), the other 7,855.00
    // at 30/70 (2,356.50 ours): the customer's 11,921.00 is credited on the card.
    let tmp = pool("pick_line = \"0.55\", order = \"1.80\"");
    let price: serde_json::Value = serde_json::from_str(&ok(&["price", s(&tmp), "--json"])).unwrap();
    let line = price["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a[0].as_str().unwrap().starts_with("gainshare "))
        .unwrap()
        .clone();
    assert!(
        line[0].as_str().unwrap().starts_with(
            "gainshare order, pick_line: direct cost 236,200.00 vs baseline 1.80 × 48,000 + 0.55 × 310,000 \
             = 256,900.00: saving 20,700.00 (8.06 %)"
        ),
        "{line}"
    );
    assert_eq!(dec(&line[1]), rust_decimal::Decimal::new(-1192100, 2));
    assert_eq!(
        price["gainshare"]["activities"],
        serde_json::json!(["order", "pick_line"])
    );
    assert_eq!(
        dec(&price["gainshare"]["provider_share"]),
        rust_decimal::Decimal::new(877900, 2)
    );
    // Both activities are Bremen aftermarket's, so the credit is on that row.
    let by: serde_json::Value =
        serde_json::from_str(&ok(&["price", s(&tmp), "--by", "node,service_line", "--json"])).unwrap();
    assert_eq!(by["rows"][0]["service_line"], "aftermarket");
    assert_eq!(
        dec(&by["rows"][0]["contribution"]["revenue"]),
        rust_decimal::Decimal::new(52811000 - 1192100, 2)
    );
    let _ = std::fs::remove_dir_all(&tmp);

    // Return units are billed open book and VAS hours on the card: who settles with whom
    // would differ within the pool, so it is refused at the activity that differs.
    let tmp = pool("return_unit = \"2.55\", vas_hour = \"40\"");
    let text = std::fs::read_to_string(tmp.join("pricing.toml")).unwrap();
    let at = text
        .lines()
        .position(|l| l.starts_with("baseline_unit_costs"))
        .unwrap()
        + 1;
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains(&format!("pricing.toml:{at}:")) && err.contains("field `baseline_unit_costs`"),
        "{err}"
    );
    assert!(
        err.contains("activity \"vas_hour\" is card-billed but the pool's first is billed open book"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&tmp);

    // An activity the card does not price is a finding of kam check, at its line.
    let tmp = pool("pick_lines = \"0.55\"");
    assert!(
        check_findings(&tmp)
            .iter()
            .any(|(code, file, m)| code == "commercial-activity-unknown"
                && file == "pricing.toml"
                && m.contains("the gainshare names activity \"pick_lines\"")),
        "{:?}",
        check_findings(&tmp)
    );
    let _ = std::fs::remove_dir_all(&tmp);

    // Both forms at once, and neither.
    let tmp = copy_sample("gainshare-forms");
    edit(
        &tmp,
        "pricing.toml",
        ONE,
        &format!("{ONE}\nbaseline_unit_costs = {{ order = \"1.80\" }}"),
    );
    let err = fails(&["price", s(&tmp)]);
    assert!(err.contains("not both"), "{err}");
    edit(
        &tmp,
        "pricing.toml",
        &format!("{ONE}\nbaseline_unit_costs = {{ order = \"1.80\" }}"),
        "cost = \"direct\"",
    );
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains("the gainshare needs activity and baseline_unit_cost, or a baseline_unit_costs pool"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn negotiate_replays_the_concession_log_and_refuses_a_step_below_the_floor() {
    let dir = sample();
    let table = ok(&["negotiate", s(&dir), "--log", "concessions.toml"]);
    assert!(table.contains("Concession log "), "{table}");
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "negotiate",
        s(&dir),
        "--log",
        "concessions.toml",
        "--json",
    ]))
    .unwrap();
    let c = &json["concessions"];
    assert_eq!(c["offers"].as_array().unwrap().len(), 7);
    // Our floor: pick-line full cost 0.46 + (20,000 + 15,000) / 310,000 = 0.5729 per line,
    // / (1 − 8 %) = 0.6227. Our walk-away (BATNA) is 0.60, so the floor binds.
    assert_eq!(c["floor_price"], "0.6227");
    let (us, them) = (&c["sides"][0], &c["sides"][1]);
    assert_eq!(us["side"], "seller");
    // We went 0.68 → 0.665 → 0.65 → 0.64: 0.04 in 3 steps (0.0133 each), 0.04 of the
    // 0.0573 room to the floor (69.8 %); 0.04 left to the walk-away, 0.0173 to the floor.
    assert_eq!(us["conceded"], "0.04");
    assert_eq!(us["per_offer"], "0.0133");
    assert_eq!(us["room_used_pct"], "69.8");
    assert_eq!(us["left_to_walk_away"], "0.04");
    assert_eq!(us["left_to_floor"], "0.0173");
    // They went 0.58 → 0.60 → 0.615 and walk away above 0.63 + 0.03 switching = 0.66:
    // 0.035 of 0.08 given (43.75 %, 43.8 to one decimal, half to even), 0.045 left.
    assert_eq!(them["conceded"], "0.035");
    assert_eq!(them["per_offer"], "0.0175");
    assert_eq!(them["room_used_pct"], "43.8");
    assert_eq!(them["left_to_walk_away"], "0.045");
    assert!(them["left_to_floor"].is_null());
    assert_eq!(c["gap"], "0.025");
    assert_eq!(c["offers"][2]["step"], "0.015");
    // Without --log the JSON is as before.
    let plain: serde_json::Value = serde_json::from_str(&ok(&["negotiate", s(&dir), "--json"])).unwrap();
    assert!(plain.get("concessions").is_none());

    // A step of ours below the margin floor: exit 1, at the price's line and column.
    let tmp = copy_sample("concessions");
    edit(&tmp, "concessions.toml", "price = \"0.64\"", "price = \"0.62\"");
    let out = kam(&["negotiate", s(&tmp), "--log", s(&tmp.join("concessions.toml"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("concessions.toml:50:9: field `price`: round 7: offer 0.62"),
        "{err}"
    );
    assert!(err.contains("margin floor") || err.contains("floor"), "{err}");
    // Below our walk-away (0.60) as well as the floor: the walk-away is named first.
    edit(&tmp, "concessions.toml", "price = \"0.62\"", "price = \"0.59\"");
    let err = fails(&["negotiate", s(&tmp), "--log", s(&tmp.join("concessions.toml"))]);
    assert!(
        err.contains("concessions.toml:50:9: field `price`") && err.contains("walk-away price 0.60"),
        "{err}"
    );
    // Out of date order: at the date's line and column.
    let tmp = copy_sample("concessions-order");
    edit(
        &tmp,
        "concessions.toml",
        "date = \"2026-11-10\"",
        "date = \"2026-10-01\"",
    );
    let out = kam(&["negotiate", s(&tmp), "--log", s(&tmp.join("concessions.toml"))]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("concessions.toml:42:8: field `date`: offer 6 is dated 2026-10-01, before the offer above it (2026-10-27)"),
        "{err}"
    );
    // The customer offering above its own walk-away contradicts negotiation.toml.
    let tmp = copy_sample("concessions-buyer");
    edit(&tmp, "concessions.toml", "price = \"0.615\"", "price = \"0.67\"");
    let err = fails(&["negotiate", s(&tmp), "--log", s(&tmp.join("concessions.toml"))]);
    assert!(
        err.contains("concessions.toml:44:9: field `price`") && err.contains("buyer walk-away price 0.66"),
        "{err}"
    );
}

#[test]
fn commercial_clauses_of_the_sample_move_with_each_period() {
    let dir = sample();
    let volumes = dir.join("volumes_2026q4.csv");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["price", s(&dir), "--volumes", s(&volumes), "--json"])).unwrap();
    let line = |period: usize, starts: &str| -> rust_decimal::Decimal {
        let adj = json["periods"][period]["adjustments"].as_array().unwrap();
        let found = adj.iter().find(|a| a[0].as_str().unwrap().starts_with(starts));
        dec(&found.unwrap_or_else(|| panic!("no {starts:?} in {adj:?}"))[1])
    };
    // November: shipment 4,300 × 44.00 (all units, 3,001–5,000) + 66,000 km × 1.82
    // = 189,200 + 120,120 = 309,320.00; diesel 1.53 is 0.08 above 1.45, 2 started steps
    // of 0.05 × 0.5 % = 1 % → 3,093.20.
    assert_eq!(
        line(2, "fuel surcharge 1 % (diesel_de 1.53 vs base 1.45"),
        rust_decimal::Decimal::new(309320, 2)
    );
    // January: wages 122.3/119.4 and energy 106.5/103.1 on pick lines, orders and VAS hours.
    assert!(line(4, "indexation 2027-01 on 2026-10: factor 1.010584") > rust_decimal::Decimal::ZERO);
    // October is the base period at a diesel price of 1.45: neither indexation nor fuel
    // moves (the open book, gainshare and FX lines do: they are not indexed on October).
    let oct = json["periods"][1]["adjustments"].as_array().unwrap();
    assert!(
        oct.iter().all(|a| {
            let l = a[0].as_str().unwrap();
            !l.starts_with("indexation") && !l.starts_with("fuel surcharge")
        }),
        "{oct:?}"
    );
    // September's EUR/USD fixing (1.09 of 31 August) is within the 3 % band of 1.12: no
    // FX line; October's (1.07 of 30 September) is beyond it.
    let sep = json["periods"][0]["adjustments"].as_array().unwrap();
    assert!(
        sep.iter().all(|a| !a[0].as_str().unwrap().starts_with("FX ")),
        "{sep:?}"
    );
    assert!(oct.iter().any(|a| {
        a[0].as_str()
            .unwrap()
            .starts_with("FX EUR/USD 1.07 of 2026-09-30")
    }));

    // An index the basket names but [commercial.indices] lacks: at its place.
    let tmp = copy_sample("commercial");
    edit(
        &tmp,
        "pricing.toml",
        "{ index = \"de_energy\"",
        "{ index = \"de_power\"",
    );
    let err = fails(&["price", s(&tmp)]);
    assert!(
        err.contains("pricing.toml:257:15: field `index`: unknown index \"de_power\""),
        "{err}"
    );
}

fn kam_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kam"));
    cmd.args(args)
        .env("KAM_CACHE_DIR", plugin_cache())
        .current_dir(std::env::temp_dir());
    for var in [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "AWS_BATCH_JOB_ARRAY_SIZE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().expect("run kam")
}

#[test]
fn shards_from_a_batch_engines_array_index_merge_to_the_single_run() {
    let growth = sample().join("growth.toml");
    let base = ["simulate", s(&growth), "--paths", "3000", "--seed", "11"];
    let single = ok(&[&base[..], &["--json", "--threads", "1"]].concat());
    let tmp = copy_sample("shards-env");
    let merge = |files: &[PathBuf]| {
        let mut args = vec!["simulate", "merge"];
        args.extend(files.iter().map(|f| s(f)));
        args.push("--json");
        ok(&args)
    };
    let shard = |name: String, env: &[(&str, &str)], extra: &[&str]| {
        let out = kam_env(&[&base[..], &["--shard", "env"], extra].concat(), env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let f = tmp.join(name);
        std::fs::write(&f, out.stdout).unwrap();
        f
    };
    // A Kubernetes Indexed Job of 4 completions: JOB_COMPLETION_INDEX 0..3, --shards 4.
    let k8s: Vec<PathBuf> = (0..4)
        .map(|i| {
            let index = i.to_string();
            shard(
                format!("k8s{i}.json"),
                &[("JOB_COMPLETION_INDEX", &index)],
                &["--shards", "4"],
            )
        })
        .collect();
    assert_eq!(merge(&k8s), single, "4 Kubernetes shards merged");
    // A Slurm array --array=1-3: the index is relative to SLURM_ARRAY_TASK_MIN.
    let slurm: Vec<PathBuf> = (1..=3)
        .map(|id| {
            let id = id.to_string();
            shard(
                format!("slurm{id}.json"),
                &[
                    ("SLURM_ARRAY_TASK_ID", &id),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "3"),
                ],
                &[],
            )
        })
        .collect();
    assert_eq!(merge(&slurm), single, "3 Slurm shards merged");

    // Missing or inconsistent variables are clear errors.
    for (env, extra, want) in [
        (vec![], vec![], "no array-job index: set JOB_COMPLETION_INDEX"),
        (vec![("JOB_COMPLETION_INDEX", "1")], vec![], "pass --shards N"),
        (
            vec![("JOB_COMPLETION_INDEX", "4")],
            vec!["--shards", "4"],
            "index 4 from the Kubernetes Indexed Job is not below the count 4",
        ),
        (
            vec![("JOB_COMPLETION_INDEX", "x")],
            vec!["--shards", "4"],
            "JOB_COMPLETION_INDEX=\"x\" is not a whole number",
        ),
        (
            vec![("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3")],
            vec![],
            "SLURM_ARRAY_TASK_MIN is not",
        ),
        (
            vec![
                ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "3"),
            ],
            vec!["--shards", "4"],
            "--shards 4 but AWS_BATCH_JOB_ARRAY_SIZE=3",
        ),
    ] {
        let out = kam_env(&[&base[..], &["--shard", "env"], &extra[..]].concat(), &env);
        assert_eq!(out.status.code(), Some(1), "{env:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("--shard env: ") && err.contains(want),
            "{env:?}: {err}"
        );
    }
}

#[test]
fn a_deadline_stops_a_long_simulation_with_exit_1_saying_how_far_it_got() {
    let growth = sample().join("growth.toml");
    let start = std::time::Instant::now();
    let out = kam(&["simulate", s(&growth), "--paths", "50000000", "--deadline", "0.5"]);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("kam simulate: stopped at its deadline after ")
            && err.contains(" of 50000000 paths (--deadline); no results were written"),
        "{err}"
    );
    let err = fails(&["simulate", s(&growth), "--deadline", "0"]);
    assert!(
        err.contains("--deadline 0: expected a number of seconds > 0"),
        "{err}"
    );
}

/// `kam args` with its peak resident memory in KiB, measured by `/usr/bin/time` (GNU);
/// `None` for the memory where that tool is missing.
fn kam_peak_rss(args: &[&str]) -> (Output, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        eprintln!("/usr/bin/time is missing: peak memory not measured");
        return (kam(args), None);
    }
    let report = std::env::temp_dir().join(format!("kam-rss-{}-{}", std::process::id(), args.len()));
    let out = Command::new(time)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_kam"))
        .args(args)
        .env("KAM_CACHE_DIR", plugin_cache())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run kam under /usr/bin/time");
    let kib = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()));
    (out, kib)
}

#[test]
fn hostile_plugin_output_is_refused_or_escaped_naming_the_plugin_and_its_line() {
    // Too many adjustments (one per 20 of the quote total, ~27,000), a 10 MiB label:
    // exit 1, the plugin's kam.toml line, the limit and how to raise it, bounded memory.
    for (krate, want) in [
        (
            "hostile-many",
            "adjustments; the limit is 10000 (raise it with max_adjustments = N",
        ),
        (
            "hostile-label",
            "a label of 10485760 bytes (adjustments[0]); the limit is 4096 (raise it with max_label_bytes",
        ),
    ] {
        let tmp = copy_sample(krate);
        let line = add_plugin(&tmp, "noisy", "pricing", krate);
        let (out, rss) = kam_peak_rss(&["price", s(&tmp)]);
        assert_eq!(out.status.code(), Some(1), "{krate}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!(
                "kam.toml:{}:8: field `path`: plugin \"noisy\" (pricing rule, ",
                line + 1
            )) && err.contains("(ResourceLimit)")
                && err.contains(want),
            "{krate}: {err}"
        );
        if let Some(kib) = rss {
            assert!(kib < 256 << 10, "{krate}: peak resident memory {kib} KiB");
        }
    }
    // Raised in kam.toml for that plugin, the adjustments are accepted.
    let tmp = copy_sample("hostile-many-raised");
    add_plugin(&tmp, "noisy", "pricing", "hostile-many");
    edit(
        &tmp,
        "kam.toml",
        "name = \"noisy\"",
        "name = \"noisy\"\nmax_adjustments = 100000",
    );
    let table = ok(&["price", s(&tmp)]);
    assert!(table.lines().count() > 20_000, "{}", table.lines().count());

    // Escape sequences and bidi overrides reach the terminal only as visible text, and
    // a newline in a label cannot forge a table row.
    let tmp = copy_sample("hostile-escape");
    add_plugin(&tmp, "esc", "pricing", "hostile-escape");
    let (good, out, err) = run(&["price", s(&tmp)]);
    assert!(good, "{err}");
    for text in [&out, &err] {
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{text:?}"
        );
    }
    assert!(
        out.contains("rebate\\u001b]0;pwned\\u0007\\u001b[2J\\u000a  forged row"),
        "{out}"
    );
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("forged row")),
        "{out}"
    );
    assert!(
        err.contains("plugin esc stdout: hostile-escape log \\u001b[31mred"),
        "{err}"
    );
    // The JSON keeps its value: the label parses back to the plugin's text.
    let json: serde_json::Value = serde_json::from_str(&ok(&["price", s(&tmp), "--json"])).unwrap();
    assert!(json.to_string().contains("\\u001b]0;pwned"), "{json}");
    assert!(
        json["adjustments"].as_array().unwrap().iter().any(|a| a[0]
            .as_str()
            .is_some_and(|l| l.starts_with("rebate\u{1b}]0;pwned"))),
        "{json}"
    );

    // A negative growth factor stops the forecast, naming the plugin, its line and month.
    let tmp = copy_sample("hostile-growth");
    let line = add_plugin(&tmp, "negative", "growth", "hostile-growth");
    let err = fails(&["simulate", s(&tmp), "--paths", "50"]);
    assert!(
        err.contains(&format!(
            "kam.toml:{}:8: field `path`: plugin \"negative\" (growth rule, ",
            line + 1
        )) && err.contains("month 0, service line ")
            && err.contains("factor -1 is negative"),
        "{err}"
    );

    // A 3 GiB plugin file is refused before it is read.
    let tmp = copy_sample("hostile-huge");
    let huge = tmp.join("huge.wasm");
    std::fs::File::create(&huge).unwrap().set_len(3 << 30).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(tmp.join("kam.toml"))
        .unwrap()
        .write_all(b"\n[[plugin]]\nname = \"huge\"\nkind = \"pricing\"\npath = \"huge.wasm\"\n")
        .unwrap();
    let (out, rss) = kam_peak_rss(&["price", s(&tmp)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("field `path`: plugin \"huge\": ")
            && err.contains(
                "huge.wasm is 3221225472 bytes, more than the 67108864-byte limit for a plugin file"
            ),
        "{err}"
    );
    if let Some(kib) = rss {
        assert!(kib < 256 << 10, "peak resident memory {kib} KiB");
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn ctrl_c_stops_a_simulation_cleanly_saying_how_far_it_got() {
    let growth = sample().join("growth.toml");
    let child = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(["simulate", s(&growth), "--paths", "50000000"])
        .env("KAM_CACHE_DIR", plugin_cache())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("kam simulate: interrupted after ")
            && err.contains(" of 50000000 paths (Ctrl-C); no results were written"),
        "{err}"
    );
}
