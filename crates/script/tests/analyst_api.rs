//! Every function of docs/analyst-api.md (ANALYST_API.md), called from a script, against the shared worked
//! examples (values copied here; each block names its source).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::LazyLock;

use kam_script::{ScriptErrorKind, ScriptHost};
use rhai::Dynamic;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

static HOST: LazyLock<ScriptHost> = LazyLock::new(ScriptHost::default);

fn eval(src: &str) -> Dynamic {
    match HOST.eval_source("test.rhai", src) {
        Ok(v) => v,
        Err(e) => panic!("{}", e.render()),
    }
}

fn d(src: &str) -> Decimal {
    let v = eval(src);
    v.as_decimal()
        .or_else(|_| v.as_int().map(Decimal::from))
        .unwrap_or_else(|_| panic!("not a number: {v:?} from {src}"))
}

/// The value as a script would print it (Money through its `to_string`).
fn s(src: &str) -> String {
    let v = eval(src);
    match v.clone().try_cast::<kam_core::money::Money>() {
        Some(m) => m.to_string(),
        None => v.to_string(),
    }
}

fn err(src: &str) -> kam_script::ScriptError {
    HOST.eval_source("bad.rhai", src).expect_err(src)
}

// ---------------------------------------------------------------- money and rounding

#[test]
fn money_arithmetic_and_rounding() {
    assert_eq!(s(r#"money(4.50, "EUR") * 1200"#), "5400.00 EUR");
    assert_eq!(
        d(r#"(money(100, "EUR") + money(5.5, "EUR")).amount"#),
        dec!(105.5)
    );
    assert_eq!(s(r#"money(100, "EUR").currency"#), "EUR");
    assert_eq!(d(r#"(money(10, "EUR") / 4).amount"#), dec!(2.5));
    assert_eq!(
        d(r#"(3 * money(1.5, "EUR") - money(1, "EUR")).amount"#),
        dec!(3.5)
    );
    assert!(eval(r#"money(1, "EUR") < money(2, "EUR")"#).as_bool().unwrap());
    // Source: shared/vectors/pricing.toml [rounding].cases
    for (v, even, up) in [
        ("2.345", "2.34", "2.35"),
        ("-2.345", "-2.34", "-2.35"),
        ("0.125", "0.12", "0.13"),
    ] {
        assert_eq!(s(&format!(r#"round_dp({v}, 2, "half_even")"#)), even);
        assert_eq!(s(&format!(r#"round_dp({v}, 2, "half_up")"#)), up);
        assert_eq!(
            s(&format!(r#"round_money(money({v}, "EUR"), "half_up").amount"#)),
            up
        );
        assert_eq!(
            s(&format!(r#"round_money(money({v}, "EUR"), "half_even").amount"#)),
            even
        );
    }
    assert_eq!(d(r#"round_dp(7, 0, "half_up")"#), dec!(7));
    // A whole decimal is a number like any other where places are expected.
    assert_eq!(d(r#"round_dp(2.55, 1.0, "half_up")"#), dec!(2.6));
    assert_eq!(d(r#"round_dp(2.55, 1.00, "half_even")"#), dec!(2.6));
    // Source: shared/vectors/pricing.toml [rounding].minor_units
    assert_eq!(
        s(r#"round_money(money(2.3455, "BHD"), "half_up").amount"#),
        "2.346"
    );
    assert_eq!(
        s(r#"round_money(money(1234.5, "JPY"), "half_even").amount"#),
        "1234"
    );
    assert_eq!(
        s(r#"round_money(money(1235.5, "KRW"), "half_up").amount"#),
        "1236"
    );
    assert_eq!(
        s(r#"round_money(money(1.0005, "KWD"), "half_even").amount"#),
        "1.000"
    );
}

#[test]
fn money_errors_name_the_problem() {
    let e = err(r#"let x = money(1, "EUR") + money(1, "USD");"#);
    assert!(
        e.message.contains("currency mismatch") && e.message.contains("EUR vs USD"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (Some(1), Some(25)));
    let e = err(r#"money("12", "EUR")"#);
    assert!(
        e.message.contains("money: argument `amount`: must be a number"),
        "{e}"
    );
    let e = err(r#"round_dp(1.5, -1, "half_up")"#);
    assert!(e.message.contains("round_dp: argument `dp`"), "{e}");
    let e = err(r#"round_dp(1.5, 1.5, "half_up")"#);
    assert!(
        e.message
            .contains("round_dp: argument `dp`: must be an integer from 0 to 28, got 1.5"),
        "{e}"
    );
    let e = err(r#"round_dp(1.5, 1, "up")"#);
    assert!(
        e.message
            .contains("round_dp: argument `mode`: unknown rounding mode \"up\""),
        "{e}"
    );
}

// ---------------------------------------------------------------- rate cards and quotes

#[test]
fn rate_card_month() {
    // Source: shared/vectors/pricing.toml [rate_card_month]
    let q = r#"
        let card = rate_card("EUR");
        card.flat("pallet_in", 4.50);
        card.flat("storage_pallet_week", 1.40);
        card.flat("pick_line", 0.65);
        card.flat("order", 2.10);
        card.flat("vas_hour", 38.00);
        card.flat("transport_km", 1.85);
        let q = card.price(#{ pallet_in: 1200, storage_pallet_week: 12500, pick_line: 18000,
                              order: 2400, vas_hour: 160, transport_km: 3150 });
    "#;
    assert_eq!(s(&format!("{q} q.total")), "51547.50 EUR");
    for (activity, amount) in [
        ("pallet_in", "5400.00"),
        ("storage_pallet_week", "17500.00"),
        ("pick_line", "11700.00"),
        ("order", "5040.00"),
        ("vas_hour", "6080.00"),
        ("transport_km", "5827.50"),
    ] {
        assert_eq!(s(&format!(r#"{q} q.amount("{activity}").amount"#)), amount);
    }
    assert_eq!(d(&format!("{q} q.lines.len()")), dec!(6));
    assert_eq!(s(&format!("{q} q.lines[5].activity")), "transport_km");
    assert_eq!(d(&format!("{q} q.lines[5].quantity")), dec!(3150));
    assert_eq!(d(&format!("{q} q.lines[5].billed_quantity")), dec!(3150));
    assert_eq!(s(&format!("{q} q.lines[5].amount")), "5827.50 EUR");
    assert_eq!(d(&format!("{q} q.warnings.len()")), dec!(0));
    // Fractional quantities are accepted (hours).
    assert_eq!(
        s(r#"let c = rate_card("EUR"); c.flat("vas_hour", 38); c.price(#{ vas_hour: 2.25 }).total"#),
        "85.50 EUR"
    );
}

#[test]
fn tiers_graduated_and_all_units() {
    // Source: shared/vectors/pricing.toml [tiers]
    let card = |method: &str| {
        format!(
            r#"let card = rate_card("EUR");
               card.tiered("pick_line", "{method}", [#{{ up_to: 10000, rate: 0.70 }}, #{{ up_to: 25000, rate: 0.60 }}, #{{ rate: 0.50 }}]);"#
        )
    };
    for (qty, graduated, all_units) in [
        ("18000", "11800.00", "10800.00"),
        ("10000", "7000.00", "7000.00"),
        ("10001", "7000.60", "6000.60"),
        ("30000", "18500.00", "15000.00"),
    ] {
        assert_eq!(
            s(&format!(
                "{} card.price(#{{ pick_line: {qty} }}).total.amount",
                card("graduated")
            )),
            graduated
        );
        assert_eq!(
            s(&format!(
                "{} card.price(#{{ pick_line: {qty} }}).total.amount",
                card("all_units")
            )),
            all_units
        );
    }
    // The all-units cliff is flagged just above the boundary.
    let w = d(&format!(
        "{} card.price(#{{ pick_line: 10001 }}).warnings.len()",
        card("all_units")
    ));
    assert!(w >= dec!(1));
    let e = err(r#"let c = rate_card("EUR"); c.tiered("pick_line", "stepped", [#{ rate: 1 }]);"#);
    assert!(e.message.contains("rate_card.tiered: argument `method`"), "{e}");
    let e = err(
        r#"let c = rate_card("EUR"); c.tiered("pick_line", "graduated", [#{ upto: 5, rate: 1 }, #{ rate: 1 }]);"#,
    );
    assert!(e.message.contains("unknown field `upto`"), "{e}");
}

#[test]
fn minimum_commitment_and_rounding_levels() {
    // Source: shared/vectors/pricing.toml [minimum_commitment]
    let q = r#"let card = rate_card("EUR"); card.flat("pick_line", 0.65); card.minimum("pick_line", 20000);
               let q = card.price(#{ pick_line: 18000 });"#;
    assert_eq!(s(&format!("{q} q.total.amount")), "13000.00");
    assert_eq!(d(&format!("{q} q.lines[0].billed_quantity")), dec!(20000));
    assert_eq!(
        s(&format!("{q} (q.total - money(18000 * 0.65, \"EUR\")).amount")),
        "1300.00"
    );
    // Source: shared/vectors/pricing.toml [rounding].three_lines
    let three = |policy: &str| {
        format!(
            r#"let c = rate_card("EUR"); {policy}
               c.flat("order", 0.335); c.flat("pallet_in", 0.335); c.flat("pallet_out", 0.335);
               c.price(#{{ order: 1, pallet_in: 1, pallet_out: 1 }}).total.amount"#
        )
    };
    assert_eq!(s(&three("")), "1.02");
    assert_eq!(s(&three(r#"c.rounding("half_up", "total");"#)), "1.01");
    assert_eq!(s(&three(r#"c.rounding("half_even", "total");"#)), "1.00");
}

#[test]
fn pricing_errors_name_function_argument_and_position() {
    let e = err(
        "let c = rate_card(\"EUR\");\nc.flat(\"pick_line\", 0.65);\nlet q = c.price(#{ pick_line: -5 });",
    );
    assert!(
        e.message.contains("rate_card.price") && e.message.contains("negative quantity"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (Some(3), Some(11)));
    let e = err(r#"let c = rate_card("EUR"); c.flat("pick_line", 0.65); c.price(#{ pallet_in: 5 })"#);
    assert!(e.message.contains("unknown activity \"pallet_in\""), "{e}");
    let e = err(
        r#"let c = rate_card("EUR"); c.flat("pick_line", 0.65); c.price(#{ pick_line: 5 }).amount("order")"#,
    );
    assert!(
        e.message.contains("quote.amount") && e.message.contains("order"),
        "{e}"
    );
    let e = err(r#"rate_card("EURO")"#);
    assert!(e.message.contains("rate_card: argument `currency`"), "{e}");
    let e = err(r#"let c = rate_card("EUR"); c.flat("pick_line", -1);"#);
    assert!(
        e.message
            .contains("rate_card.flat: argument `rate`: must not be negative"),
        "{e}"
    );
}

// ---------------------------------------------------------------- commercial models

#[test]
fn commercial_models() {
    // Source: shared/vectors/pricing.toml [cost_plus]
    assert_eq!(d("cost_plus(190000, 6)"), dec!(201400));
    assert_eq!(
        s(r#"round_money(cost_plus(money(190000, "EUR"), 6), "half_up")"#),
        "201400.00 EUR"
    );
    assert_eq!(
        d(r#"round_dp(markup_to_margin(6), 6, "half_up")"#),
        dec!(5.660377)
    );
    assert_eq!(
        d(r#"round_dp(margin_to_markup(markup_to_margin(6)), 6, "half_up")"#),
        dec!(6)
    );
    // Source: shared/vectors/pricing.toml [fixed_plus_variable]
    assert_eq!(d("fixed_plus_variable(40000, 18000, 0.55)"), dec!(49900));
    // Source: shared/vectors/pricing.toml [gainshare]
    assert_eq!(d("gainshare(1.20, 1.08, 18000, 50)"), dec!(1080));
    assert_eq!(d("gainshare(1.20, 1.26, 18000, 50)"), dec!(-540));
    // Source: shared/vectors/pricing.toml [indexation]
    let f = r#"index_factor(0.15, [#{ weight: 0.60, base: 100.0, current: 104.2 }, #{ weight: 0.25, base: 118.3, current: 122.0 }])"#;
    assert_eq!(d(&format!(r#"round_dp({f}, 7, "half_up")"#)), dec!(1.0330191));
    assert_eq!(d(&format!(r#"round_dp(0.65 * {f}, 4, "half_up")"#)), dec!(0.6715));
    // Fuel surcharge: 0.5 % per started 0.05 above 1.50.
    assert_eq!(
        d("fuel_surcharge_pct(1.62, #{ base: 1.50, step: 0.05, pct_per_step: 0.5 })"),
        dec!(1.5)
    );
    assert_eq!(
        d("fuel_surcharge_pct(1.40, #{ base: 1.50, step: 0.05, pct_per_step: 0.5 })"),
        dec!(0)
    );
    // Source: shared/vectors/pricing.toml [contribution]
    let c = "contribution(51547.50, [36000, 9000, 4000])";
    for (i, margin, pct) in [
        (0, dec!(15547.50), dec!(30.16)),
        (1, dec!(6547.50), dec!(12.70)),
        (2, dec!(2547.50), dec!(4.94)),
    ] {
        assert_eq!(d(&format!("{c}[{i}].margin")), margin);
        assert_eq!(d(&format!(r#"round_dp({c}[{i}].margin_pct, 2, "half_up")"#)), pct);
    }
    // Unrounded percentages keep 28 significant digits: 2 × 100 ÷ 3, not (2 ÷ 3) × 100
    // (which ends …6670).
    assert_eq!(
        d("contribution(3, [1])[0].margin_pct").to_string(),
        "66.666666666666666666666666667"
    );
}

#[test]
fn commercial_model_errors() {
    let e = err(
        "index_factor(0.15, [#{ weight: 0.60, base: 100, current: 104 }, #{ weight: 0.20, base: 100, current: 101 }])",
    );
    assert!(
        e.message.starts_with("index_factor:") && e.message.contains('1'),
        "{e}"
    );
    let e = err("fixed_plus_variable(40000, -1, 0.55)");
    assert!(
        e.message
            .contains("fixed_plus_variable: argument `quantity`: must not be negative"),
        "{e}"
    );
    let e = err("fuel_surcharge_pct(1.6, #{ base: 1.5, pct_per_step: 0.5 })");
    assert!(e.message.contains("missing field `step`"), "{e}");
    let e = err(r#"contribution(100, [10, "x"])"#);
    assert!(e.message.contains("contribution: argument `costs[1]`"), "{e}");
}

// ---------------------------------------------------------------- negotiation

#[test]
fn zopa_and_nash() {
    // Source: shared/vectors/negotiation.toml [zopa]
    assert_eq!(d("zopa(0.58, 0.66).low"), dec!(0.58));
    assert_eq!(d("zopa(0.58, 0.66).high"), dec!(0.66));
    assert_eq!(d("zopa(0.58, 0.66).width"), dec!(0.08));
    assert_eq!(d("zopa(0.58, 0.66).width * 216000"), dec!(17280.00));
    assert!(eval("zopa(700, 400)").is_unit());
    // Source: shared/vectors/negotiation.toml [nash]
    assert_eq!(d("nash_price(0.58, 0.66, 0.5)"), dec!(0.62));
    assert_eq!(d("nash_price(0.58, 0.66, 0.6)"), dec!(0.628));
    let e = err("nash_price(0.58, 0.66, 1.5)");
    assert!(e.message.starts_with("nash_price:"), "{e}");
}

#[test]
fn utility_of_packages() {
    // Source: shared/vectors/negotiation.toml [utility]
    let tpl = r#"[#{ name: "price", worst: 0.58, best: 0.70, weight: 0.5 }, #{ name: "term", worst: 1, best: 5, weight: 0.3 },
                  #{ name: "payment", worst: 90, best: 30, weight: 0.2 }]"#;
    let oem = r#"[#{ name: "price", worst: 0.70, best: 0.58, weight: 0.6 }, #{ name: "term", worst: 5, best: 1, weight: 0.1 },
                  #{ name: "payment", worst: 30, best: 90, weight: 0.3 }]"#;
    let a = "#{ price: 0.64, term: 3, payment: 60 }";
    let b = "#{ price: 0.64, term: 5, payment: 90 }";
    assert_eq!(d(&format!("utility({a}, {tpl})")), dec!(0.50));
    assert_eq!(d(&format!("utility({a}, {oem})")), dec!(0.50));
    assert_eq!(d(&format!("utility({b}, {tpl})")), dec!(0.55));
    assert_eq!(d(&format!("utility({b}, {oem})")), dec!(0.60));
    let e = err(r#"utility(#{ price: 0.6 }, [#{ name: "price", worst: 0.7, best: 0.58, weight: 0.9 }])"#);
    assert!(e.message.starts_with("utility:"), "{e}");
}

#[test]
fn concession_offers() {
    // Source: shared/vectors/negotiation.toml [concession_polynomial]
    let rows = [
        ("0", "0.70", "0.70", "0.70"),
        ("2", "0.69996", "0.676", "0.64633"),
        ("5", "0.69625", "0.640", "0.61515"),
        ("8", "0.66068", "0.604", "0.59267"),
        ("10", "0.58", "0.58", "0.58"),
    ];
    for (t, boulware, linear, conceder) in rows {
        for (beta, want) in [("0.2", boulware), ("1", linear), ("2", conceder)] {
            let got = d(&format!(
                r#"round_dp(concession_offer(#{{ min: 0.58, max: 0.70, t: {t}, deadline: 10, beta: {beta}, kappa: 0,
                                                family: "polynomial", side: "seller" }}), 5, "half_up")"#
            ));
            assert_eq!(got, want.parse::<Decimal>().unwrap(), "t={t} beta={beta}");
        }
    }
    // The buyer concedes from min up: linear at t=5 is the midpoint.
    assert_eq!(
        d(
            r#"concession_offer(#{ min: 0.58, max: 0.70, t: 5, deadline: 10, beta: 1, kappa: 0, family: "polynomial", side: "buyer" })"#
        ),
        dec!(0.64)
    );
    let e = err(
        r#"concession_offer(#{ min: 0.58, max: 0.70, t: 5, deadline: 10, beta: 1, kappa: 0, family: "poly", side: "seller" })"#,
    );
    assert!(
        e.message.contains("concession_offer: argument `params.family`"),
        "{e}"
    );
}

// ---------------------------------------------------------------- scorecards and KPIs

const QBR: &str = r#"
    let sc = scorecard("QBR");
    sc.measure("OTIF %", 97.8, 98.5, "higher", 0.30);
    sc.measure("Inventory accuracy %", 99.2, 99.5, "higher", 0.20);
    sc.measure("Dock-to-stock hours", 20, 24, "lower", 0.15);
    sc.measure("Damage ppm", 180, 150, "lower", 0.15);
    sc.measure("Cost per line", 0.66, 0.65, "lower", 0.20);
"#;

#[test]
fn qbr_scorecard() {
    // Source: shared/vectors/scorecard.toml [qbr]
    assert_eq!(
        d(&format!(r#"{QBR} round_dp(sc.overall(1.10), 4, "half_up")"#)),
        dec!(0.9842)
    );
    let c = format!("{QBR} sc.overall(1.10); let c = sc.contributions();");
    assert_eq!(d(&format!("{c} c.len()")), dec!(5));
    assert_eq!(s(&format!("{c} c[2].name")), "Dock-to-stock hours");
    assert_eq!(d(&format!("{c} c[2].score")), dec!(1.10));
    assert_eq!(
        d(&format!(r#"{c} round_dp(c[3].score, 5, "half_up")"#)),
        dec!(0.83333)
    );
    assert_eq!(d(&format!("{c} c[0].weight")), dec!(0.30));
    let sum = d(&format!(
        r#"{c} let t = 0; for x in c {{ t += x.contribution; }} round_dp(t, 4, "half_up")"#
    ));
    assert_eq!(sum, dec!(0.9842));
    let e = err(r#"let sc = scorecard("x"); sc.measure("a", 1, 1, "up", 1);"#);
    assert!(
        e.message.contains("scorecard.measure: argument `direction`"),
        "{e}"
    );
    let e = err(r#"let sc = scorecard("x"); sc.measure("a", 1, 1, "higher", 0);"#);
    assert!(e.message.starts_with("scorecard.measure:"), "{e}");
}

#[test]
fn kpi_functions() {
    // Source: shared/vectors/scorecard.toml [otif]
    assert_eq!(d("otif(1080, 1200)"), dec!(0.90));
    assert!(err("otif(1201, 1200)").message.starts_with("otif:"));
    assert_eq!(d("perfect_order_rate([0.98, 0.99, 0.995])"), dec!(0.965349));
    assert!(
        err("perfect_order_rate([0.98, 1.2])")
            .message
            .starts_with("perfect_order_rate:")
    );
    assert_eq!(
        d("health_score([#{ weight: 2, score: 80 }, #{ weight: 1, score: () }, #{ weight: 1, score: 60 }])"),
        dec!(220) / dec!(3)
    );
    let bands = r#"[#{ name: "Red", up_to: 0.85 }, #{ name: "Amber", up_to: 0.95 }, #{ name: "Green", up_to: 1.10 }]"#;
    assert_eq!(s(&format!("grade(0.85, {bands})")), "Red");
    assert_eq!(s(&format!("grade(0.8501, {bands})")), "Amber");
    assert_eq!(s(&format!("grade(0.9842, {bands})")), "Green");
    assert!(err(&format!("grade(1.2, {bands})")).message.starts_with("grade:"));
}

// ---------------------------------------------------------------- growth and simulation

const PIPELINE: &str = r#"
    let p = pipeline();
    p.deal("Leipzig inbound", 1200000, 0.6);
    p.deal("Pune aftermarket", 800000, 0.3);
    p.deal("Curitiba reverse", 500000, 0.8);
"#;

#[test]
fn pipeline_exact() {
    // Source: shared/vectors/growth.toml [pipeline]
    assert_eq!(d(&format!("{PIPELINE} p.exact().mean")), dec!(1360000));
    assert_eq!(
        d(&format!("{PIPELINE} p.exact().prob_at_least(1500000)")),
        dec!(0.516)
    );
    // Outcomes (hand-checked): 0 .056, 500k .224, 800k .024, 1.2M .084, 1.3M .096, 1.7M .336, …
    assert_eq!(d(&format!("{PIPELINE} p.exact().quantile(0.5)")), dec!(1700000));
    assert_eq!(d(&format!("{PIPELINE} p.exact().quantile(0.484)")), dec!(1300000));
    assert_eq!(d(&format!("{PIPELINE} p.exact().quantile(0)")), dec!(0));
    assert_eq!(d(&format!("{PIPELINE} p.weighted")), dec!(1360000));
    // The mean is Σ p·v exactly, even where the outcome probabilities (2⁻⁴⁰, 0.37¹⁵ …)
    // were rounded to 28 digits.
    assert_eq!(
        d(r#"let p = pipeline(); for i in 0..40 { p.deal("d" + i, 1000 + 37 * i + i * i, 0.5); } p.exact().mean"#)
            .to_string(),
        "44700"
    );
    assert_eq!(
        d(r#"let p = pipeline(); for i in 0..15 { p.deal("d" + i, 1000 + 37 * i, 0.37); } p.exact().mean"#)
            .to_string(),
        "6987.45"
    );
    let e = err(r#"let p = pipeline(); p.deal("x", 100, 1.5);"#);
    assert!(e.message.starts_with("pipeline.deal:"), "{e}");
}

#[test]
fn pipeline_simulated() {
    let r = format!("{PIPELINE} let r = p.simulate(100000, 42);");
    let mean = d(&format!("{r} r.mean"));
    assert!((mean - dec!(1360000)).abs() < dec!(13600), "{mean}");
    let p = d(&format!("{r} r.prob_at_least(1500000)"));
    assert!((p - dec!(0.516)).abs() < dec!(0.01), "{p}");
    assert_eq!(d(&format!("{r} r.quantile(0.5)")), dec!(1700000));
    // Same seed, same result.
    assert_eq!(d(&format!("{r} r.mean")), mean);
    assert!(
        err(&format!("{PIPELINE} p.simulate(-1, 42)"))
            .message
            .contains("argument `paths`")
    );
    // Whole decimals count as the integers they are; a fraction of a path does not.
    assert_eq!(
        d(&format!("{PIPELINE} p.simulate(2000.0, 42.00).mean")),
        d(&format!("{PIPELINE} p.simulate(2000, 42).mean"))
    );
    assert!(
        err(&format!("{PIPELINE} p.simulate(2000.5, 42)"))
            .message
            .contains("argument `paths`: must be a non-negative integer, got 2000.5")
    );
}

#[test]
fn distributions_and_percentiles() {
    assert_eq!(d("pert(0, 5, 10).mean"), dec!(5));
    assert_eq!(d("pert(100, 200, 600).mean"), dec!(250));
    assert_eq!(d("triangular(100, 200, 600).mean"), dec!(300));
    assert_eq!(
        d(r#"round_dp(triangular(0, 5, 10).quantile(0.5), 6, "half_up")"#),
        dec!(5)
    );
    assert_eq!(
        d(r#"round_dp(pert(0, 5, 10).quantile(0.5), 4, "half_up")"#),
        dec!(5)
    );
    // Lognormal from mean 100, sd 50: σ² = ln 1.25, μ = ln 100 − σ²/2.
    assert_eq!(d("lognormal(100, 50).mean"), dec!(100));
    assert_eq!(
        d(r#"round_dp(lognormal(100, 50).sigma, 6, "half_up")"#),
        dec!(0.472381)
    );
    assert_eq!(
        d(r#"round_dp(lognormal(100, 50).mu, 6, "half_up")"#),
        dec!(4.493598)
    );
    // 12 significant digits, not 6 decimal places (40-digit references: 4.4935984103309864…,
    // 0.01/√1.04 = 0.0098058067569092016…, 0.001 − √4.5e-7 = 0.00032917960675006309…).
    assert_eq!(d("lognormal(100, 50).mu"), dec!(4.49359841033));
    assert_eq!(d("lognormal(0.01, 0.002).quantile(0.5)"), dec!(0.00980580675691));
    assert_eq!(
        d("triangular(0, 0.0001, 0.001).quantile(0.5)"),
        dec!(0.00032917960675)
    );
    assert!(err("pert(10, 5, 0)").message.starts_with("pert:"));
    assert!(err("pert(0, 5, 10).mu").message.starts_with("mu:"));
    assert_eq!(d(r#"percentile([15, 20, 35, 40, 50], 0.4, "linear")"#), dec!(29));
    assert_eq!(
        d(r#"percentile([50, 15, 40, 20, 35], 0.4, "nearest_rank")"#),
        dec!(20)
    );
    let e = err(r#"percentile([1, 2], 0.5, "type7")"#);
    assert!(e.message.contains("percentile: argument `method`"), "{e}");
}

// ---------------------------------------------------------------- sandbox

#[test]
fn sandbox_rejects_hostile_scripts() {
    assert_eq!(err("loop {}").kind, ScriptErrorKind::OperationLimit);
    assert_eq!(
        err("fn f(n) { f(n + 1) } f(0)").kind,
        ScriptErrorKind::ResourceLimit
    );
    assert_eq!(
        err(r#"let s = "x"; loop { s += s; }"#).kind,
        ScriptErrorKind::ResourceLimit
    );
    assert_eq!(err(r#"eval("1")"#).kind, ScriptErrorKind::Syntax);
    let e = err("let a = 1;\nlet b = a + c;");
    assert_eq!(e.kind, ScriptErrorKind::Syntax);
    assert_eq!((e.line, e.column), (Some(2), Some(13)));
    assert_eq!(err(r#"import "x" as y;"#).kind, ScriptErrorKind::Runtime);
    assert!(
        HOST.eval_source("timestamp.rhai", "timestamp()").is_err(),
        "scripts get no clock"
    );
    // The host is still usable afterwards.
    assert_eq!(d("1 + 1"), dec!(2));
}

#[test]
fn print_is_captured_per_run() {
    let script = HOST
        .compile("p.rhai", r#"print(money(1.5, "EUR")); print("done");"#)
        .unwrap();
    let (r, out) = HOST.run_captured(&script);
    assert!(r.is_ok());
    assert_eq!(out, "1.5 EUR\ndone\n");
}

#[test]
fn api_listing_covers_analyst_api() {
    let sigs: Vec<&str> = HOST.api().iter().map(|e| e.signature.as_str()).collect();
    for name in [
        "money(",
        "round_money(",
        "round_dp(",
        "rate_card(",
        "card.flat(",
        "card.tiered(",
        "card.minimum(",
        "card.rounding(",
        "card.price(",
        "Quote.total",
        "q.amount(",
        "Quote.lines",
        "Quote.warnings",
        "cost_plus(",
        "markup_to_margin(",
        "margin_to_markup(",
        "fixed_plus_variable(",
        "gainshare(",
        "index_factor(",
        "fuel_surcharge_pct(",
        "contribution(",
        "zopa(",
        "nash_price(",
        "concession_offer(",
        "utility(",
        "scorecard(",
        "sc.measure(",
        "sc.overall(",
        "sc.contributions(",
        "health_score(",
        "grade(",
        "perfect_order_rate(",
        "otif(",
        "pipeline(",
        "p.deal(",
        "p.exact(",
        "p.simulate(",
        "x.prob_at_least(",
        "x.quantile(",
        "pert(",
        "triangular(",
        "lognormal(",
        "Distribution.mu",
        "Distribution.sigma",
        "percentile(",
    ] {
        assert!(
            sigs.iter().any(|s| s.starts_with(name)),
            "{name} missing from the API listing"
        );
    }
    assert!(HOST.api().iter().all(|e| !e.doc.is_empty()));
}

/// Integer ÷ integer is exact in analyst scripts (Rhai alone would truncate to 0).
#[test]
fn integer_division_is_exact() {
    let host = kam_script::ScriptHost::default();
    let out = host
        .eval_source("div.rhai", "let share = 3 / 4; share * 100")
        .unwrap();
    assert_eq!(out.to_string(), "75.00");
    let out = host.eval_source("div.rhai", "7 / 2").unwrap();
    assert_eq!(out.to_string(), "3.5");
    let out = host.eval_source("div.rhai", "let w = 60 / 100; w + 0.4").unwrap();
    assert_eq!(out.to_string(), "1.0");
    let err = host
        .eval_source("div.rhai", "let x = 1;\nlet y = x / 0;")
        .unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("division by zero"), "{}", err.message);
    // Rhai would run `x /= 4` on two integers as truncating division (2, not 2.5), before
    // any overload: the operator is refused at compile time with the exact spelling.
    for src in ["let x = 10;\nx /= 4;\nx", "let x = 7.0;\nx /= 2;\nx"] {
        let err = host.eval_source("div.rhai", src).unwrap_err();
        assert_eq!(err.kind, kam_script::ScriptErrorKind::Syntax, "{src}");
        assert_eq!((err.line, err.column), (Some(2), Some(3)), "{src}");
        assert!(err.message.contains("write `x = x / y`"), "{}", err.message);
    }
}

/// `/` is a registered operator (so that the other operators can take Rhai's fast path):
/// it parses and divides as before — expected values recorded from the engine with fast
/// operators off and `/` an overload of the built-in symbol.
#[test]
fn division_parses_and_divides_as_before() {
    let host = kam_script::ScriptHost::default();
    let eval = |src: &str| host.eval_source("div.rhai", src).map(|v| v.to_string());
    for (src, want) in [
        ("2 * 3 / 4", "1.5"),
        ("12 / 2 / 3", "2"),
        ("1 + 6 / 3 - 1", "2"),
        ("6 / 3 ** 2", "0.6666666666666666666666666667"),
        ("2 ** 3 / 3", "2.6666666666666666666666666667"),
        ("-6 / 4", "-1.5"),
        ("-(6 / 4)", "-1.5"),
        ("7 / 2 * 2", "7.0"),
        ("1 / 3 * 3", "0.9999999999999999999999999999"),
        ("10 % 3 / 2", "0.5"),
        ("5 / 2 % 2", "0.5"),
        ("1 - 2 / 4 - 1", "-0.5"),
        ("100 / 7 / 7", "2.0408163265306122448979591837"),
        ("1.5 / 2", "0.750"),
        ("3 / 1.5", "2.0"),
        ("1.50 / 0.5", "3.0"),
        ("0x10 / 4", "4"),
        ("let x = 9; (x + 1) / (x - 5)", "2.5"),
        ("let a = [1]; a[0] / 4", "0.25"),
        ("6 / 3 == 2", "true"),
        ("!(1 / 2 > 0)", "false"),
        ("[8, 4].map(|v| v / 16)", "[0.5, 0.25]"),
        ("let r = 0.94 < 1 && 2 / 4 < 1; r", "true"),
        ("let x = 7.0; x = x / 2; x", "3.5"),
        ("(money(10, \"EUR\") / 4).amount", "2.50"),
    ] {
        assert_eq!(eval(src).unwrap(), want, "{src}");
    }
    for (src, msg, col) in [
        ("1.5 / 0", "Division by zero: 1.5 / 0", 5),
        ("2 / 0.0", "Division by zero: 2 / 0.0", 3),
        (
            "79228162514264337593543950335 / 0.1",
            "Division overflow: 79228162514264337593543950335 / 0.1",
            31,
        ),
        ("\"a\" / 2", "Function not found: / (", 5),
    ] {
        let e = eval(src).unwrap_err();
        assert!(e.message.contains(msg), "{src}: {}", e.message);
        assert_eq!((e.line, e.column), (Some(1), Some(col)), "{src}");
    }
}

/// Range errors name the argument as `ANALYST_API.md` spells it, and a domain message is
/// prefixed with its function once.
#[test]
fn range_errors_name_the_documented_argument() {
    for (src, want) in [
        (
            "nash_price(100, 200, 1.5)",
            "nash_price: argument `seller_power`: must be between 0 and 1, got 1.5",
        ),
        (
            "gainshare(2.5, 2.3, 100, 120)",
            "gainshare: argument `provider_share_pct`: must be between 0 and 100, got 120",
        ),
        (
            "otif(1, 0)",
            "otif: argument `total`: must be greater than 0, got 0",
        ),
        (
            "otif(5, 3)",
            "otif: argument `on_time_in_full`: must not exceed total 3, got 5",
        ),
        (
            "otif(-1, 3)",
            "otif: argument `on_time_in_full`: must not be negative, got -1",
        ),
        (
            r#"percentile([1, 2], 1.5, "linear")"#,
            "percentile: argument `q`: must be between 0 and 1, got 1.5",
        ),
        (
            r#"percentile([], 0.5, "linear")"#,
            "percentile: argument `values`: must not be empty",
        ),
        (
            "pert(0, 5, 10).quantile(2)",
            "quantile: argument `q`: must be between 0 and 1, got 2",
        ),
        (
            "pipeline().exact().quantile(-0.1)",
            "quantile: argument `q`: must be between 0 and 1, got -0.1",
        ),
        (
            r#"let p = pipeline(); p.deal("a", 10, 1.2)"#,
            "pipeline.deal: argument `win_probability`: must be between 0 and 1, got 1.2",
        ),
    ] {
        let e = err(src);
        assert_eq!(e.message, want, "{src}");
        assert_eq!(e.line, Some(1), "{src}");
    }
    let e = err("grade(101, [#{ name: \"A\", up_to: 100 }])");
    assert!(
        e.message.starts_with("grade: ") && !e.message.contains("grade: grade:"),
        "{e}"
    );
}

// ---------------------------------------------------------------- stakeholder graph

/// A score of `pagerank`'s result map as a decimal.
fn score(map: &rhai::Map, id: &str) -> Decimal {
    map.get(id)
        .unwrap_or_else(|| panic!("no score for {id}: {map:?}"))
        .as_decimal()
        .unwrap()
}

#[test]
fn pagerank_reproduces_networkx() {
    // Source: networkx, networkx/algorithms/link_analysis/tests/test_pagerank.py,
    // TestPageRank.setup_class (Langville & Meyer's example; node 2 dangling), alpha 0.9,
    // expected values as published there (8 places).
    let r = eval(
        "pagerank([[1, 2], [1, 3], [3, 1], [3, 2], [3, 5], [4, 5], [4, 6], [5, 4], [5, 6], [6, 4]], 0.9)",
    )
    .cast::<rhai::Map>();
    assert_eq!(r.len(), 6);
    for (id, want) in [
        ("1", dec!(0.03721197)),
        ("2", dec!(0.05395735)),
        ("3", dec!(0.04150565)),
        ("4", dec!(0.37508082)),
        ("5", dec!(0.20599833)),
        ("6", dec!(0.28624589)),
    ] {
        let got = score(&r, id);
        assert!((got - want).abs() < dec!(1e-6), "{id}: {got} vs {want}");
    }
    // Summing to exactly 1, as the script sees it.
    assert_eq!(
        d(
            "let r = pagerank([[1, 2], [1, 3], [3, 1], [3, 2], [3, 5], [4, 5], [4, 6], [5, 4], [5, 6], [6, 4]], 0.9); \
           let s = 0; for v in r.values() { s += v; } s"
        ),
        dec!(1)
    );
}

#[test]
fn pagerank_weighted_undirected_and_edge_cases() {
    // An undirected path a – b – c given as both directions. By symmetry PR(a) = PR(c)
    // and PR(b) = 1 − 2·PR(a); PR(a) = (1 − d)/3 + d·PR(b)/2 gives
    // PR(a) = ((1 − d)/3 + d/2)/(1 + d) = 0.475/1.85 = 0.256756756756… (hand-solved).
    let r = eval(r#"pagerank([["a", "b"], ["b", "a"], ["b", "c"], ["c", "b"]], 0.85)"#).cast::<rhai::Map>();
    // The iteration stops within 1e-12 (L1) of the exact ranking, then rounds to 12 places.
    for (id, want) in [
        ("a", dec!(0.256756756756757)),
        ("c", dec!(0.256756756756757)),
        ("b", dec!(0.486486486486486)),
    ] {
        assert!(
            (score(&r, id) - want).abs() <= dec!(2e-12),
            "{id}: {}",
            score(&r, id)
        );
    }
    // Weighted, with parallel edges (weights add) and a self-loop (kept). Source:
    // networkx 3.6 pagerank of the MultiDiGraph with these weighted edges, alpha 0.85.
    let r = eval(
        r#"pagerank([["a", "b", 1], ["a", "b", 2], ["a", "c"], ["b", "c", 0.5], ["c", "a"], ["c", "c", 2], ["d", "a", 1.0]], 0.85)"#,
    )
    .cast::<rhai::Map>();
    for (id, want) in [
        ("a", dec!(0.226412409278)),
        ("b", dec!(0.181837910915)),
        ("c", dec!(0.554249679806)),
        ("d", dec!(0.0375)),
    ] {
        assert!((score(&r, id) - want).abs() < dec!(1e-9), "{id}");
    }
    // Integer and string ids are the same node when their text is the same.
    let r = eval(r#"pagerank([[1, "1"], [1, 2.0]], 0.5)"#).cast::<rhai::Map>();
    assert_eq!(r.keys().map(|k| k.to_string()).collect::<Vec<_>>(), ["1", "2"]);
    // No edges, no nodes; alpha 0 is uniform; the same call gives the same map.
    assert_eq!(eval("pagerank([], 0.85)").cast::<rhai::Map>().len(), 0);
    assert_eq!(
        d(r#"pagerank([["a", "b"], ["b", "c"]], 0)["c"]"#),
        dec!(0.333333333333)
    );
    let src = "pagerank([[1, 2], [2, 3], [3, 1], [3, 4], [4, 2]], 0.85)";
    assert_eq!(eval(src).to_string(), eval(src).to_string());
}

#[test]
fn pagerank_errors_name_the_argument() {
    for (src, want) in [
        (
            "pagerank([[1, 2, 0]], 0.85)",
            "pagerank: argument `edges[0][2]`: weight must be positive, got 0",
        ),
        (
            "pagerank([[1, 2], [2, 1, -1]], 0.85)",
            "pagerank: argument `edges[1][2]`: weight must be positive, got -1",
        ),
        (
            r#"pagerank([[1, 2, "heavy"]], 0.85)"#,
            "pagerank: argument `edges[0][2]`: must be a number",
        ),
        (
            "pagerank([[1, 2]], 1)",
            "pagerank: argument `alpha`: must be in [0, 1), got 1",
        ),
        (
            "pagerank([[1, 2]], -0.1)",
            "pagerank: argument `alpha`: must be in [0, 1), got -0.1",
        ),
        (
            "pagerank([[1]], 0.85)",
            "pagerank: argument `edges[0]`: must be [from, to] or [from, to, weight]",
        ),
        (
            "pagerank([1], 0.85)",
            "pagerank: argument `edges[0]`: must be [from, to] or [from, to, weight]",
        ),
        (
            "pagerank([[1.5, 2]], 0.85)",
            "pagerank: argument `edges[0][0]`: a node id must be a string or an integer",
        ),
        (
            "pagerank(#{}, 0.85)",
            "pagerank: argument `edges`: must be an array",
        ),
    ] {
        let e = err(src);
        assert!(e.message.starts_with(want), "{src}: {}", e.message);
        assert_eq!(e.line, Some(1), "{src}");
    }
}

// ---------------------------------------------------------------- solution delivery

/// The document's example, verbatim.
const DOC_PROJECT: &str = r#"
let p = project();
p.task("design", #{ optimistic: 2, most_likely: 3, pessimistic: 6 });           // durations in any unit
p.task("build", #{ optimistic: 4, most_likely: 6, pessimistic: 12, after: ["design"] });
"#;

/// Heizer & Render, *Operations Management*, ch. 3: Milwaukee Paper Manufacturing
/// (three-time estimates in weeks). Worked by hand in kam-core's delivery tests:
/// critical path A–C–E–G–H, 15 weeks, variance 112/36, slack B 1, D 1, F 6.
const MILWAUKEE: &str = r#"
let p = project();
p.task("A", #{ optimistic: 1, most_likely: 2, pessimistic: 3 });
p.task("B", #{ optimistic: 2, most_likely: 3, pessimistic: 4 });
p.task("C", #{ optimistic: 1, most_likely: 2, pessimistic: 3, after: ["A"] });
p.task("D", #{ optimistic: 2, most_likely: 4, pessimistic: 6, after: ["A", "B"] });
p.task("E", #{ optimistic: 1, most_likely: 4, pessimistic: 7, after: ["C"] });
p.task("F", #{ optimistic: 1, most_likely: 2, pessimistic: 9, after: ["C"] });
p.task("G", #{ optimistic: 3, most_likely: 4, pessimistic: 11, after: ["D", "E"] });
p.task("H", #{ optimistic: 1, most_likely: 2, pessimistic: 3, after: ["F", "G"] });
"#;

#[test]
fn project_as_documented() {
    // design: mean (2 + 12 + 6)/6 = 10/3, variance (4/6)²; build: (4 + 24 + 12)/6 = 20/3,
    // variance (8/6)². Mean 10, sd √80/6.
    assert_eq!(
        s(&format!("{DOC_PROJECT} p.critical_path()")),
        r#"["design", "build"]"#
    );
    assert_eq!(d(&format!("{DOC_PROJECT} p.expected_duration()")), dec!(10));
    let sd = d(&format!("{DOC_PROJECT} p.std_dev()"));
    assert!(
        (sd - dec!(1.490711984999859797606115779)).abs() < dec!(1e-25),
        "{sd}"
    );
    // Φ(2/(√80/6)) = 0.91014375256050007894 (mpmath, 20 places).
    assert_eq!(
        d(&format!("{DOC_PROJECT} p.prob_within(12)")),
        dec!(0.91014375256050007894)
    );
    // 10 + z(0.95)·√80/6 = 12.452003015267048777… (mpmath)
    let due = d(&format!("{DOC_PROJECT} p.due_date(0.95)"));
    assert!(
        (due - dec!(12.452003015267048777031939)).abs() < dec!(1e-18),
        "{due}"
    );
    assert_eq!(d(&format!("{DOC_PROJECT} p.slack(\"design\")")), dec!(0));
    let sim = format!("{DOC_PROJECT} let s = p.simulate(20000, 7);");
    let mean = d(&format!("{sim} s.mean"));
    // The sum of two PERT draws has mean 10 and sd √80/6 ≈ 1.49: within 5·1.49/√20000.
    assert!((mean - dec!(10)).abs() < dec!(0.053), "{mean}");
    let q90 = d(&format!("{sim} s.quantile(0.9)"));
    assert!(q90 > dec!(11) && q90 < dec!(13), "{q90}");
    let late = d(&format!("{sim} s.prob_at_least(15)"));
    assert!(late < dec!(0.01), "{late}");
    // Same seed, same numbers.
    assert_eq!(d(&format!("{sim} s.quantile(0.9)")), q90);
}

#[test]
fn project_textbook_network() {
    assert_eq!(
        s(&format!("{MILWAUKEE} p.critical_path()")),
        r#"["A", "C", "E", "G", "H"]"#
    );
    assert_eq!(d(&format!("{MILWAUKEE} p.expected_duration()")), dec!(15));
    for (id, slack) in [("A", 0), ("B", 1), ("D", 1), ("F", 6), ("H", 0)] {
        assert_eq!(
            d(&format!("{MILWAUKEE} p.slack(\"{id}\")")),
            Decimal::from(slack),
            "{id}"
        );
    }
    // Φ(1/(√112/6)) = 0.71462480597091301238 (mpmath); the book's .7157 rounds z to 0.57.
    assert_eq!(
        d(&format!("{MILWAUKEE} p.prob_within(16)")),
        dec!(0.71462480597091301238)
    );
    // The simulated mean exceeds the PERT mean: near-critical chains (E[max] ≥ max E).
    let mean = d(&format!("{MILWAUKEE} p.simulate(20000, 1).mean"));
    assert!(mean > dec!(15), "{mean}");
}

#[test]
fn project_ties_boundaries_and_forward_references() {
    // Two chains of mean 4 after "start": the wider (y, variance 1) is critical.
    let tie = r#"
        let p = project();
        p.task("start", #{ optimistic: 1, most_likely: 1, pessimistic: 1 });
        p.task("x", #{ optimistic: 3, most_likely: 4, pessimistic: 5, after: ["start"] });
        p.task("y", #{ optimistic: 1, most_likely: 4, pessimistic: 7, after: ["start"] });
        p.task("end", #{ optimistic: 1, most_likely: 1, pessimistic: 1, after: ["x", "y"] });
    "#;
    assert_eq!(s(&format!("{tie} p.critical_path()")), r#"["start", "y", "end"]"#);
    assert_eq!(d(&format!("{tie} p.std_dev()")), dec!(1));
    assert_eq!(d(&format!("{tie} p.slack(\"x\")")), dec!(0));
    // sd 0: finishing within the mean is certain, a moment earlier impossible.
    let fixed = r#"let p = project(); p.task("a", #{ optimistic: 3, most_likely: 3, pessimistic: 3 });"#;
    assert_eq!(d(&format!("{fixed} p.prob_within(3)")), dec!(1));
    assert_eq!(d(&format!("{fixed} p.prob_within(2.99)")), dec!(0));
    assert_eq!(d(&format!("{fixed} p.due_date(0.95)")), dec!(3));
    // A task may name one added later; a milestone may leave out its zero durations.
    let later = r#"
        let p = project();
        p.task("build", #{ optimistic: 4, most_likely: 6, pessimistic: 12, after: ["design"] });
        p.task("design", #{ optimistic: 2, most_likely: 3, pessimistic: 6, owner: "solution design" });
        p.task("go-live", #{ milestone: true, after: ["build"] });
    "#;
    assert_eq!(
        s(&format!("{later} p.critical_path()")),
        r#"["design", "build", "go-live"]"#
    );
    assert_eq!(d(&format!("{later} p.expected_duration()")), dec!(10));
    // Adding a task after an analysis is seen by the next one.
    assert_eq!(
        d(&format!(
            "{DOC_PROJECT} let a = p.expected_duration(); \
             p.task(\"test\", #{{ optimistic: 1, most_likely: 1, pessimistic: 1, after: [\"build\"] }}); \
             p.expected_duration() - a"
        )),
        dec!(1)
    );
    // An empty project takes no time.
    assert_eq!(d("project().expected_duration()"), dec!(0));
}

#[test]
fn project_errors_name_the_task_and_function() {
    for (src, want) in [
        (
            r#"let p = project(); p.task("a", #{ optimistic: 3, most_likely: 2, pessimistic: 4 });"#,
            r#"project.task: argument `spec`: task "a": need optimistic ≤ most_likely ≤ pessimistic, got 3, 2, 4"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 5, pessimistic: 4 });"#,
            r#"project.task: argument `spec`: task "a": need optimistic ≤ most_likely ≤ pessimistic, got 1, 5, 4"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: -1, most_likely: 2, pessimistic: 4 });"#,
            r#"project.task: argument `spec.optimistic`: task "a": optimistic must not be negative, got -1"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: 3 }); p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: 3 });"#,
            r#"project.task: argument `id`: task "a" is already in the project"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 2 });"#,
            r#"project.task: argument `spec`: task "a": missing field `pessimistic`"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: "x" });"#,
            r#"project.task: argument `spec.pessimistic`: task "a": must be a number, got string"#,
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: 3, afer: [] });"#,
            "project.task: argument `spec`: unknown field `afer`",
        ),
        (
            r#"let p = project(); p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: 3 });
               p.task("b", #{ optimistic: 1, most_likely: 2, pessimistic: 3, after: ["x"] });
               p.critical_path()"#,
            r#"project.critical_path: task "b": after names unknown task "x""#,
        ),
        (
            r#"let p = project();
               p.task("a", #{ optimistic: 1, most_likely: 2, pessimistic: 3, after: ["b"] });
               p.task("b", #{ optimistic: 1, most_likely: 2, pessimistic: 3, after: ["a"] });
               p.expected_duration()"#,
            r#"project.expected_duration: tasks "a", "b" wait for each other in a cycle"#,
        ),
        (
            &format!("{DOC_PROJECT} p.slack(\"deploy\")"),
            r#"project.slack: argument `id`: no task "deploy" in the project"#,
        ),
        (
            &format!("{DOC_PROJECT} p.due_date(1)"),
            "project.due_date: argument `q`: must be in (0, 1), got 1",
        ),
        (
            &format!("{DOC_PROJECT} p.simulate(0, 7)"),
            "project.simulate: run options: paths must be at least 1",
        ),
        (
            &format!("{DOC_PROJECT} p.simulate(100000000000, 7)"),
            "project.simulate: argument `paths`: at most 10000000 paths in one call, got 100000000000",
        ),
    ] {
        let e = err(src);
        assert!(e.message.starts_with(want), "{src}:\n{}\n{want}", e.message);
        assert!(e.line.is_some(), "{src}");
    }
}

#[test]
fn simulate_is_bounded_before_allocating() {
    // Used to abort the whole process trying to reserve 1.6 TB.
    let e = err(&format!("{PIPELINE} p.simulate(100000000000, 1)"));
    assert!(
        e.message
            .starts_with("pipeline.simulate: argument `paths`: at most 10000000 paths in one call"),
        "{}",
        e.message
    );
}

#[test]
fn a_long_simulation_stops_at_the_scripts_wall_clock_limit() {
    // 10 million paths take seconds; a script allowed 300 ms must not run on past that
    // inside the native call.
    let host = ScriptHost::new(kam_script::Limits {
        wall_clock: std::time::Duration::from_millis(300),
        ..kam_script::Limits::default()
    });
    for call in ["p.simulate(10000000, 1)", "pipeline().simulate(10000000, 1)"] {
        let start = std::time::Instant::now();
        let src = format!("{PIPELINE} {call}");
        let e = host.eval_source("long.rhai", &src).expect_err(&src);
        let took = start.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "{call} took {took:?}");
        assert!(
            e.message
                .contains("pipeline.simulate: stopped at its deadline after"),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("of 10000000 paths"), "{}", e.message);
    }
    let project = host
        .eval_source("long.rhai", &format!("{DOC_PROJECT} p.simulate(10000000, 7)"))
        .expect_err("project");
    assert!(
        project
            .message
            .contains("project.simulate: stopped at its deadline after"),
        "{}",
        project.message
    );
}
