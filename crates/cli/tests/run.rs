//! `kam run` and `kam api` end to end: example scripts, rendered errors, hostile scripts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn kam(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kam"))
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap();
    (out, start.elapsed())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    format!("crates/cli/tests/fixtures/{name}")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A hostile script must exit non-zero with a message, within a few seconds.
fn assert_fails_fast(args: &[&str], expect: &str) -> String {
    assert_fails_fast_with(args, &[expect])
}

/// As [`assert_fails_fast`], accepting any of `expect`: on a loaded machine the
/// wall-clock guard may stop a long-running script before its size or operation limit.
fn assert_fails_fast_with(args: &[&str], expect: &[&str]) -> String {
    let (out, took) = kam(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        expect.iter().any(|e| err.contains(e)),
        "{args:?}: expected one of {expect:?} in\n{err}"
    );
    assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
    err
}

#[test]
fn infinite_loop_hits_operation_limit() {
    let err = assert_fails_fast(
        &[
            "run",
            &fixture("infinite_loop.rhai"),
            "--max-operations",
            "1000000",
        ],
        "operation limit",
    );
    assert!(err.contains("infinite_loop.rhai:"), "{err}");
    // With the default limits it fails too: the operation budget or the wall clock.
    assert_fails_fast_with(
        &["run", &fixture("infinite_loop.rhai")],
        &["operation limit", "wall-clock"],
    );
}

#[test]
fn infinite_loop_hits_wall_clock_when_operations_unlimited() {
    let (out, took) = kam(&[
        "run",
        &fixture("infinite_loop.rhai"),
        "--max-operations",
        "0",
        "--timeout-ms",
        "300",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("wall-clock time limit"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn runaway_recursion_hits_call_depth() {
    assert_fails_fast(
        &["run", &fixture("runaway_recursion.rhai")],
        "call stack too deep",
    );
}

#[test]
fn doubling_string_hits_size_limit() {
    assert_fails_fast(&["run", &fixture("string_bomb.rhai")], "too large");
}

#[test]
fn growing_array_hits_size_limit() {
    assert_fails_fast_with(
        &["run", &fixture("growing_array.rhai")],
        &["too large", "wall-clock"],
    );
}

#[test]
fn eval_is_disabled() {
    let err = assert_fails_fast(&["run", &fixture("eval.rhai")], "eval");
    assert!(err.contains("eval.rhai:3:"), "{err}");
}

#[test]
fn undefined_variable_is_reported_at_its_position() {
    let err = assert_fails_fast(&["run", &fixture("undefined_variable.rhai")], "rat");
    assert!(err.contains("undefined_variable.rhai:3:16"), "{err}");
    assert!(err.contains("3 | print(volume * rat);"), "{err}");
    assert!(err.contains("  |                ^"), "{err}");
}

#[test]
fn bad_argument_names_function_argument_and_position() {
    let (out, _) = kam(&["run", &fixture("bad_argument.rhai")]);
    assert_eq!(out.status.code(), Some(1));
    // What the script printed before the error still reaches stdout.
    assert_eq!(stdout(&out), "105 EUR\n");
    let err = stderr(&out);
    assert!(
        err.contains("money: argument `currency`: unknown currency code \"EURO\""),
        "{err}"
    );
    assert!(err.contains("bad_argument.rhai:4:9"), "{err}");
}

#[test]
fn currency_mismatch_is_an_error() {
    let err = assert_fails_fast(&["run", &fixture("currency_mismatch.rhai")], "currency mismatch");
    assert!(err.contains("EUR vs USD"), "{err}");
}

#[test]
fn throw_inside_function_points_at_throw() {
    let (out, _) = kam(&["run", &fixture("throws.rhai")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "before\n");
    let err = stderr(&out);
    assert!(err.contains("negative volume"), "{err}");
    assert!(err.contains("throws.rhai:2:"), "{err}");
    assert!(err.contains("in function check"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let (out, _) = kam(&["run", "no/such/file.rhai"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("no/such/file.rhai"));
}

#[test]
fn api_lists_every_documented_name() {
    let (out, _) = kam(&["api"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for name in [
        "money(amount, currency) -> Money",
        "round_money(m, mode)",
        "round_dp(x, dp, mode)",
        "Money.amount",
    ] {
        assert!(text.contains(name), "missing {name} in\n{text}");
    }
    assert!(text.contains("half away from zero"));
    let (json, _) = kam(&["api", "--json"]);
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let functions = v["functions"].as_array().unwrap();
    let money = functions.iter().find(|f| f["name"] == "money").unwrap();
    assert!(money["docComments"][0].as_str().unwrap().contains("ISO 4217"));
}

#[test]
fn pricing_scenarios_example_prints_the_comparison() {
    let (out, _) = kam(&["run", "scripts/pricing_scenarios.rhai"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // At plan volume: baseline 5400 + 17500 + 11700 + 5040 = 39640.00;
    // proposal 5280 + 17500 + (7000 + 4800) + 4800 = 39380.00.
    assert!(
        text.contains("volume x1.0   39640.00   39380.00   -260.00"),
        "{text}"
    );
    assert!(text.contains("pick_line: 18000 -> 11800.00 EUR"), "{text}");
    // At 80 % the pick lines (14,400) fall below the 15,000 minimum: billed 15,000, flagged.
    assert!(text.contains("warning:"), "{text}");
    assert!(text.contains("volume x1.0") && text.contains("8.6"), "{text}");
    assert_eq!(text.lines().count(), 11, "{text}");
}
