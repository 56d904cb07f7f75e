//! Pricing engine end to end: the shared worked examples, invariants as proptest
//! properties, typed errors for bad input, rules, and serde round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kam_core::Decimal;
use kam_core::money::{Currency, FxRate, Money, MoneyError, RoundingLevel, RoundingMode, RoundingPolicy};
use kam_core::pricing::*;
use kam_core::rules::{
    FnPricingRule, PriceAdjustment, PricingInput, PricingRule, RuleError, RuleErrorKind, RuleHost,
};
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A rate dated 2 January 2026 (built through serde so the test needs no chrono import).
fn fx(from: &str, to: &str, rate: &str) -> FxRate {
    serde_json::from_str(&format!(
        r#"{{"from":"{from}","to":"{to}","rate":"{rate}","as_of":"2026-01-02"}}"#
    ))
    .unwrap()
}

fn eur() -> Currency {
    Currency::from_code("EUR").unwrap()
}

/// Source: shared/vectors/pricing.toml [tiers].bands
fn vector_tiers() -> Vec<Tier> {
    vec![
        Tier::up_to(d("10000"), d("0.70")),
        Tier::up_to(d("25000"), d("0.60")),
        Tier::unbounded(d("0.50")),
    ]
}

fn tier_card(method: TierMethod) -> RateCard {
    let mut card = RateCard::new(eur());
    card.tiered("pick_line", method, vector_tiers()).unwrap();
    card
}

// ------------------------------------------------------------------ shared vectors

#[test]
fn vector_rate_card_month() {
    // Source: shared/vectors/pricing.toml [rate_card_month] (EUR, per line half_up).
    let lines = [
        ("pallet_in", "1200", "4.50", "5400.00"),
        ("storage_pallet_week", "12500", "1.40", "17500.00"),
        ("pick_line", "18000", "0.65", "11700.00"),
        ("order", "2400", "2.10", "5040.00"),
        ("vas_hour", "160", "38.00", "6080.00"),
        ("transport_km", "3150", "1.85", "5827.50"),
    ];
    let mut card = RateCard::from_code("EUR").unwrap();
    for (activity, _, rate, _) in lines {
        card.flat(activity, d(rate)).unwrap();
    }
    assert_eq!(
        card.rounding(),
        RoundingPolicy::new(RoundingMode::HalfUp, RoundingLevel::Line)
    );
    let q = card.price(lines.iter().map(|(a, q, _, _)| (*a, d(q)))).unwrap();
    for (activity, quantity, rate, amount) in lines {
        let line = q.line(activity).unwrap();
        assert_eq!(line.quantity, d(quantity));
        assert_eq!(line.billed_quantity, d(quantity));
        assert_eq!(line.rates[0].rate, d(rate));
        assert_eq!(line.amount, Money::new(d(amount), eur()));
        assert_eq!(q.amount(activity).unwrap().amount(), d(amount));
    }
    assert_eq!(q.total().amount(), d("51547.50"));
    assert_eq!(q.total().amount().to_string(), "51547.50");
    assert!(q.warnings().is_empty());
    assert_eq!(
        q.line("transport_km").unwrap().explanation,
        "3,150 transport_km: 3,150 × 1.85 = 5,827.50"
    );
    assert_eq!(
        q.line("storage_pallet_week").unwrap().unit,
        UnitOfMeasure::PalletWeek
    );
    assert_eq!(q.line("vas_hour").unwrap().unit, UnitOfMeasure::Hour);
}

#[test]
fn vector_tiers_graduated_and_all_units() {
    // Source: shared/vectors/pricing.toml [tiers].cases
    let cases = [
        ("18000", "11800.00", "10800.00"),
        ("10000", "7000.00", "7000.00"),
        ("10001", "7000.60", "6000.60"),
        ("30000", "18500.00", "15000.00"),
    ];
    let graduated = tier_card(TierMethod::Graduated);
    let all_units = tier_card(TierMethod::AllUnits);
    for (quantity, g, a) in cases {
        let qg = graduated.price([("pick_line", d(quantity))]).unwrap();
        let qa = all_units.price([("pick_line", d(quantity))]).unwrap();
        assert_eq!(qg.total().amount(), d(g), "graduated {quantity}");
        assert_eq!(qa.total().amount(), d(a), "all-units {quantity}");
        assert!(qg.warnings().is_empty(), "graduated never warns");
    }
    let q = graduated.price([("pick_line", d("18000"))]).unwrap();
    assert_eq!(
        q.lines()[0].explanation,
        "18,000 pick_line: 10,000 × 0.70 + 8,000 × 0.60 = 11,800.00"
    );
    let q = all_units.price([("pick_line", d("18000"))]).unwrap();
    assert_eq!(
        q.lines()[0].explanation,
        "18,000 pick_line: 18,000 × 0.60 (all units, tier 2 up to 25,000) = 10,800.00"
    );
}

#[test]
fn vector_all_units_cliff_is_flagged() {
    // Source: shared/vectors/pricing.toml [tiers].cases — 10,001 "the all-units cliff".
    let card = tier_card(TierMethod::AllUnits);
    let q = card.price([("pick_line", d("10001"))]).unwrap();
    assert_eq!(q.warnings().len(), 1);
    let w = &q.warnings()[0];
    assert_eq!(w.activity, "pick_line");
    assert_eq!(w.kind, WarningKind::AllUnitsCliff(CliffSide::Above));
    assert!(w.message.contains("10,001 costs 6,000.60"), "{}", w.message);
    assert!(w.message.contains("10,000 costs (7,000.00)"), "{}", w.message);
    // Just below the bound, more volume would be cheaper.
    let q = card.price([("pick_line", d("9999"))]).unwrap();
    assert_eq!(q.warnings()[0].kind, WarningKind::AllUnitsCliff(CliffSide::Below));
    // Far from any bound: no warning.
    assert!(
        card.price([("pick_line", d("18000"))])
            .unwrap()
            .warnings()
            .is_empty()
    );
}

#[test]
fn vector_minimum_commitment() {
    // Source: shared/vectors/pricing.toml [minimum_commitment]
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.65")).unwrap();
    card.minimum("pick_line", d("20000")).unwrap();
    let q = card.price([("pick_line", d("18000"))]).unwrap();
    let line = &q.lines()[0];
    assert_eq!(line.quantity, d("18000"));
    assert_eq!(line.billed_quantity, d("20000"));
    assert_eq!(line.amount.amount(), d("13000.00"));
    assert_eq!(q.total().amount(), d("13000.00"));
    assert_eq!(
        line.explanation,
        "18,000 pick_line (minimum 20,000, shortfall 2,000 billed): 20,000 × 0.65 = 13,000.00"
    );
    assert_eq!(q.warnings()[0].kind, WarningKind::MinimumShortfall);
    let bill = card.bill_periods("pick_line", &[d("18000")]).unwrap();
    assert_eq!(bill.periods[0].shortfall_amount, d("1300.00"));
    assert_eq!(bill.periods[0].shortfall_quantity, d("2000"));
    assert_eq!(bill.periods[0].amount_due, d("13000.00"));
}

#[test]
fn vector_cost_plus_and_markup_margin() {
    // Source: shared/vectors/pricing.toml [cost_plus]
    let cost = Money::new(d("190000"), eur());
    let price = cost_plus(&cost, Markup::from_pct(d("6"))).unwrap();
    assert_eq!(price.round(RoundingMode::HalfUp).amount(), d("201400.00"));
    let margin = markup_to_margin(d("6")).unwrap();
    assert_eq!(margin.round_dp(6), d("5.660377"));
    // The vector's full value (28 digits) is 6/106 × 100 rounded differently; compare at 6 dp
    // as it says, and check the exact identity instead.
    assert_eq!(margin * d("106"), d("600"));
    assert_eq!(
        Markup::from_pct(d("6")).to_margin().unwrap(),
        Margin::from_pct(margin)
    );
}

#[test]
fn vector_fixed_plus_variable() {
    // Source: shared/vectors/pricing.toml [fixed_plus_variable]
    assert_eq!(
        fixed_plus_variable(d("40000"), d("18000"), d("0.55")).unwrap(),
        d("49900.00")
    );
    let fv = FixedPlusVariable {
        fixed: d("40000"),
        rate: d("0.55"),
    };
    assert_eq!(fv.charge(d("18000")).unwrap(), d("49900"));
}

#[test]
fn vector_gainshare() {
    // Source: shared/vectors/pricing.toml [gainshare]
    for (actual, share) in [("1.08", "1080.00"), ("1.26", "-540.00")] {
        assert_eq!(
            gainshare(d("1.20"), d(actual), d("18000"), d("50")).unwrap(),
            d(share),
            "{actual}"
        );
    }
}

#[test]
fn vector_indexation() {
    // Source: shared/vectors/pricing.toml [indexation]
    let clause = IndexClause {
        fixed_share: d("0.15"),
        indices: vec![
            IndexComponent {
                name: "labour".into(),
                weight: d("0.60"),
                base: d("100.0"),
                current: d("104.2"),
            },
            IndexComponent {
                name: "cpi".into(),
                weight: d("0.25"),
                base: d("118.3"),
                current: d("122.0"),
            },
        ],
    };
    assert_eq!(clause.factor().unwrap().round_dp(7), d("1.0330191"));
    assert_eq!(clause.escalate(d("0.65")).unwrap().round_dp(4), d("0.6715"));
    // The same through a card: rates rounded to 4 decimals on escalation.
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.65")).unwrap();
    let escalated = card.escalate(clause.factor().unwrap(), Some(4)).unwrap();
    assert_eq!(
        escalated.activity("pick_line").unwrap().schedule,
        Schedule::Flat { rate: d("0.6715") }
    );
}

#[test]
fn vector_rounding_three_lines() {
    // Source: shared/vectors/pricing.toml [rounding].three_lines — three lines of 0.335.
    let price_under = |mode, level| {
        let mut card = RateCard::new(eur());
        card.set_rounding(RoundingPolicy::new(mode, level));
        for a in ["a_line", "b_line", "c_line"] {
            card.flat(a, d("0.335")).unwrap();
        }
        card.price([("a_line", d("1")), ("b_line", d("1")), ("c_line", d("1"))])
            .unwrap()
            .total()
            .amount()
    };
    assert_eq!(price_under(RoundingMode::HalfUp, RoundingLevel::Line), d("1.02"));
    assert_eq!(price_under(RoundingMode::HalfUp, RoundingLevel::Total), d("1.01"));
    assert_eq!(
        price_under(RoundingMode::HalfEven, RoundingLevel::Total),
        d("1.00")
    );
}

#[test]
fn vector_rounding_cases_and_minor_units() {
    // Source: shared/vectors/pricing.toml [rounding].cases and .minor_units
    for (value, even, up) in [
        ("2.345", "2.34", "2.35"),
        ("-2.345", "-2.34", "-2.35"),
        ("0.125", "0.12", "0.13"),
    ] {
        for (mode, want) in [(RoundingMode::HalfEven, even), (RoundingMode::HalfUp, up)] {
            let mut card = RateCard::new(eur());
            card.set_rounding(RoundingPolicy::new(mode, RoundingLevel::Line));
            card.flat("unit", d(value).abs()).unwrap();
            let mut q = card.price([("unit", d("1"))]).unwrap();
            if value.starts_with('-') {
                // A negative amount reaches a quote as an adjustment.
                q = card.price([("unit", d("0"))]).unwrap();
                q.add_adjustment(
                    "test",
                    PriceAdjustment {
                        label: "credit".into(),
                        amount: d(value),
                    },
                )
                .unwrap();
            }
            assert_eq!(q.total().amount(), d(want), "{value} {mode:?}");
        }
    }
    for (code, units, amount, billed) in [
        ("EUR", 2, "10.005", "10.01"),
        ("USD", 2, "10.005", "10.01"),
        ("JPY", 0, "10.5", "11"),
        ("KRW", 0, "10.5", "11"),
        ("BHD", 3, "10.0005", "10.001"),
        ("KWD", 3, "10.0005", "10.001"),
    ] {
        let mut card = RateCard::from_code(code).unwrap();
        assert_eq!(card.currency().minor_units(), units);
        card.flat("unit", d(amount)).unwrap();
        let q = card.price([("unit", d("1"))]).unwrap();
        assert_eq!(q.total().amount(), d(billed), "{code}");
        assert_eq!(
            q.total().amount().scale(),
            units,
            "{code} billed at its minor units"
        );
    }
}

#[test]
fn vector_contribution_layers() {
    // Source: shared/vectors/pricing.toml [contribution]
    let layers = contribution(d("51547.50"), &[d("36000"), d("9000"), d("4000")]).unwrap();
    let expected = [("15547.50", "30.16"), ("6547.50", "12.70"), ("2547.50", "4.94")];
    for (layer, (margin, pct)) in layers.iter().zip(expected) {
        assert_eq!(layer.margin, d(margin));
        assert_eq!(layer.margin_pct.unwrap().round_dp(2), d(pct));
    }
}

// ------------------------------------------------------------------ typed errors

#[test]
fn errors_name_the_offending_item() {
    let card = tier_card(TierMethod::Graduated);
    let e = card.price([("pick_line", d("-5"))]).unwrap_err();
    assert!(
        matches!(&e, PricingError::NegativeQuantity { activity, record: Some(0), .. } if activity == "pick_line")
    );
    assert!(e.to_string().contains("pick_line"), "{e}");

    let e = card
        .price([("pick_line", d("1")), ("picking", d("1"))])
        .unwrap_err();
    assert_eq!(
        e,
        PricingError::UnknownActivity {
            activity: "picking".into()
        }
    );
    assert!(e.to_string().contains("picking"));

    let mut c = RateCard::new(eur());
    let e = c
        .tiered(
            "pick_line",
            TierMethod::Graduated,
            vec![
                Tier::up_to(d("25000"), d("0.6")),
                Tier::up_to(d("10000"), d("0.7")),
            ],
        )
        .unwrap_err();
    assert!(matches!(&e, PricingError::UnsortedTiers { activity, tier: 2, .. } if activity == "pick_line"));
    let e = c
        .tiered(
            "pick_line",
            TierMethod::AllUnits,
            vec![
                Tier::up_to(d("10000"), d("0.7")),
                Tier::up_to(d("10000.0"), d("0.6")),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(&e, PricingError::OverlappingTiers { activity, tier: 2, .. } if activity == "pick_line")
    );
    let e = c
        .tiered(
            "pick_line",
            TierMethod::AllUnits,
            vec![Tier::unbounded(d("0.7")), Tier::up_to(d("5"), d("0.6"))],
        )
        .unwrap_err();
    assert!(matches!(e, PricingError::UnboundedTierNotLast { tier: 1, .. }));
    assert!(matches!(
        c.tiered("pick_line", TierMethod::AllUnits, vec![]).unwrap_err(),
        PricingError::EmptyTiers { .. }
    ));

    c.tiered(
        "pick_line",
        TierMethod::Graduated,
        vec![Tier::up_to(d("10000"), d("0.7"))],
    )
    .unwrap();
    let e = c.price([("pick_line", d("10000.01"))]).unwrap_err();
    assert_eq!(
        e,
        PricingError::QuantityAboveLastTier {
            activity: "pick_line".into(),
            quantity: d("10000.01"),
            last_up_to: d("10000")
        }
    );
    assert!(
        c.price([("pick_line", d("10000"))]).is_ok(),
        "the bound is inclusive"
    );

    let ix = |name: &str, weight: &str, base: &str| IndexComponent {
        name: name.into(),
        weight: d(weight),
        base: d(base),
        current: d("100"),
    };
    let e = index_factor(
        d("0.15"),
        &[ix("labour", "0.60", "100"), ix("cpi", "0.20", "100")],
    )
    .unwrap_err();
    assert_eq!(
        e,
        PricingError::IndexWeightsNotOne {
            fixed_share: d("0.15"),
            weights: d("0.80"),
            sum: d("0.95")
        }
    );
    let e = index_factor(d("0.15"), &[ix("labour", "0.60", "100"), ix("cpi", "0.25", "0")]).unwrap_err();
    assert_eq!(e, PricingError::ZeroBaseIndex { index: "cpi".into() });
    assert!(e.to_string().contains("cpi"));

    let e = RateCard::from_code("XYZ").unwrap_err();
    assert_eq!(
        e,
        PricingError::Money(MoneyError::UnknownCurrency { code: "XYZ".into() })
    );
    assert!(e.to_string().contains("XYZ"));
    assert!(serde_json::from_str::<RateCard>(r#"{"currency":"EURO","activities":[]}"#).is_err());

    assert!(matches!(
        RateCard::new(eur()).flat("Pick Line", d("1")).unwrap_err(),
        PricingError::InvalidActivityName { .. }
    ));
    assert!(matches!(
        RateCard::new(eur()).minimum("pick_line", d("1")).unwrap_err(),
        PricingError::UnknownActivity { .. }
    ));
    assert!(matches!(
        tier_card(TierMethod::Graduated).amount_of_missing(),
        PricingError::NotInQuote { .. }
    ));
}

trait MissingLine {
    fn amount_of_missing(&self) -> PricingError;
}

impl MissingLine for RateCard {
    fn amount_of_missing(&self) -> PricingError {
        self.price([("pick_line", d("1"))])
            .unwrap()
            .amount("order")
            .unwrap_err()
    }
}

#[test]
fn invalid_cards_are_rejected_when_read() {
    let unsorted = r#"
        currency = "EUR"
        [[activities]]
        activity = "pick_line"
        unit = "line"
        schedule = { type = "tiered", method = "graduated", tiers = [ { up_to = "25000", rate = "0.6" }, { up_to = "10000", rate = "0.7" } ] }
    "#;
    let e = toml::from_str::<RateCard>(unsorted).unwrap_err();
    assert!(e.to_string().contains("pick_line"), "{e}");
    let duplicate = r#"{"currency":"EUR","activities":[
        {"activity":"order","unit":"order","schedule":{"type":"flat","rate":"2.10"}},
        {"activity":"order","unit":"order","schedule":{"type":"flat","rate":"2.20"}}]}"#;
    assert!(
        serde_json::from_str::<RateCard>(duplicate)
            .unwrap_err()
            .to_string()
            .contains("order")
    );
    let negative_min = r#"{"currency":"EUR","activities":[
        {"activity":"order","unit":"order","schedule":{"type":"flat","rate":"2.10"},"minimum":{"quantity":"-1"}}]}"#;
    assert!(serde_json::from_str::<RateCard>(negative_min).is_err());
}

// ------------------------------------------------------------------ minimums over periods

#[test]
fn credit_banking_uses_oldest_first_and_expires() {
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.50")).unwrap();
    card.set_minimum(
        "pick_line",
        MinimumCommitment {
            quantity: d("1000"),
            banking: Some(CreditBanking {
                expires_after_periods: 2,
            }),
        },
    )
    .unwrap();
    // P1 short 400 (credit 200, usable P2–P3); P2 short 200 (credit 100, P3–P4);
    // P3 1,100: headroom 50 used from the P1 credit, the rest of it (150) expires;
    // P4 1,300: headroom 150, the P2 credit (100) used; P5 nothing left.
    let volumes = ["600", "800", "1100", "1300", "1000"].map(d);
    let bill = card.bill_periods("pick_line", &volumes).unwrap();
    let p = &bill.periods;
    assert_eq!(p[0].credit_banked, d("200.00"));
    assert_eq!(p[0].amount_due, d("500.00"));
    assert_eq!(p[1].credit_banked, d("100.00"));
    assert_eq!(p[1].credit_balance, d("300.00"));
    assert_eq!(p[2].credit_applied, d("50.00"));
    assert_eq!(p[2].credit_expired, d("150.00"));
    assert_eq!(p[2].amount_due, d("500.00"));
    assert_eq!(p[3].credit_applied, d("100.00"));
    assert_eq!(p[3].amount_due, d("550.00"));
    assert_eq!(p[3].credit_balance, d("0"));
    assert_eq!(p[4].amount_due, d("500.00"));
    assert_eq!(bill.total_shortfall, d("300.00"));
    assert_eq!(bill.total_credit_applied, d("150.00"));
    assert_eq!(bill.total_credit_expired, d("150.00"));
    assert_eq!(bill.total_due, d("2550.00"));
    // Without banking, nothing is credited.
    let mut plain = card.clone();
    plain.minimum("pick_line", d("1000")).unwrap();
    let bill = plain.bill_periods("pick_line", &volumes).unwrap();
    assert_eq!(bill.total_credit_applied, d("0"));
    assert_eq!(bill.total_due, d("2700.00"));
    assert!(card.bill_periods("pick_line", &[d("-1")]).is_err());
}

#[test]
fn minimum_only_activity_is_billed_without_volume() {
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.65")).unwrap();
    card.flat("order", d("2.10")).unwrap();
    card.minimum("order", d("100")).unwrap();
    let q = card.price([("pick_line", d("10"))]).unwrap();
    assert_eq!(q.lines().len(), 2);
    assert_eq!(q.amount("order").unwrap().amount(), d("210.00"));
    assert_eq!(q.total().amount(), d("216.50"));
}

// ------------------------------------------------------------------ rules

#[test]
fn rules_add_labelled_adjustments_under_the_policy() {
    let mut card = RateCard::new(eur());
    for a in ["a_line", "b_line"] {
        card.flat(a, d("0.335")).unwrap();
    }
    let rebate = FnPricingRule::new("rebate", |q: &PricingInput| {
        Ok(vec![PriceAdjustment {
            label: "1/3 % rebate".into(),
            amount: -q.total / d("300"),
        }])
    });
    let surcharge = FnPricingRule::new("surcharge", |q: &PricingInput| {
        assert_eq!(q.lines.len(), 2);
        Ok(vec![PriceAdjustment {
            label: "fuel".into(),
            amount: d("0.005"),
        }])
    });
    let rules: [&dyn PricingRule; 2] = [&rebate, &surcharge];
    // Per line: 0.34 + 0.34 = 0.68; rebate −0.002266… → −0.00; surcharge 0.005 → 0.01.
    let mut q = card.price([("a_line", d("1")), ("b_line", d("1"))]).unwrap();
    let input = q.to_pricing_input();
    assert_eq!(input.total, d("0.68"));
    assert_eq!(input.lines[0].amount, d("0.34"));
    q.apply_rules(&rules).unwrap();
    assert_eq!(q.adjustments().len(), 2);
    assert_eq!(q.adjustments()[0].rule, "rebate");
    assert_eq!(q.adjustments()[1].amount.amount(), d("0.01"));
    assert_eq!(q.subtotal().amount(), d("0.68"));
    assert_eq!(q.total().amount(), d("0.69"));
    // Per total: 0.67 exact; + 0.005 − 0.67/300 (input total is the rounded 0.67).
    card.set_rounding(RoundingPolicy::new(RoundingMode::HalfUp, RoundingLevel::Total));
    let mut q = card.price([("a_line", d("1")), ("b_line", d("1"))]).unwrap();
    assert_eq!(q.total().amount(), d("0.67"));
    q.apply_rules(&rules).unwrap();
    assert_eq!(q.total().amount(), d("0.67"));
    // A failing rule leaves the quote unchanged and names the rule.
    let failing = FnPricingRule::new("broken", |_: &PricingInput| {
        Err(RuleError::new(
            "broken",
            RuleHost::Native,
            RuleErrorKind::Failed,
            "no",
        ))
    });
    let before = q.clone();
    let e = q.apply_rules(&[&rebate, &failing]).unwrap_err();
    assert!(e.to_string().contains("broken"));
    assert_eq!(q, before);
    // An overflowing adjustment is a typed error, quote unchanged.
    let huge = FnPricingRule::new("huge", |_: &PricingInput| {
        Ok(vec![
            PriceAdjustment {
                label: "x".into(),
                amount: Decimal::MAX
            };
            2
        ])
    });
    assert!(matches!(
        q.apply_rules(&[&huge]),
        Err(PricingError::Arithmetic(_))
    ));
    assert_eq!(q, before);
}

// ------------------------------------------------------------------ commercial clauses

#[test]
fn gainshare_deadband_and_caps() {
    let g = Gainshare {
        baseline_unit_cost: d("1.20"),
        provider_share_pct: d("50"),
        pain_share_pct: Some(d("25")),
        deadband_pct: d("2"),
        gain_cap: Some(d("800")),
        pain_cap: None,
    };
    // Baseline 21,600; band 432. Saving 2,160 → shared 1,728 → 864, capped at 800.
    let o = g.settle(d("1.08"), d("18000")).unwrap();
    assert_eq!(o.shared_saving, d("1728"));
    assert_eq!(o.provider_share, d("800"));
    assert!(o.capped);
    assert_eq!(o.customer_share, d("1360"));
    // Overrun 1,080 → shared −648 → provider bears 25 %: −162.
    assert_eq!(g.settle(d("1.26"), d("18000")).unwrap().provider_share, d("-162"));
    // Inside the band: nothing shared.
    assert_eq!(g.settle(d("1.19"), d("18000")).unwrap().provider_share, d("0"));
    assert!(gainshare(d("1.2"), d("1.1"), d("10"), d("101")).is_err());
}

#[test]
fn fuel_surcharge_bands_and_ceiling() {
    let mut bands = FuelSurcharge {
        base: d("1.50"),
        step: d("0.05"),
        pct_per_step: d("0.5"),
        ceiling_pct: Some(d("2")),
    };
    assert_eq!(fuel_surcharge_pct(d("1.50"), &bands).unwrap(), d("0"));
    assert_eq!(fuel_surcharge_pct(d("1.51"), &bands).unwrap(), d("0.5"));
    assert_eq!(fuel_surcharge_pct(d("1.55"), &bands).unwrap(), d("0.5"));
    assert_eq!(fuel_surcharge_pct(d("1.56"), &bands).unwrap(), d("1.0"));
    assert_eq!(fuel_surcharge_pct(d("2.50"), &bands).unwrap(), d("2"));
    assert_eq!(fuel_surcharge_pct(d("0.90"), &bands).unwrap(), d("0"));
    let transport = Money::new(d("5827.50"), eur());
    assert_eq!(
        bands.surcharge(d("1.56"), &transport).unwrap().amount(),
        d("58.275")
    );
    bands.step = d("0");
    assert!(matches!(
        fuel_surcharge_pct(d("2"), &bands),
        Err(PricingError::InvalidParameter { .. })
    ));
}

#[test]
fn fx_clause_reprices_only_beyond_the_band() {
    let pln = Currency::from_code("PLN").unwrap();
    let clause = FxClause {
        base: fx("EUR", "PLN", "4.30"),
        deadband_pct: d("3"),
        pass_through: FxPassThrough::Full,
    };
    let price = Money::new(d("1000"), pln);
    let inside = clause.reprice(&price, &fx("EUR", "PLN", "4.42")).unwrap();
    assert!(!inside.repriced);
    assert_eq!(inside.price, price);
    // 4.60/4.30 − 1 = 6.98 % > 3 %: the PLN price follows the rate in full.
    let moved = fx("EUR", "PLN", "4.60");
    let out = clause.reprice(&price, &moved).unwrap();
    assert!(out.repriced);
    assert_eq!(out.price.amount().round_dp(2), d("1069.77"));
    // Beyond-band pass-through: only 3.98 % of it.
    let beyond = FxClause {
        pass_through: FxPassThrough::BeyondBand,
        ..clause
    };
    let out = beyond.reprice(&price, &moved).unwrap();
    assert_eq!(out.price.amount().round_dp(2), d("1039.77"));
    // A EUR price moves the other way.
    let out = clause.reprice(&Money::new(d("1000"), eur()), &moved).unwrap();
    assert_eq!(out.price.amount().round_dp(2), d("934.78"));
    let usd = Currency::from_code("USD").unwrap();
    assert!(clause.reprice(&Money::new(d("1"), usd), &moved).is_err());
}

#[test]
fn commercial_models_earn_revenue() {
    let eur_cost = Money::new(d("190000"), eur());
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.55")).unwrap();
    let volumes: Volumes = [("pick_line".to_owned(), d("18000"))].into();
    let models = [
        (CommercialModel::Transactional { card: card.clone() }, "9900.00"),
        (
            CommercialModel::CostPlus {
                markup: Markup::from_pct(d("6")),
            },
            "201400.00",
        ),
        (
            CommercialModel::ManagementFee {
                fee: FeeBasis::PercentOfCost { pct: d("5") },
            },
            "199500.00",
        ),
        (
            CommercialModel::ManagementFee {
                fee: FeeBasis::Fixed { amount: d("8000") },
            },
            "198000.00",
        ),
        (
            CommercialModel::FixedPlusVariable {
                fixed: d("40000"),
                card,
            },
            "49900.00",
        ),
    ];
    for (model, revenue) in models {
        assert_eq!(
            model.revenue(&volumes, &eur_cost).unwrap().amount(),
            d(revenue),
            "{model:?}"
        );
        let json = serde_json::to_string(&model).unwrap();
        assert_eq!(serde_json::from_str::<CommercialModel>(&json).unwrap(), model);
        let toml_text = toml::to_string(&model).unwrap();
        assert_eq!(toml::from_str::<CommercialModel>(&toml_text).unwrap(), model);
    }
    assert_eq!(
        Margin::from_pct(d("20")).price_for_cost(d("80")).unwrap(),
        d("100")
    );
    assert!(margin_to_markup(d("100")).is_err());
    assert!(markup_to_margin(d("-100")).is_err());
}

// ------------------------------------------------------------------ cost-to-serve and scenarios

fn sample_costs() -> CostModel {
    let cost = |a: &str, v: &str, f: &str, o: &str| ActivityCost {
        activity: a.into(),
        variable_per_unit: d(v),
        dedicated_fixed: d(f),
        allocated_overhead: d(o),
    };
    CostModel {
        currency: eur(),
        activities: vec![
            cost("pick_line", "0.40", "3000", "1000"),
            cost("order", "1.20", "1000", "500"),
        ],
    }
}

#[test]
fn cost_to_serve_layers_per_node_and_service_line() {
    let mut card = RateCard::new(eur());
    card.flat("pick_line", d("0.65")).unwrap();
    card.flat("order", d("2.10")).unwrap();
    let sv = |node: &str, sl: &str, a: &str, q: &str| ServedVolume {
        node: node.into(),
        service_line: sl.into(),
        activity: a.into(),
        quantity: d(q),
    };
    let volumes = vec![
        sv("leipzig", "warehousing", "pick_line", "12000"),
        sv("pune", "warehousing", "pick_line", "6000"),
        sv("leipzig", "fulfilment", "order", "2400"),
    ];
    let cts = cost_to_serve(&card, &sample_costs(), &volumes).unwrap();
    assert_eq!(cts.rows.len(), 3);
    let leipzig_wh = &cts.rows[0].contribution;
    assert_eq!(leipzig_wh.revenue, d("7800.00"));
    assert_eq!(leipzig_wh.cm1.margin, d("3000.00"));
    assert_eq!(leipzig_wh.cm2.cost, d("2000"));
    assert_eq!(leipzig_wh.cm3.margin.round_dp(2), d("333.33"));
    let total = &cts.total;
    assert_eq!(total.revenue, d("16740.00"));
    assert_eq!(total.cm1.margin, d("6660.00"));
    assert_eq!(total.cm2.margin, d("2660.00"));
    assert_eq!(total.cm3.margin, d("1160.00"));
    assert_eq!(total.cm3.margin_pct.unwrap().round_dp(2), d("6.93"));
    assert_eq!(cts.by_node[0].key, "leipzig");
    assert_eq!(cts.by_service_line.len(), 2);
    let json = serde_json::to_string(&cts).unwrap();
    assert_eq!(serde_json::from_str::<CostToServe>(&json).unwrap(), cts);
    let toml_text = toml::to_string(&cts).unwrap();
    assert_eq!(toml::from_str::<CostToServe>(&toml_text).unwrap(), cts);
    let mut missing = sample_costs();
    missing.activities.pop();
    assert_eq!(
        cost_to_serve(&card, &missing, &volumes).unwrap_err(),
        PricingError::MissingCost {
            activity: "order".into()
        }
    );
}

#[test]
fn scenario_deltas_and_sensitivity() {
    let baseline = tier_card(TierMethod::Graduated);
    let mut proposal = RateCard::new(eur());
    proposal.flat("pick_line", d("0.62")).unwrap();
    let cmp = compare(&baseline, &proposal, [("pick_line", d("18000"))]).unwrap();
    assert_eq!(cmp.lines[0].baseline, d("11800.00"));
    assert_eq!(cmp.lines[0].proposal, d("11160.00"));
    assert_eq!(cmp.total_delta, d("-640.00"));
    assert_eq!(cmp.total_delta_pct.unwrap().round_dp(2), d("-5.42"));
    let mut other = RateCard::new(eur());
    other.flat("order", d("1")).unwrap();
    assert!(matches!(
        compare(&baseline, &other, [("pick_line", d("1"))]),
        Err(PricingError::InCard { card, .. }) if card == "proposal"
    ));

    let mut costs = sample_costs();
    costs.activities.pop();
    let points = volume_sensitivity(&proposal, &costs, [("pick_line", d("18000"))], d("10"), d("5")).unwrap();
    let changes: Vec<Decimal> = points.iter().map(|p| p.change_pct).collect();
    assert_eq!(changes, ["-10", "-5", "0", "5", "10"].map(d).to_vec());
    let mid = &points[2];
    assert_eq!(mid.revenue, d("11160.00"));
    assert_eq!(mid.cost, d("11200.00"));
    assert_eq!(mid.margin, d("-40.00"));
    assert_eq!(points[4].revenue, d("12276.00"));
    assert_eq!(points[4].cost, d("11920.00")); // 19,800 × 0.40 + 3,000 + 1,000
    assert_eq!(points[4].margin, d("356.00"));
    assert!(
        volume_sensitivity(
            &proposal,
            &costs,
            [("pick_line", d("1"))],
            d("10"),
            d("0.0000001")
        )
        .is_err()
    );
    assert!(volume_sensitivity(&proposal, &costs, [("pick_line", d("1"))], d("101"), d("1")).is_err());
}

#[test]
fn records_and_accumulator_agree_with_volumes() {
    let card = tier_card(TierMethod::Graduated);
    let records: Vec<ActivityRecord> = (0..100)
        .map(|i| ActivityRecord {
            activity: "pick_line".into(),
            quantity: Decimal::from(170 + (i % 2) * 20),
        })
        .collect();
    let a = card.price_records(&records).unwrap();
    let b = card.price([("pick_line", d("18000"))]).unwrap();
    assert_eq!(a, b);
    let mut acc = card.accumulator();
    acc.add("pick_line", d("1")).unwrap();
    let e = acc.add("pick_line", d("-1")).unwrap_err();
    assert!(matches!(
        e,
        PricingError::NegativeQuantity { record: Some(1), .. }
    ));
    assert_eq!(acc.records(), 2);
}

// ------------------------------------------------------------------ serde round trips

/// JSON and TOML round trip of a value (a macro, so the test needs no serde import).
macro_rules! assert_round_trips {
    ($value:expr, $ty:ty) => {{
        let value: &$ty = $value;
        let json = serde_json::to_string(value).unwrap();
        assert_eq!(&serde_json::from_str::<$ty>(&json).unwrap(), value, "JSON {json}");
        let text = toml::to_string(value).unwrap();
        assert_eq!(&toml::from_str::<$ty>(&text).unwrap(), value, "TOML {text}");
    }};
}

type Doc<T> = std::collections::BTreeMap<String, Vec<T>>;

fn doc<T>(items: Vec<T>) -> Doc<T> {
    [("items".to_owned(), items)].into()
}

#[test]
fn every_type_round_trips() {
    let mut card = tier_card(TierMethod::AllUnits);
    card.flat("vas_hour", d("38.00")).unwrap();
    card.set_minimum(
        "pick_line",
        MinimumCommitment {
            quantity: d("5000"),
            banking: Some(CreditBanking {
                expires_after_periods: 3,
            }),
        },
    )
    .unwrap();
    assert_round_trips!(&card, RateCard);
    let mut q = card
        .price([("pick_line", d("10001")), ("vas_hour", d("2.5"))])
        .unwrap();
    q.add_adjustment(
        "manual",
        PriceAdjustment {
            label: "goodwill".into(),
            amount: d("-10"),
        },
    )
    .unwrap();
    assert_eq!(q.warnings().len(), 1);
    assert_round_trips!(&q, Quote);
    assert_round_trips!(
        &card.bill_periods("pick_line", &[d("4000"), d("9000")]).unwrap(),
        CommitmentBilling
    );
    assert_round_trips!(
        &compare(&card, &card, [("pick_line", d("100"))]).unwrap(),
        ScenarioComparison
    );
    let costs = CostModel {
        currency: eur(),
        activities: vec![ActivityCost {
            activity: "pick_line".into(),
            variable_per_unit: d("0.4"),
            dedicated_fixed: d("0"),
            allocated_overhead: d("0"),
        }],
    };
    assert_round_trips!(&costs, CostModel);
    let points = volume_sensitivity(&card, &costs, [("pick_line", d("9000"))], d("10"), d("10")).unwrap();
    assert_round_trips!(&doc(points), Doc<SensitivityPoint>);
    assert_round_trips!(&Gainshare::new(d("1.2"), d("50")), Gainshare);
    assert_round_trips!(
        &Gainshare::new(d("1.2"), d("50"))
            .settle(d("1.1"), d("10"))
            .unwrap(),
        GainshareOutcome
    );
    assert_round_trips!(
        &IndexClause {
            fixed_share: d("0.15"),
            indices: vec![IndexComponent {
                name: "cpi".into(),
                weight: d("0.85"),
                base: d("100"),
                current: d("103"),
            }],
        },
        IndexClause
    );
    assert_round_trips!(
        &FuelSurcharge {
            base: d("1.5"),
            step: d("0.05"),
            pct_per_step: d("0.5"),
            ceiling_pct: None,
        },
        FuelSurcharge
    );
    let clause = FxClause {
        base: fx("EUR", "USD", "1.08"),
        deadband_pct: d("2"),
        pass_through: FxPassThrough::BeyondBand,
    };
    assert_round_trips!(&clause, FxClause);
    let usd = Currency::from_code("USD").unwrap();
    let outcome = clause
        .reprice(&Money::new(d("100"), usd), &fx("EUR", "USD", "1.2"))
        .unwrap();
    assert_round_trips!(&outcome, FxOutcome);
    assert_round_trips!(&doc(vec![Markup::from_pct(d("6"))]), Doc<Markup>);
    assert_round_trips!(&doc(vec![Margin::from_pct(d("5.5"))]), Doc<Margin>);
    assert_round_trips!(&doc(vec![FeeBasis::Fixed { amount: d("1") }]), Doc<FeeBasis>);
    assert_round_trips!(
        &doc(vec![ActivityRecord {
            activity: "order".into(),
            quantity: d("1"),
        }]),
        Doc<ActivityRecord>
    );
    assert_round_trips!(
        &doc(vec![UnitOfMeasure::Km, UnitOfMeasure::Custom("crate_day".into())]),
        Doc<UnitOfMeasure>
    );
    assert_round_trips!(
        &FixedPlusVariable {
            fixed: d("1"),
            rate: d("2")
        },
        FixedPlusVariable
    );
    let served = ServedVolume {
        node: "leipzig".into(),
        service_line: "warehousing".into(),
        activity: "pick_line".into(),
        quantity: d("12.5"),
    };
    assert_round_trips!(&doc(vec![served]), Doc<ServedVolume>);
    let charge = card
        .activity("pick_line")
        .unwrap()
        .schedule
        .charge("pick_line", d("12000"))
        .unwrap();
    assert_round_trips!(&charge, Charge);
    let contributions = contribution(d("100"), &[d("50"), d("60")]).unwrap();
    assert_round_trips!(&doc(contributions), Doc<ContributionLayer>);
}

// ------------------------------------------------------------------ properties

fn arb_decimal() -> impl Strategy<Value = Decimal> {
    (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
        .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale))
}

/// A modest positive decimal with up to `dp` decimals.
fn arb_amount(max: i64, dp: u32) -> impl Strategy<Value = Decimal> {
    (0..=max).prop_map(move |n| Decimal::new(n, dp))
}

/// A valid graduated/all-units schedule: ascending bounds, the last tier unbounded.
fn arb_tiers() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((1i64..5_000_000, 0i64..100_000), 1..6).prop_map(|raw| {
        let mut bound = Decimal::ZERO;
        let mut tiers: Vec<Tier> = raw
            .iter()
            .map(|(width, rate)| {
                bound += Decimal::new(*width, 2);
                Tier::up_to(bound, Decimal::new(*rate, 4))
            })
            .collect();
        if let Some(last) = tiers.last_mut() {
            last.up_to = None;
        }
        tiers
    })
}

fn charge(tiers: &[Tier], method: TierMethod, q: Decimal) -> Decimal {
    Schedule::Tiered {
        method,
        tiers: tiers.to_vec(),
    }
    .charge("pick_line", q)
    .unwrap()
    .amount
}

proptest! {
    #[test]
    fn graduated_is_continuous_and_non_decreasing(
        tiers in arb_tiers(),
        a in arb_amount(10_000_000_000, 3),
        eps in arb_amount(1_000_000, 3),
    ) {
        let b = a + eps;
        let (ca, cb) = (charge(&tiers, TierMethod::Graduated, a), charge(&tiers, TierMethod::Graduated, b));
        prop_assert!(cb >= ca, "charge({b}) = {cb} < charge({a}) = {ca}");
        // Continuity (Lipschitz): the step never exceeds eps × the highest rate.
        let max_rate = tiers.iter().map(|t| t.rate).max().unwrap_or_default();
        prop_assert!(cb - ca <= eps * max_rate);
    }

    #[test]
    fn all_units_equals_graduated_in_the_first_tier(tiers in arb_tiers(), frac in 0u32..=1000) {
        let first = tiers[0].up_to.unwrap_or(Decimal::from(1_000_000));
        let q = first * Decimal::new(i64::from(frac), 3);
        prop_assert_eq!(
            charge(&tiers, TierMethod::AllUnits, q),
            charge(&tiers, TierMethod::Graduated, q)
        );
    }

    #[test]
    fn line_vs_total_rounding_is_bounded(
        lines in prop::collection::vec((arb_amount(1_000_000, 4), arb_amount(100_000, 3)), 1..12),
        half_even in any::<bool>(),
    ) {
        let mode = if half_even { RoundingMode::HalfEven } else { RoundingMode::HalfUp };
        let mut card = RateCard::new(eur());
        let names: Vec<String> = (0..lines.len()).map(|i| format!("activity_{i}")).collect();
        for (name, (rate, _)) in names.iter().zip(&lines) {
            card.flat(name, *rate).unwrap();
        }
        let volumes: Vec<(&str, Decimal)> = names.iter().map(String::as_str).zip(lines.iter().map(|l| l.1)).collect();
        card.set_rounding(RoundingPolicy::new(mode, RoundingLevel::Line));
        let per_line = card.price(volumes.iter().copied()).unwrap().total().amount();
        card.set_rounding(RoundingPolicy::new(mode, RoundingLevel::Total));
        let per_total = card.price(volumes.iter().copied()).unwrap().total().amount();
        let n = lines.len() as i64;
        let unit = d("0.01");
        // The difference is a whole number of minor units: at most ⌊n/2⌋ units under
        // half-up (within lines × half a unit) and ⌈n/2⌉ under half-even (three lines of
        // 0.015 give 0.06 vs 0.04 — see half_even_can_exceed_lines_times_half_unit).
        let units = if half_even { (n + 1) / 2 } else { n / 2 };
        let bound = unit * Decimal::from(units);
        prop_assert!(bound <= Decimal::from(n + i64::from(half_even)) * d("0.005"));
        prop_assert!((per_line - per_total).abs() <= bound, "{per_line} vs {per_total}");
    }

    #[test]
    fn line_vs_total_rounding_is_bounded_at_midpoints(
        cents in prop::collection::vec(0i64..100_000, 1..12),
        half_even in any::<bool>(),
    ) {
        // Every line exactly on a midpoint (x.xx5): the worst case for the bound.
        let mode = if half_even { RoundingMode::HalfEven } else { RoundingMode::HalfUp };
        let mut card = RateCard::new(eur());
        let names: Vec<String> = (0..cents.len()).map(|i| format!("activity_{i}")).collect();
        for (name, c) in names.iter().zip(&cents) {
            card.flat(name, Decimal::new(c * 10 + 5, 3)).unwrap();
        }
        let volumes: Vec<(&str, Decimal)> = names.iter().map(|n| (n.as_str(), Decimal::ONE)).collect();
        card.set_rounding(RoundingPolicy::new(mode, RoundingLevel::Line));
        let per_line = card.price(volumes.iter().copied()).unwrap().total().amount();
        card.set_rounding(RoundingPolicy::new(mode, RoundingLevel::Total));
        let per_total = card.price(volumes.iter().copied()).unwrap().total().amount();
        let n = cents.len() as i64;
        let units = if half_even { (n + 1) / 2 } else { n / 2 };
        prop_assert!((per_line - per_total).abs() <= d("0.01") * Decimal::from(units), "{per_line} vs {per_total}");
        if !half_even {
            prop_assert!((per_line - per_total).abs() <= d("0.005") * Decimal::from(n));
        }
    }

    #[test]
    fn markup_margin_round_trip(m in -9_999_999i64..100_000_000) {
        let markup = Markup::from_pct(Decimal::new(m, 5));
        let margin = markup.to_margin().unwrap();
        let back = margin.to_markup().unwrap();
        prop_assert!((back.pct() - markup.pct()).abs() <= d("0.000000000000000001"), "{markup} -> {margin} -> {back}");
        let price = markup.apply(d("1000")).unwrap();
        if !price.is_zero() {
            let implied = (price - d("1000")) / price * d("100");
            prop_assert!((implied - margin.pct()).abs() <= d("0.000000000000000001"));
        }
    }

    #[test]
    fn mixing_currencies_always_errors(i in 0usize..60, j in 0usize..60, amount in arb_amount(1_000_000, 2)) {
        let all: Vec<Currency> = Currency::all().collect();
        let (a, b) = (all[i % all.len()], all[j % all.len()]);
        prop_assume!(a != b);
        prop_assert!(Money::new(amount, a).checked_add(&Money::new(amount, b)).is_err());
        let (mut ca, mut cb) = (RateCard::new(a), RateCard::new(b));
        ca.flat("order", amount).unwrap();
        cb.flat("order", amount).unwrap();
        let mismatch = matches!(
            compare(&ca, &cb, [("order", amount)]),
            Err(PricingError::Money(MoneyError::CurrencyMismatch { .. }))
        );
        prop_assert!(mismatch, "comparing {} with {} must be a currency mismatch", a, b);
        let costs = CostModel { currency: b, activities: vec![] };
        prop_assert!(cost_to_serve(&ca, &costs, &[]).is_err());
        prop_assert!(volume_sensitivity(&ca, &costs, [("order", amount)], d("10"), d("5")).is_err());
    }

    #[test]
    fn any_decimal_gives_ok_or_typed_error(
        x in arb_decimal(), y in arb_decimal(), z in arb_decimal(), w in arb_decimal(),
        method in prop_oneof![Just(TierMethod::Graduated), Just(TierMethod::AllUnits)],
    ) {
        let mut card = RateCard::new(eur());
        let _ = card.flat("order", x);
        let _ = card.tiered("pick_line", method, vec![Tier::up_to(y, x), Tier::up_to(w, z), Tier::unbounded(w)]);
        let _ = card.minimum("order", z);
        let _ = card.minimum("pick_line", y);
        let _ = card.price([("order", y), ("pick_line", z)]);
        let _ = card.price([("order", w), ("pick_line", x), ("pick_line", x)]);
        let _ = card.bill_periods("order", &[x, y, z, w]);
        let _ = card.bill_periods("pick_line", &[w, z]);
        let _ = card.escalate(x, Some(4));
        if let Ok(mut q) = card.price([("order", Decimal::ONE)]) {
            let _ = q.add_adjustment("p", PriceAdjustment { label: "x".into(), amount: y });
            let _ = q.add_adjustment("p", PriceAdjustment { label: "x".into(), amount: z });
        }
        let _ = markup_to_margin(x);
        let _ = margin_to_markup(y);
        let _ = Markup::from_pct(x).apply(y);
        let _ = Margin::from_pct(x).price_for_cost(y);
        let _ = cost_plus(&Money::new(x, eur()), Markup::from_pct(y));
        let _ = fixed_plus_variable(x, y, z);
        let _ = gainshare(x, y, z, w);
        let _ = Gainshare { baseline_unit_cost: x, provider_share_pct: d("50"), pain_share_pct: None,
            deadband_pct: y, gain_cap: Some(z), pain_cap: Some(w) }.settle(z, w);
        let _ = index_factor(x, &[IndexComponent { name: "i".into(), weight: y, base: z, current: w }]);
        let _ = index_factor(d("0.5"), &[IndexComponent { name: "i".into(), weight: d("0.5"), base: z, current: w }]);
        let _ = fuel_surcharge_pct(x, &FuelSurcharge { base: y, step: z, pct_per_step: w, ceiling_pct: Some(x) });
        let _ = FeeBasis::PercentOfCost { pct: x }.open_book_price(&Money::new(y, eur()));
        let _ = contribution(x, &[y, z, w]);
        let usd = Currency::from_code("USD").unwrap();
        let (mut base, mut now) = (fx("EUR", "USD", "1"), fx("EUR", "USD", "1"));
        base.rate = x;
        now.rate = y;
        {
            let _ = FxClause { base, deadband_pct: z, pass_through: FxPassThrough::BeyondBand }
                .reprice(&Money::new(w, usd), &now);
        }
        let costs = CostModel { currency: eur(), activities: vec![
            ActivityCost { activity: "order".into(), variable_per_unit: x, dedicated_fixed: y, allocated_overhead: z },
            ActivityCost { activity: "pick_line".into(), variable_per_unit: w, dedicated_fixed: x, allocated_overhead: y },
        ]};
        let _ = volume_sensitivity(&card, &costs, [("order", x), ("pick_line", y)], z, w);
        let _ = volume_sensitivity(&card, &costs, [("order", x)], d("50"), d("25"));
        let sv = |node: &str, q| ServedVolume { node: node.into(), service_line: "wh".into(), activity: "order".into(), quantity: q };
        let _ = cost_to_serve(&card, &costs, &[sv("a", x), sv("b", y)]);
        let _ = compare(&card, &card, [("order", x), ("pick_line", w)]);
    }

    #[test]
    fn cards_and_quotes_round_trip(
        tiers in arb_tiers(),
        rate in arb_amount(1_000_000, 4),
        q1 in arb_amount(100_000_000, 2),
        q2 in arb_amount(100_000, 1),
        minimum in prop::option::of(arb_amount(10_000_000, 0)),
        all_units in any::<bool>(),
        per_total in any::<bool>(),
    ) {
        let method = if all_units { TierMethod::AllUnits } else { TierMethod::Graduated };
        let mut card = RateCard::new(eur());
        card.set_rounding(RoundingPolicy::new(RoundingMode::HalfEven,
            if per_total { RoundingLevel::Total } else { RoundingLevel::Line }));
        card.tiered("pick_line", method, tiers).unwrap();
        card.flat("storage_pallet_week", rate).unwrap();
        if let Some(m) = minimum {
            card.minimum("pick_line", m).unwrap();
        }
        let quote = card.price([("pick_line", q1), ("storage_pallet_week", q2)]).unwrap();
        prop_assert_eq!(&serde_json::from_str::<RateCard>(&serde_json::to_string(&card).unwrap()).unwrap(), &card);
        prop_assert_eq!(&toml::from_str::<RateCard>(&toml::to_string(&card).unwrap()).unwrap(), &card);
        prop_assert_eq!(&serde_json::from_str::<Quote>(&serde_json::to_string(&quote).unwrap()).unwrap(), &quote);
        prop_assert_eq!(&toml::from_str::<Quote>(&toml::to_string(&quote).unwrap()).unwrap(), &quote);
    }
}

#[test]
fn half_even_can_exceed_lines_times_half_unit() {
    // Three lines of 0.015: per line half-even 0.02 each = 0.06; total 0.045 → 0.04.
    // The difference, 0.02, is more than 3 × 0.005 — the bound is (lines + 1) × half a unit.
    let mut card = RateCard::new(eur());
    for a in ["a_line", "b_line", "c_line"] {
        card.flat(a, d("0.015")).unwrap();
    }
    let v = [("a_line", d("1")), ("b_line", d("1")), ("c_line", d("1"))];
    card.set_rounding(RoundingPolicy::new(RoundingMode::HalfEven, RoundingLevel::Line));
    assert_eq!(card.price(v).unwrap().total().amount(), d("0.06"));
    card.set_rounding(RoundingPolicy::new(RoundingMode::HalfEven, RoundingLevel::Total));
    assert_eq!(card.price(v).unwrap().total().amount(), d("0.04"));
}

// ------------------------------------------------------------------ banded gainshare

fn band(from: &str, to: Option<&str>, provider: &str) -> ShareBand {
    ShareBand {
        from_pct: d(from),
        to_pct: to.map(d),
        provider_pct: d(provider),
    }
}

/// 0–5 % shared 50/50, 5–10 % 30/70 (provider/customer); overruns 0–3 % borne 50/50.
fn two_bands() -> BandedGainshare {
    BandedGainshare {
        gain: vec![band("0", Some("5"), "50"), band("5", Some("10"), "30")],
        pain: vec![band("0", Some("3"), "50")],
    }
}

#[test]
fn banded_gainshare_shares_each_slice_at_its_band() {
    let g = two_bands();
    // Baseline 200,000, actual 186,000: saving 14,000 = 7 %. First 5 % (10,000) at
    // 50 % = 5,000; next 2 % (4,000) at 30 % = 1,200. Provider 6,200, customer 7,800.
    let o = g.settle(d("200000"), d("186000")).unwrap();
    assert_eq!(o.saving, d("14000"));
    assert_eq!(o.saving_pct, Some(d("7")));
    assert_eq!(o.side, ShareSide::Gain);
    assert_eq!(o.provider_share, d("6200"));
    assert_eq!(o.customer_share, d("7800"));
    assert_eq!(
        o.bands.iter().map(|b| (b.amount, b.provider)).collect::<Vec<_>>(),
        [(d("10000"), d("5000")), (d("4000"), d("1200"))]
    );
    // 12 % saving (24,000): beyond the closed last band the customer keeps it all:
    // 5,000 + 30 % of 10,000 = 8,000.
    let o = g.settle(d("200000"), d("176000")).unwrap();
    assert_eq!(o.provider_share, d("8000"));
    assert_eq!(o.customer_share, d("16000"));
    // Overrun of 4 % (8,000): 50 % of the first 3 % (6,000) borne = −3,000; the customer
    // bears the rest, −5,000.
    let o = g.settle(d("200000"), d("208000")).unwrap();
    assert_eq!(o.side, ShareSide::Pain);
    assert_eq!(o.provider_share, d("-3000"));
    assert_eq!(o.customer_share, d("-5000"));
    // No pain bands: the provider bears none of an overrun.
    let gain_only = BandedGainshare {
        gain: g.gain.clone(),
        pain: vec![],
    };
    assert_eq!(
        gain_only.settle(d("100"), d("130")).unwrap().provider_share,
        d("0")
    );
    // No baseline: no saving %, and nothing to cut in bands but the open ones.
    assert_eq!(g.settle(d("0"), d("0")).unwrap().saving_pct, None);
}

#[test]
fn banded_gainshare_refuses_overlaps_gaps_and_bad_shares() {
    let bad = |gain: Vec<ShareBand>| BandedGainshare { gain, pain: vec![] }.validate().unwrap_err();
    let e = bad(vec![band("0", Some("5"), "50"), band("4", Some("10"), "30")]);
    assert!(
        matches!(
            e,
            PricingError::ShareBands {
                side: ShareSide::Gain,
                band: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "gainshare band 2 starts at 4 %, inside band 1 (0 – 5 %): bands overlap"
    );
    let e = bad(vec![band("0", Some("5"), "50"), band("6", None, "30")]);
    assert!(e.to_string().contains("a gap between the bands"), "{e}");
    let e = bad(vec![band("1", Some("5"), "50")]);
    assert!(matches!(e, PricingError::ShareBands { band: 0, .. }), "{e:?}");
    let e = bad(vec![band("0", None, "50"), band("5", None, "30")]);
    assert!(e.to_string().contains("open-ended"), "{e}");
    let e = bad(vec![band("0", Some("0"), "50")]);
    assert!(e.to_string().contains("not above its start"), "{e}");
    let e = bad(vec![band("0", None, "101")]);
    assert!(e.to_string().contains("between 0 and 100"), "{e}");
    // Pain bands are checked the same way, and settle refuses invalid bands.
    let g = BandedGainshare {
        gain: vec![band("0", None, "50")],
        pain: vec![band("0", Some("3"), "50"), band("2", None, "20")],
    };
    assert!(matches!(
        g.settle(d("100"), d("90")),
        Err(PricingError::ShareBands {
            side: ShareSide::Pain,
            band: 1,
            ..
        })
    ));
    assert!(matches!(
        two_bands().settle(d("-1"), d("0")),
        Err(PricingError::InvalidParameter { .. })
    ));
    assert!(matches!(
        two_bands().settle(Decimal::MAX, d("0")),
        Err(PricingError::Arithmetic(_))
    ));
}

/// Contiguous bands from 0 %: 1–4 of them, widths 0.5–20 %, the last maybe open.
fn arb_bands() -> impl Strategy<Value = Vec<ShareBand>> {
    (
        prop::collection::vec((1i64..=400, 0i64..=100), 1..5),
        any::<bool>(),
    )
        .prop_map(|(raw, open)| {
            let mut from = Decimal::ZERO;
            let n = raw.len();
            raw.into_iter()
                .enumerate()
                .map(|(i, (width, pct))| {
                    let to = from + Decimal::new(width, 1) / Decimal::from(2);
                    let b = ShareBand {
                        from_pct: from,
                        to_pct: if open && i + 1 == n { None } else { Some(to) },
                        provider_pct: Decimal::from(pct),
                    };
                    from = to;
                    b
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn banded_shares_add_up_and_are_monotone_in_the_saving(
        gain in arb_bands(),
        pain in arb_bands(),
        baseline in arb_amount(100_000_000, 2),
        a in arb_amount(200_000_000, 2),
        step in arb_amount(1_000_000, 2),
    ) {
        let g = BandedGainshare { gain, pain };
        // A higher actual cost is a smaller saving.
        let (hi, lo) = (g.settle(baseline, a).unwrap(), g.settle(baseline, a + step).unwrap());
        for o in [&hi, &lo] {
            prop_assert_eq!(o.provider_share + o.customer_share, o.saving);
            prop_assert!(o.provider_share.abs() <= o.saving.abs());
            // The provider never earns on an overrun nor bears a saving.
            prop_assert!(o.provider_share.is_zero() || (o.provider_share > Decimal::ZERO) == (o.saving > Decimal::ZERO));
        }
        prop_assert!(hi.provider_share >= lo.provider_share, "provider {} < {}", hi.provider_share, lo.provider_share);
        prop_assert!(hi.customer_share >= lo.customer_share, "customer {} < {}", hi.customer_share, lo.customer_share);
    }

    #[test]
    fn two_bands_are_the_single_share_gainshare_with_its_deadband(
        deadband in 0i64..=100,
        share in 0i64..=100,
        pain in 0i64..=100,
        unit in 1i64..=10_000,
        actual in 0i64..=20_000,
        volume in 0i64..=1_000_000,
    ) {
        let (dead, share, pain) = (Decimal::new(deadband, 1), Decimal::from(share), Decimal::from(pain));
        let (unit, actual, volume) = (Decimal::new(unit, 4), Decimal::new(actual, 4), Decimal::from(volume));
        let single = Gainshare {
            baseline_unit_cost: unit,
            provider_share_pct: share,
            pain_share_pct: Some(pain),
            deadband_pct: dead,
            gain_cap: None,
            pain_cap: None,
        }
        .settle(actual, volume)
        .unwrap();
        let side = |pct| if dead.is_zero() {
            vec![ShareBand { from_pct: Decimal::ZERO, to_pct: None, provider_pct: pct }]
        } else {
            vec![
                ShareBand { from_pct: Decimal::ZERO, to_pct: Some(dead), provider_pct: Decimal::ZERO },
                ShareBand { from_pct: dead, to_pct: None, provider_pct: pct },
            ]
        };
        let banded = BandedGainshare { gain: side(share), pain: side(pain) }
            .settle(single.baseline_cost, single.actual_cost)
            .unwrap();
        prop_assert_eq!(banded.provider_share, single.provider_share);
        prop_assert_eq!(banded.customer_share, single.customer_share);
    }
}
