//! One rule boundary, three hosts: the same rules written natively in Rust, as Rhai
//! scripts (`scripts/`) and as WASM components (`plugins/`, built by the test) give the
//! identical answer through the `kam_core::rules` traits — on real quotes priced from
//! the pricing vectors, and on growth and scoring inputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::support::canonical::{native_band_score, native_oem_growth, native_volume_rebate};
use crate::support::guests::wasm;
use crate::support::vectors::{measure, qbr_measures};
use kam::core::Direction;
use kam::core::money::Currency;
use kam::core::pricing::{RateCard, Tier, TierMethod};
use kam::core::rules::{
    GrowthRule, GrowthState, KpiScoringRule, PeriodFactors, PriceAdjustment, PricingInput, PricingRule,
    ServiceLineRevenue,
};
use kam_plugin::{PluginHost, PluginLimits};
use kam_script::{ScriptGrowthRule, ScriptHost, ScriptKpiScoringRule, ScriptPricingRule};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn script_host() -> Arc<ScriptHost> {
    Arc::new(ScriptHost::default())
}

/// The month of `shared/vectors/pricing.toml` [rate_card_month]: total 51,547.50 EUR.
fn month_card() -> RateCard {
    let mut card = RateCard::new(Currency::from_code("EUR").unwrap());
    for (activity, rate) in [
        ("pallet_in", dec!(4.50)),
        ("storage_pallet_week", dec!(1.40)),
        ("pick_line", dec!(0.65)),
        ("order", dec!(2.10)),
        ("vas_hour", dec!(38.00)),
        ("transport_km", dec!(1.85)),
    ] {
        card.flat(activity, rate).unwrap();
    }
    card
}

/// The tier schedule of `shared/vectors/pricing.toml` [tiers].
fn tier_card(method: TierMethod) -> RateCard {
    let mut card = RateCard::new(Currency::from_code("EUR").unwrap());
    card.tiered(
        "pick_line",
        method,
        vec![
            Tier::up_to(dec!(10000), dec!(0.70)),
            Tier::up_to(dec!(25000), dec!(0.60)),
            Tier::unbounded(dec!(0.50)),
        ],
    )
    .unwrap();
    card
}

/// Quotes from the pricing vectors, small and large, both sides of the 50,000 threshold.
fn vector_quotes() -> Vec<PricingInput> {
    // Source: shared/vectors/pricing.toml [rate_card_month].lines
    let month = [
        ("pallet_in", dec!(1200)),
        ("storage_pallet_week", dec!(12500)),
        ("pick_line", dec!(18000)),
        ("order", dec!(2400)),
        ("vas_hour", dec!(160)),
        ("transport_km", dec!(3150)),
    ];
    let mut quotes = vec![month_card().price(month).unwrap().to_pricing_input()];
    for scale in [dec!(0.5), dec!(0.97), dec!(3), dec!(1000)] {
        let scaled: Vec<(&str, Decimal)> = month.iter().map(|(a, q)| (*a, q * scale)).collect();
        quotes.push(month_card().price(scaled).unwrap().to_pricing_input());
    }
    // Source: shared/vectors/pricing.toml [tiers].cases
    for q in [dec!(18000), dec!(10000), dec!(10001), dec!(30000), dec!(250000)] {
        for method in [TierMethod::Graduated, TierMethod::AllUnits] {
            quotes.push(
                tier_card(method)
                    .price([("pick_line", q)])
                    .unwrap()
                    .to_pricing_input(),
            );
        }
    }
    quotes
}

/// The volume rebate as the repository's Rhai script.
fn script_volume_rebate() -> ScriptPricingRule {
    ScriptPricingRule::load(
        script_host(),
        "scripts/volume_rebate.rhai",
        include_str!("../scripts/volume_rebate.rhai"),
    )
    .unwrap()
}

#[test]
fn volume_rebate_is_identical_native_rhai_wasm() {
    let native = native_volume_rebate();
    let script = script_volume_rebate();
    let host = PluginHost::new(PluginLimits::default()).unwrap();
    let plugin = host
        .load_pricing("volume-rebate", &wasm("volume-rebate"))
        .unwrap();

    let quotes = vector_quotes();
    let mut rebates = 0;
    for q in &quotes {
        let n = native.adjust(q).unwrap();
        let s = script.adjust(q).unwrap();
        let w = plugin.adjust(q).unwrap();
        // Compare values, not just text: -30.9500 and -30.95 are the same money.
        let amounts = |v: &[PriceAdjustment]| {
            v.iter()
                .map(|a| (a.label.clone(), a.amount.normalize()))
                .collect::<Vec<_>>()
        };
        assert_eq!(amounts(&n), amounts(&s), "native vs Rhai on total {}", q.total);
        assert_eq!(amounts(&n), amounts(&w), "native vs WASM on total {}", q.total);
        rebates += n.len();
    }
    assert!(
        rebates >= 4,
        "the vectors must exercise the rebate, not only the empty case"
    );

    // Source: shared/vectors/pricing.toml [rate_card_month].total = 51547.50 → rebate 30.95.
    assert_eq!(quotes[0].total, dec!(51547.50));
    assert_eq!(native.adjust(&quotes[0]).unwrap()[0].amount, dec!(-30.9500));

    // Applied to the quote under the card's rounding policy, the three give one total.
    let month = [
        ("pallet_in", dec!(1200)),
        ("pick_line", dec!(18000)),
        ("vas_hour", dec!(1200)),
    ];
    let totals: Vec<Decimal> = [&native as &dyn PricingRule, &script, &plugin]
        .iter()
        .map(|rule| {
            let mut quote = month_card().price(month).unwrap();
            quote.apply_rules(&[*rule]).unwrap();
            quote.total().amount()
        })
        .collect();
    assert_eq!(totals[0], totals[1]);
    assert_eq!(totals[0], totals[2]);
}

#[test]
fn oem_growth_is_identical_native_rhai_wasm() {
    let native = native_oem_growth();
    let script = ScriptGrowthRule::load(
        script_host(),
        "scripts/oem_volume_growth.rhai",
        include_str!("../scripts/oem_volume_growth.rhai"),
    )
    .unwrap();
    let host = PluginHost::new(PluginLimits::default()).unwrap();
    let plugin = host
        .load_growth("oem-volume-growth", &wasm("oem-volume-growth"))
        .unwrap();

    let mut states = Vec::new();
    for month in [0u32, 11, 12, 35, 119] {
        let state = GrowthState {
            month,
            year: month / 12 + 1,
            volume_index: dec!(0.94),
            service_lines: [
                "warehousing",
                "transport",
                "inbound_to_manufacturing",
                "aftermarket",
            ]
            .iter()
            .map(|s| ServiceLineRevenue {
                service_line: (*s).into(),
                revenue: dec!(1250000),
            })
            .collect(),
        };
        let norm = |v: Vec<Decimal>| v.into_iter().map(|d| d.normalize()).collect::<Vec<_>>();
        let n = norm(native.on_period(&state).unwrap());
        assert_eq!(
            n,
            norm(script.on_period(&state).unwrap()),
            "native vs Rhai, month {month}"
        );
        assert_eq!(
            n,
            norm(plugin.on_period(&state).unwrap()),
            "native vs WASM, month {month}"
        );
        states.push(state);
    }

    // The batch call the simulation makes (one per path) gives each month's answer, on
    // every host.
    let rules: [(&str, &dyn GrowthRule); 3] = [("native", &native), ("Rhai", &script), ("WASM", &plugin)];
    for (host, rule) in rules {
        let mut out = PeriodFactors::new();
        rule.on_periods(&states, &mut out).unwrap();
        assert_eq!(out.len(), states.len(), "{host}");
        for (state, factors) in states.iter().zip(out.iter()) {
            assert_eq!(
                factors,
                native.on_period(state).unwrap().as_slice(),
                "{host} batch, month {}",
                state.month
            );
        }
    }
}

#[test]
fn band_kpi_score_is_identical_native_rhai_wasm() {
    let native = native_band_score();
    let script = ScriptKpiScoringRule::load(
        script_host(),
        "scripts/band_kpi_score.rhai",
        include_str!("../scripts/band_kpi_score.rhai"),
    )
    .unwrap();
    let host = PluginHost::new(PluginLimits::default()).unwrap();
    let plugin = host
        .load_kpi_scoring("band-kpi-score", &wasm("band-kpi-score"))
        .unwrap();

    // Source: shared/vectors/scorecard.toml [qbr].measures, plus band-scored measures with
    // red thresholds.
    use Direction::{HigherIsBetter as H, LowerIsBetter as L};
    let (mut measures, vector): (Vec<_>, Vec<_>) = qbr_measures().into_iter().unzip();
    measures.extend([
        measure("OTIF % (band)", dec!(97.8), dec!(98.5), H, Some(dec!(95))),
        measure("Damage ppm (band)", dec!(180), dec!(150), L, Some(dec!(250))),
        measure("Below red", dec!(90), dec!(98.5), H, Some(dec!(95))),
    ]);
    let norm = |v: Vec<Decimal>| v.into_iter().map(|d| d.normalize()).collect::<Vec<_>>();
    let n = norm(native.score(&measures).unwrap());
    assert_eq!(n, norm(script.score(&measures).unwrap()), "native vs Rhai");
    assert_eq!(n, norm(plugin.score(&measures).unwrap()), "native vs WASM");
    // Source: shared/vectors/scorecard.toml [qbr] score_5dp.
    let five = |d: Decimal| d.round_dp(5);
    assert_eq!(n[..5].iter().map(|d| five(*d)).collect::<Vec<_>>(), vector);
    assert_eq!(n[7], Decimal::ZERO);
}

// ------------------------------------------------- the rebate in Python and JavaScript

/// One host for the foreign guests, keeping compiled components where kam-cli's tests
/// keep theirs (`$KAM_CACHE_DIR/plugins`): the Python component takes seconds to compile,
/// once per `cargo test` run rather than once per test.
fn foreign_host() -> &'static PluginHost {
    static HOST: std::sync::OnceLock<PluginHost> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("kam-cache/plugins");
        PluginHost::with_disk_cache(PluginLimits::default(), dir).unwrap()
    })
}

/// The Python and JavaScript rebates whose tools are installed, loaded once.
fn foreign_rebates() -> &'static [(&'static str, kam_plugin::PricingPlugin)] {
    use crate::support::guests::{Foreign, foreign_wasm_path};
    static GUESTS: std::sync::OnceLock<Vec<(&'static str, kam_plugin::PricingPlugin)>> =
        std::sync::OnceLock::new();
    GUESTS.get_or_init(|| {
        let mut guests = Vec::new();
        for (guest, name) in [
            (Foreign::Python, "volume-rebate-py"),
            (Foreign::JavaScript, "volume-rebate-js"),
        ] {
            let Some(path) = foreign_wasm_path(guest) else {
                continue;
            };
            let plugin = foreign_host()
                .load_pricing(name, &std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            guests.push((name, plugin));
        }
        guests
    })
}

/// A quote of one line whose amount is `total`.
fn quote_of(total: Decimal) -> PricingInput {
    PricingInput {
        currency: "EUR".into(),
        lines: vec![kam::core::rules::PricingLine {
            activity: "pick_line".into(),
            quantity: Decimal::ONE,
            billed_quantity: Decimal::ONE,
            amount: total,
        }],
        total,
    }
}

/// The vector quotes and the edges of the rebate: the threshold itself at several
/// scales, a cent and a 10^-22 either side of it, negative and zero totals, the largest
/// total at the largest scale a total above 50,000 can have (24), and the largest
/// decimal, whose rebate has a 97-bit mantissa and loses its last digit (rounded half to
/// even, as rust_decimal's multiplication does).
fn rebate_edge_quotes() -> Vec<PricingInput> {
    let mut quotes = vector_quotes();
    for total in [
        dec!(50000),
        dec!(50000.00),
        dec!(50000.0000000000000000000000),
        dec!(49999.99),
        dec!(50000.01),
        dec!(50000.0000000000000000000001),
        dec!(50000.5),
        dec!(0),
        dec!(-120000.50),
        dec!(1000000),
        dec!(123456789.123456789),
        dec!(79228.162514264337593543950335),
        Decimal::MAX,
        Decimal::MAX - Decimal::ONE,
        Decimal::MAX - Decimal::TEN,
    ] {
        quotes.push(quote_of(total));
    }
    quotes
}

/// The adjustments as the host received them: label and canonical text (scale kept).
fn as_text(adjustments: &[PriceAdjustment]) -> Vec<(String, String)> {
    adjustments
        .iter()
        .map(|a| (a.label.clone(), a.amount.to_string()))
        .collect()
}

#[test]
fn volume_rebate_in_python_and_javascript_equals_rust_and_rhai_digit_for_digit() {
    let native = native_volume_rebate();
    let script = script_volume_rebate();
    let rust = foreign_host()
        .load_pricing("volume-rebate", &wasm("volume-rebate"))
        .unwrap();
    let guests = foreign_rebates();

    let quotes = rebate_edge_quotes();
    let mut rebates = 0;
    for q in &quotes {
        let expected = rust.adjust(q).unwrap();
        // The Rhai script's arithmetic is rust_decimal's too, but it is compared by value
        // as in the three-ways test above; the guests must match the Rust guest's text.
        let by_value = |v: &[PriceAdjustment]| {
            v.iter()
                .map(|a| (a.label.clone(), a.amount.normalize()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            by_value(&expected),
            by_value(&native.adjust(q).unwrap()),
            "native, total {}",
            q.total
        );
        assert_eq!(
            by_value(&expected),
            by_value(&script.adjust(q).unwrap()),
            "Rhai, total {}",
            q.total
        );
        for (name, plugin) in guests {
            assert_eq!(
                as_text(&plugin.adjust(q).unwrap()),
                as_text(&expected),
                "{name} vs the Rust guest, total {}",
                q.total
            );
        }
        rebates += expected.len();
    }
    assert!(
        rebates >= 10,
        "the quotes must exercise the rebate, not only the empty case"
    );
    // The edges, written out: the threshold gives nothing, a cent above it 0.0002, and the
    // largest decimal a rebate rounded to 96 bits.
    let text = |total: Decimal| as_text(&rust.adjust(&quote_of(total)).unwrap());
    assert_eq!(text(dec!(50000.00)), []);
    assert_eq!(
        text(dec!(50000.01)),
        [("volume rebate".to_owned(), "-0.0002".to_owned())]
    );
    assert_eq!(
        text(Decimal::MAX),
        [(
            "volume rebate".to_owned(),
            "-1584563250285286751870878006.7".to_owned()
        )]
    );
}

#[test]
fn a_javascript_guest_built_with_wasi_http_is_refused_with_the_flag_that_drops_it() {
    use crate::support::guests::{Foreign, foreign_wasm_path};
    let Some(path) = foreign_wasm_path(Foreign::JavaScriptWithHttp) else {
        return;
    };
    let err = foreign_host()
        .load_pricing("volume-rebate-js-http", &std::fs::read(&path).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("volume-rebate-js-http"), "{err}");
    assert!(
        err.contains("imports interfaces the kam host does not provide")
            && err.contains("wasi:http/types@0.2."),
        "{err}"
    );
    assert!(err.contains("--disable http fetch-event"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any decimal a quote total can be (a 96-bit mantissa, scale 0 to 28): the foreign
    /// guests give the Rust guest's text, scale and rounding included.
    #[test]
    fn python_and_javascript_rebates_equal_the_rust_guest_for_any_total(
        mantissa in 0u128..(1u128 << 96),
        digits in 1u32..=29,
        negative in proptest::prelude::any::<bool>(),
        scale in 0u32..=28,
    ) {
        // Mantissas of every length, not mostly 29-digit ones.
        let mantissa = mantissa % 10u128.pow(digits);
        let mut total = Decimal::from_i128_with_scale(i128::try_from(mantissa).unwrap(), scale);
        total.set_sign_negative(negative);
        let quote = quote_of(total);
        static RUST: std::sync::OnceLock<kam_plugin::PricingPlugin> = std::sync::OnceLock::new();
        let rust = RUST.get_or_init(|| {
            foreign_host().load_pricing("volume-rebate", &wasm("volume-rebate")).unwrap()
        });
        let expected = as_text(&rust.adjust(&quote).unwrap());
        for (name, plugin) in foreign_rebates() {
            proptest::prop_assert_eq!(&as_text(&plugin.adjust(&quote).unwrap()), &expected, "{} on {}", name, total);
        }
    }
}
