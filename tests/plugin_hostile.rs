//! Hostile guest plugins (built from `plugins/` by the test itself) against kam-plugin's
//! sandbox: each fails with a typed `RuleError` within bounded time and memory, and the
//! same host then runs a well-behaved plugin normally.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::support::guests::wasm;
use kam::core::rules::{PricingInput, PricingLine, PricingRule, RuleError, RuleErrorKind, RuleHost};
use kam_plugin::{OutputLimits, PluginHost, PluginLimits, PricingPlugin};
use rust_decimal_macros::dec;

fn quote() -> PricingInput {
    PricingInput {
        currency: "EUR".into(),
        lines: vec![PricingLine {
            activity: "pick_line".into(),
            quantity: dec!(18000),
            billed_quantity: dec!(18000),
            amount: dec!(11700.00),
        }],
        total: dec!(51547.50),
    }
}

/// Runs the hostile plugin `name` on `host`, checks it fails as `kind` within
/// `max_time`, then checks a well-behaved plugin on the same host still works —
/// twice, so a failed call leaves nothing behind for the next one.
fn hostile(host: &PluginHost, name: &str, kind: RuleErrorKind, max_time: Duration) -> RuleError {
    let plugin: PricingPlugin = host.load_pricing(name, &wasm(name)).unwrap();
    let rebate = host
        .load_pricing("volume-rebate", &wasm("volume-rebate"))
        .unwrap();
    let mut first = None;
    for _ in 0..2 {
        let start = Instant::now();
        let err = plugin.adjust(&quote()).unwrap_err();
        let took = start.elapsed();
        assert_eq!(err.kind, kind, "{err}");
        assert_eq!(err.host, RuleHost::Plugin);
        assert_eq!(err.rule, name);
        assert!(
            err.message.starts_with("pricing.adjust"),
            "names the rule function: {err}"
        );
        assert!(took < max_time, "{name} took {took:?}");
        assert_eq!(
            rebate.adjust(&quote()).unwrap()[0].amount,
            dec!(-30.95),
            "host unusable after {name}"
        );
        first.get_or_insert(err);
    }
    first.unwrap()
}

fn default_host() -> PluginHost {
    PluginHost::new(PluginLimits::default()).unwrap()
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let limits = PluginLimits {
        fuel: 20_000_000,
        wall_time: Duration::from_secs(30),
        ..PluginLimits::default()
    };
    let err = hostile(
        &PluginHost::new(limits).unwrap(),
        "hostile-loop",
        RuleErrorKind::OperationLimit,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains("ran out of fuel (limit 20000000 per call)"),
        "{err}"
    );
}

#[test]
fn an_infinite_loop_with_ample_fuel_hits_the_wall_clock_deadline() {
    let limits = PluginLimits {
        fuel: u64::MAX,
        wall_time: Duration::from_millis(200),
        ..PluginLimits::default()
    };
    let err = hostile(
        &PluginHost::new(limits).unwrap(),
        "hostile-loop",
        RuleErrorKind::Timeout,
        Duration::from_secs(5),
    );
    assert!(err.message.contains("wall-clock deadline of 200ms"), "{err}");
}

#[test]
fn an_infinite_loop_stops_under_the_default_limits() {
    hostile(
        &default_host(),
        "hostile-loop",
        RuleErrorKind::OperationLimit,
        Duration::from_secs(20),
    );
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let err = hostile(
        &default_host(),
        "hostile-memory",
        RuleErrorKind::ResourceLimit,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains("memory limit of 67108864 bytes exceeded"),
        "{err}"
    );
    let small = PluginLimits {
        memory_bytes: 8 << 20,
        ..PluginLimits::default()
    };
    let err = hostile(
        &PluginHost::new(small).unwrap(),
        "hostile-memory",
        RuleErrorKind::ResourceLimit,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains("memory limit of 8388608 bytes exceeded"),
        "{err}"
    );
}

#[test]
fn deep_recursion_exhausts_the_stack() {
    let err = hostile(
        &default_host(),
        "hostile-recursion",
        RuleErrorKind::ResourceLimit,
        Duration::from_secs(10),
    );
    assert!(err.message.contains("exhausted its call stack"), "{err}");
}

#[test]
fn a_plugin_finds_no_file_system() {
    let err = hostile(
        &default_host(),
        "hostile-file",
        RuleErrorKind::Failed,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains("file access denied: read /etc/passwd"),
        "{err}"
    );
    assert!(err.message.contains("write planted.txt"), "{err}");
    assert!(!std::path::Path::new("planted.txt").exists());
}

#[test]
fn a_plugin_finds_no_environment_arguments_or_real_clock() {
    // The test process has these variables, so a leak would show.
    assert!(std::env::var_os("PATH").is_some());
    let err = hostile(
        &default_host(),
        "hostile-env",
        RuleErrorKind::Failed,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains(
            "no ambient authority: 0 environment variables, 0 arguments, PATH unset, wall clock at 0 ns since 1970, \
             monotonic clock advanced 0 ns"
        ),
        "{err}"
    );
}

#[test]
fn a_panic_is_a_trap_with_the_panic_message() {
    let err = hostile(
        &default_host(),
        "hostile-panic",
        RuleErrorKind::Trap,
        Duration::from_secs(10),
    );
    assert!(err.message.contains("unreachable"), "{err}");
    assert!(
        err.message
            .contains("hostile plugin panicked on purpose (1 lines)"),
        "{err}"
    );
}

#[test]
fn a_plugin_cannot_sleep() {
    let err = hostile(
        &default_host(),
        "hostile-sleep",
        RuleErrorKind::Trap,
        Duration::from_secs(5),
    );
    assert!(err.message.contains("plugins get no clock"), "{err}");
}

#[test]
fn one_host_survives_every_hostile_plugin_in_turn() {
    let limits = PluginLimits {
        fuel: 20_000_000,
        memory_bytes: 16 << 20,
        ..PluginLimits::default()
    };
    let host = PluginHost::new(limits).unwrap();
    let cases = [
        ("hostile-loop", RuleErrorKind::OperationLimit),
        ("hostile-memory", RuleErrorKind::ResourceLimit),
        ("hostile-recursion", RuleErrorKind::ResourceLimit),
        ("hostile-file", RuleErrorKind::Failed),
        ("hostile-env", RuleErrorKind::Failed),
        ("hostile-panic", RuleErrorKind::Trap),
        ("hostile-sleep", RuleErrorKind::Trap),
    ];
    for (name, kind) in cases {
        hostile(&host, name, kind, Duration::from_secs(10));
    }
}

#[test]
fn too_many_adjustments_are_refused_naming_the_limit_and_how_to_raise_it() {
    // One adjustment per 20 of the total: 50,000.
    let mut q = quote();
    q.total = dec!(1000000);
    let host = default_host();
    let mut many = host.load_pricing("many", &wasm("hostile-many")).unwrap();
    let err = many.adjust(&q).unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::ResourceLimit, "{err}");
    assert_eq!(err.rule, "many");
    assert!(
        err.message.contains(
            "pricing.adjust returned 50000 adjustments; the limit is 10000 (raise it with max_adjustments = N"
        ),
        "{err}"
    );
    // Raised for this plugin only, the same output is accepted.
    many.set_output_limits(OutputLimits {
        adjustments: 60_000,
        ..OutputLimits::default()
    });
    assert_eq!(many.adjust(&q).unwrap().len(), 50_000);
}

#[test]
fn two_million_adjustments_are_refused_before_the_host_holds_them() {
    // Memory, fuel and time enough for the guest to build them (it needs ~200 MiB); the
    // host must still refuse them while copying them out: 2,000,000 × 48 bytes is over
    // 32 MiB.
    let limits = PluginLimits {
        memory_bytes: 512 << 20,
        fuel: 20_000_000_000,
        wall_time: Duration::from_secs(60),
        ..PluginLimits::default()
    };
    let host = PluginHost::new(limits).unwrap();
    let many = host.load_pricing("many", &wasm("hostile-many")).unwrap();
    let mut q = quote();
    q.total = dec!(40000000);
    let err = many.adjust(&q).unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::ResourceLimit, "{err}");
    assert_eq!(err.rule, "many");
    assert!(
        err.message
            .contains("returned more than 33554432 bytes of data (the limit max_return_bytes"),
        "{err}"
    );
}

#[test]
fn a_ten_mib_label_is_refused_naming_the_limit() {
    let err = hostile(
        &default_host(),
        "hostile-label",
        RuleErrorKind::ResourceLimit,
        Duration::from_secs(10),
    );
    assert!(
        err.message.contains(
            "returned a label of 10485760 bytes (adjustments[0]); the limit is 4096 (raise it with max_label_bytes"
        ),
        "{err}"
    );
}

#[test]
fn escape_sequences_in_a_label_and_a_log_line_come_out_visible() {
    use kam::core::text::for_terminal_line;
    let host = default_host();
    let plugin = host.load_pricing("esc", &wasm("hostile-escape")).unwrap();
    let out = plugin.adjust(&quote()).unwrap();
    // The host keeps the text as returned; every writer escapes it on the way out.
    let label = for_terminal_line(&out[0].label);
    let log = plugin.take_log();
    let line = for_terminal_line(&log[0].text);
    for text in [&label, &line] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{text:?}"
        );
    }
    assert!(
        label.starts_with("rebate\\u001b]0;pwned\\u0007\\u001b[2J\\u000a  forged row"),
        "{label}"
    );
    assert!(label.ends_with("\\u202ecba"), "{label}");
    assert!(
        line.contains("\\u001b[31mred\\u001b[0m \\u009b2J \\u202etxt.exe"),
        "{line}"
    );
}

#[test]
fn a_negative_growth_factor_is_refused_naming_the_plugin_and_the_month() {
    use kam::core::rules::{GrowthRule, GrowthState, PeriodFactors, ServiceLineRevenue};
    let host = default_host();
    let plugin = host.load_growth("negative", &wasm("hostile-growth")).unwrap();
    let states: Vec<GrowthState> = (0..12)
        .map(|month| GrowthState {
            month,
            year: 1,
            volume_index: dec!(1),
            service_lines: vec![ServiceLineRevenue {
                service_line: "warehousing".into(),
                revenue: dec!(100000),
            }],
        })
        .collect();
    let err = plugin.on_periods(&states, &mut PeriodFactors::new()).unwrap_err();
    assert_eq!(err.index, 0);
    assert_eq!(err.error.rule, "negative");
    assert_eq!(err.error.kind, RuleErrorKind::BadReturn);
    assert!(
        err.error.message.contains(
            "growth.on-periods: month 0, service line \"warehousing\": factor -1 is negative (a growth factor must be ≥ 0)"
        ),
        "{err}"
    );
}

#[test]
fn a_three_gib_plugin_file_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("kam-huge-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.wasm");
    // Sparse: 3 GiB long, no blocks written.
    std::fs::File::create(&path).unwrap().set_len(3 << 30).unwrap();
    let start = Instant::now();
    let err = default_host().load_pricing_file(&path).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_eq!(err.kind, RuleErrorKind::Load, "{err}");
    assert_eq!(err.rule, "huge");
    assert!(
        err.message.contains(&format!(
            "{} is 3221225472 bytes, more than the 67108864-byte limit for a plugin file",
            path.display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
