//! kam-plugin end to end: the example guest plugins (built from `plugins/` by the test
//! itself) give exactly the results of the same rules written natively, through the
//! `kam_core::rules` traits; wrong plugins are refused at load time with clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use crate::support::canonical::{native_band_score, native_oem_growth, native_volume_rebate};
use crate::support::guests::wasm;
use crate::support::vectors::{measure, qbr_measures};
use kam::core::Direction;
use kam::core::rules::{
    AlertInput, AlertRule, FnPricingRule, GrowthRule, GrowthState, KpiScoringRule, PeriodFactors,
    PriceAdjustment, PricingInput, PricingLine, PricingRule, RuleError, RuleErrorKind, RuleHost,
    ServiceLineRevenue,
};
use kam_plugin::{CacheStats, HostError, LogStream, PluginHost, PluginLimits, PricingPlugin};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(PluginLimits::default()).unwrap())
}

fn volume_rebate_plugin() -> &'static PricingPlugin {
    static PLUGIN: OnceLock<PricingPlugin> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        host()
            .load_pricing("volume-rebate", &wasm("volume-rebate"))
            .unwrap()
    })
}

// ---------------------------------------------------------------- native rules

/// 1.5 % off every line billed at 10,000 units or more.
fn native_line_volume_discount() -> impl PricingRule {
    FnPricingRule::new("line volume discount", |q: &PricingInput| {
        Ok(q.lines
            .iter()
            .filter(|l| l.billed_quantity >= dec!(10000))
            .map(|l| PriceAdjustment {
                label: format!("{} volume discount", l.activity),
                amount: -(l.amount * dec!(0.015)),
            })
            .collect())
    })
}

fn line(activity: &str, quantity: Decimal, amount: Decimal) -> PricingLine {
    PricingLine {
        activity: activity.into(),
        quantity,
        billed_quantity: quantity,
        amount,
    }
}

/// Source: shared/vectors/pricing.toml [rate_card_month] (EUR, total 51,547.50).
fn rate_card_month() -> PricingInput {
    PricingInput {
        currency: "EUR".into(),
        lines: vec![
            line("pallet_in", dec!(1200), dec!(5400.00)),
            line("storage_pallet_week", dec!(12500), dec!(17500.00)),
            line("pick_line", dec!(18000), dec!(11700.00)),
            line("order", dec!(2400), dec!(5040.00)),
            line("vas_hour", dec!(160), dec!(6080.00)),
            line("transport_km", dec!(3150), dec!(5827.50)),
        ],
        total: dec!(51547.50),
    }
}

fn quote_with_total(total: Decimal) -> PricingInput {
    PricingInput {
        total,
        ..rate_card_month()
    }
}

/// Equal as values *and* as canonical text (same scale): byte-identical results.
fn assert_identical(native: &[PriceAdjustment], plugin: &[PriceAdjustment]) {
    assert_eq!(native, plugin);
    let text = |a: &[PriceAdjustment]| {
        a.iter()
            .map(|a| format!("{}={}", a.label, a.amount))
            .collect::<Vec<_>>()
    };
    assert_eq!(text(native), text(plugin));
}

// ---------------------------------------------------------------- pricing

#[test]
fn volume_rebate_on_the_rate_card_month_is_minus_30_95_natively_and_as_plugin() {
    let quote = rate_card_month();
    let native = native_volume_rebate().adjust(&quote).unwrap();
    let plugin = volume_rebate_plugin().adjust(&quote).unwrap();
    assert_identical(&native, &plugin);
    assert_eq!(plugin.len(), 1);
    assert_eq!(plugin[0].label, "volume rebate");
    assert_eq!(plugin[0].amount, dec!(-30.95));
    assert_eq!(plugin[0].amount.to_string(), "-30.9500");
    assert_eq!(volume_rebate_plugin().name(), "volume-rebate");
}

#[test]
fn volume_rebate_native_equals_plugin_below_at_and_far_above_the_threshold() {
    let cases = [
        (dec!(0), None),
        (dec!(49999.99), None),
        (dec!(50000), None),
        (dec!(50000.00), None),
        (dec!(50000.01), Some(dec!(-0.0002))),
        (dec!(60000), Some(dec!(-200))),
        (dec!(12345678.90), Some(dec!(-245913.5780))),
        (dec!(-1000), None),
        (
            dec!(1000000000000000000000000),
            Some(dec!(-19999999999999999999000.00)),
        ),
    ];
    for (total, expected) in cases {
        let quote = quote_with_total(total);
        let native = native_volume_rebate().adjust(&quote).unwrap();
        let plugin = volume_rebate_plugin().adjust(&quote).unwrap();
        assert_identical(&native, &plugin);
        assert_eq!(plugin.first().map(|a| a.amount), expected, "total {total}");
    }
}

#[test]
fn volume_rebate_native_equals_plugin_at_the_decimal_extremes() {
    for total in [Decimal::MAX, Decimal::MIN, dec!(0.0000000000000000000000000001)] {
        let quote = quote_with_total(total);
        assert_identical(
            &native_volume_rebate().adjust(&quote).unwrap(),
            &volume_rebate_plugin().adjust(&quote).unwrap(),
        );
    }
}

#[test]
fn line_volume_discount_native_equals_plugin_on_every_line() {
    let plugin = host()
        .load_pricing("line-volume-discount", &wasm("line-volume-discount"))
        .unwrap();
    let native = native_line_volume_discount();
    let quote = rate_card_month();
    let got = plugin.adjust(&quote).unwrap();
    assert_identical(&native.adjust(&quote).unwrap(), &got);
    // storage_pallet_week (12,500) and pick_line (18,000) are billed at 10,000 or more.
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].amount, dec!(-175.5));
    let big = PricingInput {
        currency: "EUR".into(),
        lines: (0..1000)
            .map(|i| {
                line(
                    &format!("activity_{i}"),
                    Decimal::from(i * 37),
                    Decimal::new(i * 12345 + 7, 2),
                )
            })
            .collect(),
        total: dec!(0),
    };
    assert_identical(&native.adjust(&big).unwrap(), &plugin.adjust(&big).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn volume_rebate_native_equals_plugin_for_any_total(mantissa in -10_000_000_000_000i64..10_000_000_000_000i64, scale in 0u32..6) {
        let quote = quote_with_total(Decimal::new(mantissa, scale));
        let native = native_volume_rebate().adjust(&quote).unwrap();
        let plugin = volume_rebate_plugin().adjust(&quote).unwrap();
        prop_assert_eq!(&native, &plugin);
        prop_assert_eq!(
            native.iter().map(|a| a.amount.to_string()).collect::<Vec<_>>(),
            plugin.iter().map(|a| a.amount.to_string()).collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------- growth

fn growth_state(year: u32) -> GrowthState {
    let lines = [
        "warehousing",
        "inbound_to_manufacturing",
        "transport",
        "aftermarket",
    ];
    GrowthState {
        month: (year - 1) * 12,
        year,
        volume_index: dec!(1.02),
        service_lines: lines
            .iter()
            .map(|l| ServiceLineRevenue {
                service_line: (*l).into(),
                revenue: dec!(125000.00),
            })
            .collect(),
    }
}

#[test]
fn oem_growth_native_equals_plugin_for_every_contract_year() {
    let plugin = host()
        .load_growth("oem-volume-growth", &wasm("oem-volume-growth"))
        .unwrap();
    let native = native_oem_growth();
    for year in 1..=25 {
        let state = growth_state(year);
        let got = plugin.on_period(&state).unwrap();
        let want = native.on_period(&state).unwrap();
        assert_eq!(got, want, "year {year}");
        let text = |v: &[Decimal]| v.iter().map(Decimal::to_string).collect::<Vec<_>>();
        assert_eq!(text(&got), text(&want), "year {year}");
    }
    assert_eq!(plugin.on_period(&growth_state(1)).unwrap(), vec![dec!(1); 4]);
    assert_eq!(
        plugin.on_period(&growth_state(3)).unwrap(),
        vec![dec!(1.0609), dec!(1.0609), dec!(1), dec!(1)]
    );
    // An empty period is an empty batch, not an error.
    let empty = GrowthState {
        service_lines: vec![],
        ..growth_state(2)
    };
    assert_eq!(plugin.on_period(&empty).unwrap(), Vec::<Decimal>::new());
}

/// A simulated path's months: contract years 1 to 3, twelve months each.
fn path_states() -> Vec<GrowthState> {
    (0..36u32)
        .map(|month| GrowthState {
            month,
            ..growth_state(month / 12 + 1)
        })
        .collect()
}

#[test]
fn oem_growth_batch_is_one_call_with_the_factors_of_each_month() {
    let plugin = host()
        .load_growth("oem-volume-growth", &wasm("oem-volume-growth"))
        .unwrap();
    let states = path_states();
    let mut batch = PeriodFactors::new();
    let before = plugin.calls();
    plugin.on_periods(&states, &mut batch).unwrap();
    // One call: not a batch that failed and was re-run month by month (which gives the
    // same factors, 36 times slower).
    assert_eq!(plugin.calls() - before, 1);
    assert_eq!(batch.len(), states.len());
    for (state, got) in states.iter().zip(batch.iter()) {
        assert_eq!(
            got,
            plugin.on_period(state).unwrap().as_slice(),
            "month {}",
            state.month
        );
    }
    assert_eq!(
        batch.get(35),
        Some(&[dec!(1.0609), dec!(1.0609), dec!(1), dec!(1)][..])
    );

    // A month the rule refuses (1.03^(year-1) overflows in year 5,000) is named by its
    // index in the batch, and the plugin keeps working.
    let mut states = path_states();
    states[7].year = 5_000;
    let err = plugin.on_periods(&states, &mut PeriodFactors::new()).unwrap_err();
    assert_eq!(err.index, 7, "{err}");
    assert_eq!(err.error.kind, RuleErrorKind::Failed, "{err}");
    assert!(err.error.message.contains("refused state 7"), "{err}");
    plugin
        .on_periods(&path_states(), &mut PeriodFactors::new())
        .unwrap();
}

#[test]
fn a_failed_batch_is_rerun_month_by_month_within_the_paths_budget() {
    let bytes = wasm("oem-volume-growth");
    let states: Vec<GrowthState> = (0..400u32)
        .map(|month| GrowthState {
            month,
            ..growth_state(25)
        })
        .collect();
    // The least fuel (within a factor of two) one month needs: a batch of 400 months
    // needs far more than one call's worth.
    let mut fuel = 20_000u64;
    let plugin = loop {
        let limits = PluginLimits {
            fuel,
            ..PluginLimits::default()
        };
        let host = PluginHost::new(limits).unwrap();
        if let Ok(p) = host.load_growth("oem-volume-growth", &bytes)
            && p.on_period(&states[0]).is_ok()
        {
            break p;
        }
        assert!(fuel < 1 << 40, "no fuel limit lets one month run");
        fuel *= 2;
    };
    let before = plugin.calls();
    let err = plugin.on_periods(&states, &mut PeriodFactors::new()).unwrap_err();
    // The re-run names the month where the path's one budget ran out, and says it was
    // the re-run; it did not get a fresh budget for each of the 400 months.
    assert_eq!(err.error.kind, RuleErrorKind::OperationLimit, "{err}");
    assert!(err.index < 4, "{err}");
    assert!(
        err.error
            .message
            .ends_with("(in the month-by-month re-run after the batch call failed)"),
        "{err}"
    );
    let calls = plugin.calls() - before;
    assert!((2..=6).contains(&calls), "the batch, then a few months: {calls}");
    assert_eq!(plugin.reruns(), 1);
    // A month alone still runs with a whole call's budget.
    assert!(plugin.on_period(&states[0]).is_ok());
}

// ---------------------------------------------------------------- KPI scoring

#[test]
fn band_kpi_score_matches_the_qbr_vector_and_native() {
    let plugin = host()
        .load_kpi_scoring("band-kpi-score", &wasm("band-kpi-score"))
        .unwrap();
    let (measures, expected): (Vec<_>, Vec<_>) = qbr_measures().into_iter().unzip();
    let got = plugin.score(&measures).unwrap();
    let want = native_band_score().score(&measures).unwrap();
    assert_eq!(got, want);
    assert_eq!(
        got.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        want.iter().map(|d| d.to_string()).collect::<Vec<_>>()
    );
    for ((score, expected), m) in got.iter().zip(&expected).zip(&measures) {
        assert_eq!(score.round_dp(5), *expected, "{}", m.name);
    }
}

#[test]
fn band_kpi_score_with_red_thresholds_clamps_to_0_and_1_10() {
    use Direction::{HigherIsBetter as H, LowerIsBetter as L};
    let plugin = host()
        .load_kpi_scoring("band-kpi-score", &wasm("band-kpi-score"))
        .unwrap();
    let measures = vec![
        measure("OTIF %", dec!(97.8), dec!(98.5), H, Some(dec!(95))),
        measure("OTIF % (below red)", dec!(90), dec!(98.5), H, Some(dec!(95))),
        measure(
            "OTIF % (far above target)",
            dec!(99.9),
            dec!(98.5),
            H,
            Some(dec!(95)),
        ),
        measure("Damage ppm", dec!(180), dec!(150), L, Some(dec!(250))),
        measure(
            "Damage ppm (worse than red)",
            dec!(300),
            dec!(150),
            L,
            Some(dec!(250)),
        ),
    ];
    let got = plugin.score(&measures).unwrap();
    assert_eq!(got, native_band_score().score(&measures).unwrap());
    assert_eq!(got, vec![dec!(0.8), dec!(0), dec!(1.10), dec!(0.7), dec!(0)]);
    // A zero band width is the rule's own error (division by zero), naming the measure.
    let err = plugin
        .score(&[measure("flat", dec!(1), dec!(2), H, Some(dec!(2)))])
        .unwrap_err();
    assert_eq!(
        (err.host, err.kind.clone()),
        (RuleHost::Plugin, RuleErrorKind::Failed),
        "{err}"
    );
    assert!(
        err.message.contains("flat") && err.message.contains("division by zero"),
        "{err}"
    );
}

// ---------------------------------------------------------------- alert

#[test]
fn consecutive_miss_alert_decides_each_input() {
    let plugin = host()
        .load_alert("consecutive-miss-alert", &wasm("consecutive-miss-alert"))
        .unwrap();
    let input = |kpi: &str, direction, history: &[Decimal]| AlertInput {
        kpi: kpi.into(),
        node: "plant-leipzig".into(),
        direction,
        target: dec!(98.5),
        history: history.to_vec(),
    };
    let inputs = vec![
        input(
            "otif",
            Direction::HigherIsBetter,
            &[dec!(99), dec!(97.1), dec!(98.0)],
        ),
        input(
            "otif",
            Direction::HigherIsBetter,
            &[dec!(97), dec!(99.0), dec!(98.0)],
        ),
        input("damage", Direction::LowerIsBetter, &[dec!(99), dec!(99.5)]),
        input("otif", Direction::HigherIsBetter, &[dec!(90)]),
    ];
    let got = plugin.alert(&inputs).unwrap();
    assert_eq!(
        got.iter().map(|d| d.raise).collect::<Vec<_>>(),
        vec![true, false, true, false]
    );
    assert_eq!(
        got[0].message,
        "otif at plant-leipzig missed target 98.5 in the last 2 periods"
    );
    assert_eq!(plugin.alert(&[]).unwrap(), vec![]);
}

// ---------------------------------------------------------------- loading

fn load_error(result: Result<PricingPlugin, RuleError>) -> RuleError {
    let err = result.unwrap_err();
    assert_eq!(
        (err.host, err.kind.clone()),
        (RuleHost::Plugin, RuleErrorKind::Load),
        "{err}"
    );
    err
}

#[test]
fn a_plugin_for_another_world_is_refused_at_load_time() {
    let err = load_error(host().load_pricing("oem-volume-growth", &wasm("oem-volume-growth")));
    assert_eq!(err.rule, "oem-volume-growth");
    assert!(
        err.message
            .contains("is a growth rule (world growth-rule), not a pricing rule"),
        "{err}"
    );
    let err = host()
        .load_growth("volume-rebate", &wasm("volume-rebate"))
        .unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::Load);
    assert!(err.message.contains("is a pricing rule"), "{err}");
}

#[test]
fn a_plugin_declaring_another_api_version_is_refused_at_load_time() {
    let err = load_error(host().load_pricing("wrong-api-version", &wasm("wrong-api-version")));
    assert!(
        err.message.contains("\"0.9.0\"") && err.message.contains("kam:rules@0.2.0"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_a_component_are_refused_at_load_time() {
    let err = load_error(host().load_pricing("garbage", b"definitely not wasm"));
    assert!(err.message.contains("not a valid WebAssembly component"), "{err}");
    // A core module (the empty one) is not a component either.
    load_error(host().load_pricing("core-module", b"\0asm\x01\0\0\0"));
    let err = load_error(host().load_pricing_file("/nonexistent/dir/rebate.wasm"));
    assert_eq!(err.rule, "rebate");
    assert!(err.message.contains("/nonexistent/dir/rebate.wasm"), "{err}");
}

#[test]
fn compiled_components_are_cached_by_content_and_engine() {
    let host = PluginHost::new(PluginLimits::default()).unwrap();
    let bytes = wasm("volume-rebate");
    let key = host.cache_key(&bytes);
    assert_eq!(key, host.cache_key(&bytes));
    assert_ne!(key, host.cache_key(&wasm("hostile-loop")));
    assert_eq!(key.to_string().len(), 64 + 1 + 16);
    assert_eq!(host.cached_components(), 0);
    let first = host.load_pricing("a", &bytes).unwrap();
    let second = host.load_pricing("b", &bytes).unwrap();
    assert_eq!(host.cached_components(), 1);
    let q = rate_card_month();
    assert_eq!(first.adjust(&q).unwrap(), second.adjust(&q).unwrap());
    host.load_pricing_file(crate::support::guests::wasm_path("line-volume-discount"))
        .unwrap();
    assert_eq!(host.cached_components(), 2);
    // A second host has its own engine, hence its own cache.
    let other = PluginHost::new(PluginLimits::default()).unwrap();
    assert_eq!(other.cached_components(), 0);
}

/// The one `.cwasm` file in a cache directory.
fn cache_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn a_disk_cache_serves_the_next_host_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("kam/plugins");
    let bytes = wasm("volume-rebate");
    let q = rate_card_month();

    let first = PluginHost::with_disk_cache(PluginLimits::default(), &cache).unwrap();
    assert_eq!(first.cache_dir(), Some(cache.as_path()));
    let expected = first.load_pricing("rebate", &bytes).unwrap().adjust(&q).unwrap();
    first.load_pricing("again", &bytes).unwrap();
    let stats = |compiled, from_memory, from_disk| CacheStats {
        compiled,
        from_memory,
        from_disk,
    };
    assert_eq!(first.cache_stats(), stats(1, 1, 0));
    let file = cache_file(&cache);
    let key = first.cache_key(&bytes).to_string();
    assert_eq!(
        file.file_name().unwrap().to_string_lossy(),
        format!("{key}.cwasm")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "cache directory open to others: {mode:o}");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "cache file open to others: {mode:o}");
    }

    // A new host (another process, as far as caching goes) reads it back.
    let second = PluginHost::with_disk_cache(PluginLimits::default(), &cache).unwrap();
    let plugin = second.load_pricing("rebate", &bytes).unwrap();
    assert_eq!(second.cache_stats(), stats(0, 0, 1));
    assert_eq!(plugin.adjust(&q).unwrap(), expected);
    // A host without the directory compiles.
    let plain = PluginHost::new(PluginLimits::default()).unwrap();
    plain.load_pricing("rebate", &bytes).unwrap();
    assert_eq!(plain.cache_stats(), stats(1, 0, 0));
    assert_eq!(plain.cache_dir(), None);
}

#[test]
fn a_damaged_cache_file_is_compiled_again_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm("volume-rebate");
    let q = rate_card_month();
    let expected = PluginHost::with_disk_cache(PluginLimits::default(), dir.path())
        .unwrap()
        .load_pricing("rebate", &bytes)
        .unwrap()
        .adjust(&q)
        .unwrap();
    let file = cache_file(dir.path());
    let good = std::fs::read(&file).unwrap();
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    let damaged: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one bit flipped in the code", flipped),
        ("not ours", b"\x7fELF and anything else".to_vec()),
        ("a bare wasmtime artifact", good[48..].to_vec()),
    ];
    for (what, bytes_on_disk) in damaged {
        std::fs::write(&file, &bytes_on_disk).unwrap();
        let host = PluginHost::with_disk_cache(PluginLimits::default(), dir.path()).unwrap();
        let plugin = host.load_pricing("rebate", &bytes).unwrap();
        assert_eq!(host.cache_stats().compiled, 1, "{what}");
        assert_eq!(plugin.adjust(&q).unwrap(), expected, "{what}");
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: not rewritten");
    }
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_compilation_sweeps_cache_files_unused_for_thirty_days() {
    use std::time::{Duration, SystemTime};
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(24 * 60 * 60);
    let aged = |name: &str, age: Duration| {
        let path = dir.path().join(name);
        std::fs::write(&path, b"old").unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
        path
    };
    let stale = aged("0000-old.cwasm", 31 * day);
    let recent = aged("1111-recent.cwasm", 29 * day);
    let crashed = aged(".2222.cwasm.99.0.tmp", day);
    let in_flight = aged(".3333.cwasm.99.1.tmp", Duration::from_secs(60));
    let not_ours = aged("notes.txt", 400 * day);

    let bytes = wasm("volume-rebate");
    let host = PluginHost::with_disk_cache(PluginLimits::default(), dir.path()).unwrap();
    host.load_pricing("rebate", &bytes).unwrap();
    assert!(!stale.exists() && !crashed.exists());
    assert!(recent.exists() && in_flight.exists() && not_ours.exists());

    // Reading a file back renews it, so a plugin in use is never swept.
    let file = dir.path().join(format!("{}.cwasm", host.cache_key(&bytes)));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(SystemTime::now() - 40 * day)
        .unwrap();
    let next = PluginHost::with_disk_cache(PluginLimits::default(), dir.path()).unwrap();
    next.load_pricing("rebate", &bytes).unwrap();
    assert_eq!(next.cache_stats().from_disk, 1);
    let age = SystemTime::now()
        .duration_since(std::fs::metadata(&file).unwrap().modified().unwrap())
        .unwrap_or_default();
    assert!(age < day, "{age:?}");
    // The next compilation (another plugin) sweeps, and keeps it.
    next.load_pricing("discount", &wasm("line-volume-discount"))
        .unwrap();
    assert!(file.exists());
}

#[test]
fn a_cache_directory_that_cannot_be_created_is_a_host_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let err = PluginHost::with_disk_cache(PluginLimits::default(), file.join("plugins")).unwrap_err();
    assert!(matches!(err, HostError::CacheDir { .. }), "{err:?}");
    assert!(err.to_string().contains("a-file/plugins"), "{err}");
}

#[test]
fn a_cache_directory_that_cannot_be_written_only_costs_compilation() {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::with_disk_cache(PluginLimits::default(), dir.path()).unwrap();
    // The directory disappears after the host was made: nothing can be written.
    std::fs::remove_dir(dir.path()).unwrap();
    let plugin = host.load_pricing("rebate", &wasm("volume-rebate")).unwrap();
    assert_eq!(host.cache_stats().compiled, 1);
    assert!(!plugin.adjust(&rate_card_month()).unwrap().is_empty());
}

#[test]
fn plugin_stdout_and_stderr_become_log_lines() {
    let plugin = host()
        .load_pricing("hostile-panic", &wasm("hostile-panic"))
        .unwrap();
    let err = plugin.adjust(&rate_card_month()).unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::Trap, "{err}");
    let log = plugin.take_log();
    assert!(
        log.iter()
            .any(|l| l.stream == LogStream::Stdout
                && l.text == "hostile-panic: about to panic on a quote in EUR"),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.stream == LogStream::Stderr
            && l.text.contains("hostile plugin panicked on purpose (6 lines)")),
        "{log:?}"
    );
    assert!(plugin.take_log().is_empty());
}

#[test]
fn plugins_are_rule_trait_objects() {
    let rules: Vec<Box<dyn PricingRule>> = vec![
        Box::new(native_volume_rebate()),
        Box::new(
            host()
                .load_pricing("volume-rebate", &wasm("volume-rebate"))
                .unwrap(),
        ),
    ];
    let q = rate_card_month();
    let results: Vec<_> = rules.iter().map(|r| r.adjust(&q).unwrap()).collect();
    assert_eq!(results[0], results[1]);
    // Send + Sync: the same plugin runs from many threads at once.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(volume_rebate_plugin().adjust(&q).unwrap()[0].amount, dec!(-30.95)));
        }
    });
}
