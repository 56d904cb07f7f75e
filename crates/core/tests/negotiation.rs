//! Negotiation analysis against the shared worked examples, invariants by proptest, typed
//! errors and serde round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use kam_core::Decimal;
use kam_core::Direction;
use kam_core::negotiation::frontier::{self, ParetoAnalysis};
use kam_core::negotiation::issues::utility;
use kam_core::negotiation::tactics::{self, Outcome, concession_offer, simulate};
use kam_core::negotiation::zone::{nash_price, zopa};
use kam_core::negotiation::{
    Batna, ConcessionEntry, ConcessionLog, Criterion, Issue, IssueKind, LinearIssue, MarginFloor,
    NegotiationError, NegotiationSpace, Package, PackageGrid, Party, Side, Tactic, TacticFamily, Trade,
    ValueFunction, ValuePoint,
};
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// Source: shared/vectors/negotiation.toml [zopa]
// Price per pick line. 3PL walk-away 0.58; OEM walk-away 0.66 (competitor 0.62 + switching 0.04).

#[test]
fn vector_zopa() {
    let z = zopa(d("0.58"), d("0.66")).unwrap().unwrap();
    assert_eq!(z.low, d("0.58"));
    assert_eq!(z.high, d("0.66"));
    assert_eq!(z.width, d("0.08"));
    assert_eq!(z.surplus(d("216000")).unwrap(), d("17280.00"));
    // no_zone = { seller_reservation = "700", buyer_reservation = "400" }
    assert_eq!(zopa(d("700"), d("400")).unwrap(), None);
}

#[test]
fn vector_zopa_buyer_walk_away_from_batna() {
    let oem = Batna {
        description: "competitor tender".into(),
        price: d("0.62"),
        switching_cost: d("0.04"),
        utility: None,
    };
    assert_eq!(oem.reservation_price(Side::Buyer).unwrap(), d("0.66"));
}

// Source: shared/vectors/negotiation.toml [nash]
#[test]
fn vector_nash() {
    let cases = [("0.58", "0.66", "0.5", "0.62"), ("0.58", "0.66", "0.6", "0.628")];
    for (s, b, w, price) in cases {
        assert_eq!(nash_price(d(s), d(b), d(w)).unwrap(), d(price), "power {w}");
    }
}

// Source: shared/vectors/negotiation.toml [utility]
// Price range 0.58-0.70, term 1-5 years, payment 30-90 days.
// 3PL: price up (w .5), term long (w .3), payment short (w .2).
// OEM: price down (w .6), term short (w .1), payment long (w .3).
const UTILITY_PACKAGES: [(&str, &str, &str, &str, &str, &str); 2] = [
    ("A split every issue", "0.64", "3", "60", "0.50", "0.50"),
    ("B logroll", "0.64", "5", "90", "0.55", "0.60"),
];

fn li(name: &str, worst: &str, best: &str, weight: &str) -> LinearIssue {
    LinearIssue {
        name: name.into(),
        worst: d(worst),
        best: d(best),
        weight: d(weight),
    }
}

fn vector_package(price: &str, term: &str, pay: &str) -> Package {
    Package::from_pairs([
        ("price", d(price)),
        ("term_years", d(term)),
        ("payment_days", d(pay)),
    ])
}

#[test]
fn vector_utility_linear_issues() {
    let tpl = [
        li("price", "0.58", "0.70", "0.5"),
        li("term_years", "1", "5", "0.3"),
        li("payment_days", "90", "30", "0.2"),
    ];
    let oem = [
        li("price", "0.70", "0.58", "0.6"),
        li("term_years", "5", "1", "0.1"),
        li("payment_days", "30", "90", "0.3"),
    ];
    for (name, price, term, pay, u3, uo) in UTILITY_PACKAGES {
        let p = vector_package(price, term, pay);
        assert_eq!(utility(&p, &tpl).unwrap(), d(u3), "{name} 3PL");
        assert_eq!(utility(&p, &oem).unwrap(), d(uo), "{name} OEM");
    }
}

fn vector_space() -> NegotiationSpace {
    let price = Issue::range("price", IssueKind::UnitPrice, d("0.58"), d("0.70")).unwrap();
    let term = Issue::range("term_years", IssueKind::ContractTerm, d("1"), d("5")).unwrap();
    let pay = Issue::range("payment_days", IssueKind::PaymentDays, d("30"), d("90")).unwrap();
    let seller = Party::new(
        "3PL",
        vec![
            Criterion::linear(&price, d("0.5"), Direction::HigherIsBetter).unwrap(),
            Criterion::linear(&term, d("0.3"), Direction::HigherIsBetter).unwrap(),
            Criterion::linear(&pay, d("0.2"), Direction::LowerIsBetter).unwrap(),
        ],
        d("0.3"),
    );
    let buyer = Party::new(
        "OEM",
        vec![
            Criterion::linear(&price, d("0.6"), Direction::LowerIsBetter).unwrap(),
            Criterion::linear(&term, d("0.1"), Direction::LowerIsBetter).unwrap(),
            Criterion::linear(&pay, d("0.3"), Direction::HigherIsBetter).unwrap(),
        ],
        d("0.3"),
    );
    NegotiationSpace::new(vec![price, term, pay], seller, buyer).unwrap()
}

#[test]
fn vector_utility_in_a_space_and_logrolling_finds_b() {
    let space = vector_space();
    for (name, price, term, pay, u3, uo) in UTILITY_PACKAGES {
        let p = vector_package(price, term, pay);
        assert_eq!(space.utility(Side::Seller, &p).unwrap(), d(u3), "{name} 3PL");
        assert_eq!(space.utility(Side::Buyer, &p).unwrap(), d(uo), "{name} OEM");
    }
    // From A, the best logroll gives on payment days (OEM weight .3 vs 3PL .2) and gets
    // term (3PL .3 vs OEM .1): exactly package B, +0.05 for the 3PL and +0.10 for the OEM.
    let grid = PackageGrid::new(&space, 11).unwrap();
    let a = vector_package("0.64", "3", "60");
    let s = frontier::logrolling(&space, &grid, &a).unwrap();
    let top = s.first().unwrap();
    assert_eq!(
        (top.give.as_str(), top.get.as_str()),
        ("payment_days", "term_years")
    );
    assert_eq!(top.package, vector_package("0.64", "5", "90"));
    assert_eq!(top.seller_gain, d("0.05"));
    assert_eq!(top.buyer_gain, d("0.1"));
    assert_eq!(top.give_weights, (d("0.2"), d("0.3")));
    assert_eq!(top.get_weights, (d("0.3"), d("0.1")));
    for sug in &s {
        assert!(sug.seller_gain > Decimal::ZERO && sug.buyer_gain > Decimal::ZERO);
        let u_s = space.utility(Side::Seller, &sug.package).unwrap();
        let u_b = space.utility(Side::Buyer, &sug.package).unwrap();
        assert_eq!(u_s - d("0.5"), sug.seller_gain);
        assert_eq!(u_b - d("0.5"), sug.buyer_gain);
    }
}

// Source: shared/vectors/negotiation.toml [concession_polynomial]
// Seller side, min 0.58, max 0.70, kappa 0, deadline 10, polynomial family; values at 5 dp.
#[test]
fn vector_concession_polynomial() {
    let rows = [
        ("0", "0.70", "0.70", "0.70"),
        ("2", "0.69996", "0.676", "0.64633"),
        ("5", "0.69625", "0.640", "0.61515"),
        ("8", "0.66068", "0.604", "0.59267"),
        ("10", "0.58", "0.58", "0.58"),
    ];
    for (t, boulware, linear, conceder) in rows {
        for (beta, want) in [("0.2", boulware), ("1", linear), ("2", conceder)] {
            let offer = concession_offer(
                d("0.58"),
                d("0.70"),
                d(t),
                d("10"),
                d(beta),
                d("0"),
                TacticFamily::Polynomial,
                Side::Seller,
            )
            .unwrap();
            assert_eq!(offer.round_dp(5), d(want), "t {t} beta {beta}: {offer}");
        }
    }
}

#[test]
fn exact_cases_are_exact() {
    let offer = |t: &str, beta: &str, kappa: &str, family, side| {
        concession_offer(
            d("0.58"),
            d("0.70"),
            d(t),
            d("10"),
            d(beta),
            d(kappa),
            family,
            side,
        )
        .unwrap()
    };
    use TacticFamily::{Exponential, Polynomial};
    // t = 0: the opening offer kappa of the way in; t = T (and beyond): the reservation.
    assert_eq!(offer("0", "0.3", "0.25", Polynomial, Side::Seller), d("0.67"));
    assert_eq!(offer("0", "0.3", "0.25", Exponential, Side::Seller), d("0.67"));
    assert_eq!(offer("0", "0.3", "0.25", Exponential, Side::Buyer), d("0.61"));
    assert_eq!(offer("10", "0.3", "0.25", Exponential, Side::Seller), d("0.58"));
    assert_eq!(offer("12", "0.3", "0.25", Polynomial, Side::Buyer), d("0.70"));
    // beta 1 polynomial is linear; 1/beta whole (0.2 → 5, 0.5 → 2) is exact.
    assert_eq!(offer("5", "1", "0", Polynomial, Side::Buyer), d("0.64"));
    assert_eq!(offer("2", "0.2", "0", Polynomial, Side::Seller), d("0.6999616"));
    assert_eq!(offer("5", "0.5", "0", Polynomial, Side::Seller), d("0.67"));
    // kappa 1 concedes everything at once.
    assert_eq!(offer("3", "0.5", "1", Exponential, Side::Seller), d("0.58"));
}

#[test]
fn exponential_family_matches_hand_computation() {
    // alpha = 0.1^(1 − 5/10) = 0.316227766…; offer = 0.58 + (1 − alpha) × 0.12
    // = 0.6620526680779794… (Python decimal, 40 digits).
    let o = concession_offer(
        d("0.58"),
        d("0.70"),
        d("5"),
        d("10"),
        d("1"),
        d("0.1"),
        TacticFamily::Exponential,
        Side::Seller,
    )
    .unwrap();
    assert_eq!(o.round_dp(12), d("0.662052668078"));
    // beta 0.5: alpha = exp(sqrt(0.5) × ln 0.1) = 0.19628775993505562…
    // offer = 0.67644546880779332…
    let o = concession_offer(
        d("0.58"),
        d("0.70"),
        d("5"),
        d("10"),
        d("0.5"),
        d("0.1"),
        TacticFamily::Exponential,
        Side::Seller,
    )
    .unwrap();
    assert_eq!(o.round_dp(12), d("0.676445468808"));
    // Boulware (beta < 1) holds out longer than Conceder in both families.
    for family in [TacticFamily::Polynomial, TacticFamily::Exponential] {
        let at = |beta: &str| {
            concession_offer(
                d("0.58"),
                d("0.70"),
                d("5"),
                d("10"),
                d(beta),
                d("0.1"),
                family,
                Side::Seller,
            )
            .unwrap()
        };
        assert!(at("0.3") > at("1") && at("1") > at("3"), "{family}");
    }
}

#[test]
fn simulation_boulware_seller_against_conceder_buyer() {
    // Seller: polynomial beta 0.2 from 0.70 to 0.58; buyer: polynomial beta 2 from 0.50 to
    // 0.66; both deadline 10. In round 8 the buyer offers 0.50 + sqrt(0.8) × 0.16 =
    // 0.64310835…, at least the seller's next offer s(9) = 0.70 − 0.9^5 × 0.12 = 0.6291412,
    // so the seller accepts (hand-computed with Python decimal).
    let seller = Tactic::new(
        Side::Seller,
        TacticFamily::Polynomial,
        d("0.2"),
        d("0"),
        d("10"),
        d("0.58"),
        d("0.70"),
    )
    .unwrap();
    let buyer = Tactic::new(
        Side::Buyer,
        TacticFamily::Polynomial,
        d("2"),
        d("0"),
        d("10"),
        d("0.50"),
        d("0.66"),
    )
    .unwrap();
    let run = simulate(&seller, &buyer).unwrap();
    match run.outcome {
        Outcome::Agreement {
            round,
            price,
            accepted_by,
        } => {
            assert_eq!(round, 8);
            assert_eq!(accepted_by, Side::Seller);
            assert_eq!(price.round_dp(10), d("0.6431083506"));
        }
        Outcome::Breakdown { .. } => panic!("expected agreement"),
    }
    assert_eq!(run.rounds.len(), 9);
    assert_eq!(run.rounds[8].seller_offer, d("0.6606784"));
}

#[test]
fn simulation_without_zone_breaks_down_at_the_earlier_deadline() {
    let seller = Tactic::new(
        Side::Seller,
        TacticFamily::Exponential,
        d("0.5"),
        d("0.1"),
        d("12"),
        d("0.70"),
        d("0.80"),
    )
    .unwrap();
    let buyer = Tactic::new(
        Side::Buyer,
        TacticFamily::Polynomial,
        d("1"),
        d("0"),
        d("7.5"),
        d("0.50"),
        d("0.60"),
    )
    .unwrap();
    let run = simulate(&seller, &buyer).unwrap();
    assert_eq!(run.outcome, Outcome::Breakdown { last_round: 7 });
    assert_eq!(run.rounds.len(), 8);
    assert!(matches!(
        simulate(&buyer, &seller),
        Err(NegotiationError::WrongSide { .. })
    ));
}

#[test]
fn frontier_and_recommendation_on_the_vector_space() {
    let space = vector_space();
    let grid = PackageGrid::new(&space, 5).unwrap();
    let a = frontier::analyze(&space, &grid, d("0.5")).unwrap();
    assert_eq!(a.packages, 125);
    let brute = brute_force_frontier(&space, &grid);
    let got: BTreeSet<u64> = a.frontier.iter().map(|p| p.index).collect();
    assert_eq!(got, brute);
    let rec = a.recommendation.clone().unwrap();
    // Logrolled: long term for the 3PL, long payment for the OEM.
    assert_eq!(rec.point.package.get("term_years").unwrap(), d("5"));
    assert_eq!(rec.point.package.get("payment_days").unwrap(), d("90"));
    assert_brute_force_nash(&space, &grid, &a, d("0.5"));
    let z = a.zopa.unwrap();
    assert!(z.best_for_seller.seller_utility >= z.best_for_buyer.seller_utility);
    assert!(z.best_for_buyer.buyer_utility >= z.best_for_seller.buyer_utility);
    let in_zone = (0..grid.len())
        .filter(|&i| {
            let p = grid.package(i).unwrap();
            space.utility(Side::Seller, &p).unwrap() >= d("0.3")
                && space.utility(Side::Buyer, &p).unwrap() >= d("0.3")
        })
        .count() as u64;
    assert_eq!(z.grid_packages, Some(in_zone));
}

#[test]
fn no_zone_in_utility_space_means_no_recommendation() {
    let mut space = vector_space();
    space.seller.reservation_utility = d("0.95");
    space.buyer.reservation_utility = d("0.95");
    let grid = PackageGrid::new(&space, 3).unwrap();
    let a = frontier::analyze(&space, &grid, d("0.5")).unwrap();
    assert!(a.zopa.is_none() && a.recommendation.is_none());
    assert!(!a.frontier.is_empty());
}

// ---------------------------------------------------------------------------------------
// Concession log and margin floor.

#[test]
fn concession_log_refuses_offers_beyond_walk_away_and_margin_floor() {
    let floor = MarginFloor::new(d("0.51"), d("15")).unwrap();
    assert_eq!(floor.floor_price().unwrap(), d("0.60"));
    assert_eq!(floor.margin_pct(d("0.60")).unwrap(), d("15"));
    let mut log = ConcessionLog::new(Side::Seller, d("0.58"), Some(floor)).unwrap();
    log.record(ConcessionEntry {
        round: 0,
        offer: d("0.70"),
        gives: vec![],
        gets: vec![],
    })
    .unwrap();
    log.record(ConcessionEntry {
        round: 1,
        offer: d("0.64"),
        gives: vec![Trade::new("price", d("0.70"), d("0.64"))],
        gets: vec![Trade::new("term_years", d("3"), d("5"))],
    })
    .unwrap();
    let below_floor = log.record(ConcessionEntry {
        round: 2,
        offer: d("0.5999"),
        gives: vec![],
        gets: vec![],
    });
    assert!(matches!(
        below_floor,
        Err(NegotiationError::OfferBelowMarginFloor { round: 2, .. })
    ));
    let below_walk_away = log.check_offer(2, d("0.57"));
    assert!(matches!(
        below_walk_away,
        Err(NegotiationError::OfferBeyondWalkAway { .. })
    ));
    let out_of_order = log.record(ConcessionEntry {
        round: 0,
        offer: d("0.66"),
        gives: vec![],
        gets: vec![],
    });
    assert!(matches!(
        out_of_order,
        Err(NegotiationError::RoundOutOfOrder { round: 0, last: 1 })
    ));
    assert_eq!(log.entries().len(), 2);
    assert_eq!(log.price_conceded().unwrap(), d("0.06"));
    log.validate().unwrap();

    // A buyer refuses to offer above its walk-away, and has no margin floor.
    let buyer = ConcessionLog::new(Side::Buyer, d("0.66"), None).unwrap();
    assert!(buyer.check_offer(1, d("0.66")).is_ok());
    assert!(buyer.check_offer(1, d("0.67")).is_err());
    assert_eq!(
        ConcessionLog::new(Side::Buyer, d("0.66"), Some(floor)),
        Err(NegotiationError::MarginFloorForBuyer)
    );
}

#[test]
fn margin_floor_with_a_non_terminating_quotient_still_admits_itself() {
    // 0.5 / 0.9 = 0.5555…: the floor is rounded up so the floor price passes.
    let f = MarginFloor::new(d("0.5"), d("10")).unwrap();
    let p = f.floor_price().unwrap();
    assert!(f.admits(p).unwrap());
    assert!(p > d("0.5555555555555555555555555555") - d("0.0000000000000000000000000001"));
    assert!(!f.admits(d("0.5555555555555555555555555555")).unwrap());
    assert!(MarginFloor::new(d("-1"), d("10")).is_err());
    assert!(MarginFloor::new(d("1"), d("100")).is_err());
    assert!(MarginFloor::new(d("1"), d("-1")).is_err());
}

// ---------------------------------------------------------------------------------------
// Typed errors.

#[test]
fn bad_input_gets_typed_errors() {
    use NegotiationError as E;
    let offer = |beta: &str, kappa: &str, deadline: &str, family| {
        concession_offer(
            d("0.58"),
            d("0.70"),
            d("1"),
            d(deadline),
            d(beta),
            d(kappa),
            family,
            Side::Seller,
        )
    };
    assert!(matches!(
        offer("0", "0", "10", TacticFamily::Polynomial),
        Err(E::InvalidBeta { .. })
    ));
    assert!(matches!(
        offer("-1", "0", "10", TacticFamily::Polynomial),
        Err(E::InvalidBeta { .. })
    ));
    assert!(matches!(
        offer("1", "1.1", "10", TacticFamily::Polynomial),
        Err(E::InvalidKappa { .. })
    ));
    assert!(matches!(
        offer("1", "-0.1", "10", TacticFamily::Polynomial),
        Err(E::InvalidKappa { .. })
    ));
    assert_eq!(
        offer("1", "0", "10", TacticFamily::Exponential),
        Err(E::ExponentialKappaZero)
    );
    assert!(matches!(
        offer("1", "0", "0", TacticFamily::Polynomial),
        Err(E::InvalidDeadline { .. })
    ));
    assert!(matches!(
        offer("1", "0", "-3", TacticFamily::Polynomial),
        Err(E::InvalidDeadline { .. })
    ));
    assert!(matches!(
        concession_offer(
            d("0.7"),
            d("0.6"),
            d("1"),
            d("10"),
            d("1"),
            d("0"),
            TacticFamily::Polynomial,
            Side::Seller
        ),
        Err(E::InvalidOfferRange { .. })
    ));
    assert!(matches!(
        concession_offer(
            d("0.5"),
            d("0.6"),
            d("-1"),
            d("10"),
            d("1"),
            d("0"),
            TacticFamily::Polynomial,
            Side::Seller
        ),
        Err(E::NegativeTime { .. })
    ));
    assert_eq!(
        "linear".parse::<TacticFamily>(),
        Err(E::UnknownFamily("linear".into()))
    );
    assert_eq!("agent".parse::<Side>(), Err(E::UnknownSide("agent".into())));

    // Weights not summing to 1.
    let err = utility(
        &Package::from_pairs([("price", d("0.6")), ("term", d("2"))]),
        &[li("price", "0.58", "0.70", "0.5"), li("term", "1", "5", "0.4")],
    );
    assert_eq!(
        err,
        Err(E::WeightsDoNotSumToOne {
            party: "utility".into(),
            sum: d("0.9")
        })
    );
    let mut space = vector_space();
    space.buyer.criteria[0].weight = d("0.7");
    assert!(matches!(
        space.validate(),
        Err(E::WeightsDoNotSumToOne { ref party, .. }) if party == "OEM"
    ));
    // Empty ranges.
    assert!(matches!(
        Issue::range("price", IssueKind::UnitPrice, d("0.7"), d("0.7")),
        Err(E::EmptyRange { .. })
    ));
    assert!(matches!(
        Issue::range("price", IssueKind::UnitPrice, d("0.8"), d("0.7")),
        Err(E::EmptyRange { .. })
    ));
    assert!(matches!(
        Issue::options("term", IssueKind::ContractTerm, vec![]),
        Err(E::NoOptions { .. })
    ));
    assert!(matches!(
        utility(&Package::from_pairs([("x", d("1"))]), &[li("x", "2", "2", "1")]),
        Err(E::EmptyRange { .. })
    ));
    // Power, zone, package and grid errors.
    assert!(matches!(
        nash_price(d("1"), d("2"), d("1.5")),
        Err(E::InvalidPower { .. })
    ));
    assert!(matches!(
        nash_price(d("3"), d("2"), d("0.5")),
        Err(E::NoZopa { .. })
    ));
    let space = vector_space();
    assert!(matches!(
        space.utility(Side::Seller, &Package::from_pairs([("price", d("0.6"))])),
        Err(E::MissingValue { .. })
    ));
    assert!(matches!(
        space.utility(Side::Seller, &vector_package("0.9", "3", "60")),
        Err(E::ValueOutsideDomain { .. })
    ));
    assert!(matches!(
        PackageGrid::new(&space, 1),
        Err(E::TooFewLevels { levels: 1 })
    ));
    // A piecewise function must be ascending and within [0, 1].
    let bad = ValueFunction::PiecewiseLinear {
        points: vec![
            ValuePoint {
                x: d("2"),
                value: d("0"),
            },
            ValuePoint {
                x: d("1"),
                value: d("1"),
            },
        ],
    };
    assert!(matches!(
        bad.validate("3PL", "term"),
        Err(E::InvalidValueFunction { .. })
    ));
}

#[test]
fn error_messages_name_the_culprit() {
    let e = NegotiationError::WeightsDoNotSumToOne {
        party: "OEM".into(),
        sum: d("0.9"),
    };
    assert_eq!(e.to_string(), "weights of OEM sum to 0.9, expected exactly 1");
    let e = Issue::range("payment_days", IssueKind::PaymentDays, d("90"), d("30")).unwrap_err();
    assert!(e.to_string().contains("payment_days"));
}

// ---------------------------------------------------------------------------------------
// Serde round trips (JSON and TOML).

fn same<T: PartialEq + std::fmt::Debug>(value: &T, back: T, text: &str) {
    assert_eq!(value, &back, "{text}");
}

/// JSON and TOML round trip (a macro so the test needs no direct serde dependency).
macro_rules! round_trip {
    ($value:expr) => {{
        let value = $value;
        let json = serde_json::to_string(value).unwrap();
        same(value, serde_json::from_str(&json).unwrap(), &json);
        let toml_text = toml::to_string(value).unwrap();
        same(value, toml::from_str(&toml_text).unwrap(), &toml_text);
    }};
}

#[test]
fn serde_round_trips() {
    let mut space = vector_space();
    space
        .issues
        .push(Issue::options("service_level", IssueKind::ServiceLevel, vec![d("97.5"), d("99")]).unwrap());
    space.seller.batna = Some(Batna {
        description: "redeploy the space to the tyre customer".into(),
        price: d("0.60"),
        switching_cost: d("0.02"),
        utility: Some(d("0.3")),
    });
    space.buyer.criteria.push(Criterion {
        issue: "service_level".into(),
        weight: d("0"),
        value: ValueFunction::PiecewiseLinear {
            points: vec![
                ValuePoint {
                    x: d("97.5"),
                    value: d("0"),
                },
                ValuePoint {
                    x: d("99"),
                    value: d("1"),
                },
            ],
        },
    });
    space.validate().unwrap();
    round_trip!(&space);
    let grid = PackageGrid::new(&space, 3).unwrap();
    round_trip!(&grid);
    let analysis: ParetoAnalysis = frontier::analyze(&space, &grid, d("0.5")).unwrap();
    round_trip!(&analysis);
    let suggestions = frontier::logrolling(&space, &grid, &grid.package(0).unwrap()).unwrap();
    assert!(!suggestions.is_empty());
    for s in &suggestions {
        round_trip!(s);
    }
    let seller = Tactic::new(
        Side::Seller,
        TacticFamily::Exponential,
        d("0.5"),
        d("0.1"),
        d("10"),
        d("0.58"),
        d("0.70"),
    )
    .unwrap();
    let buyer = Tactic::new(
        Side::Buyer,
        TacticFamily::Polynomial,
        d("2"),
        d("0"),
        d("10"),
        d("0.5"),
        d("0.66"),
    )
    .unwrap();
    round_trip!(&seller);
    round_trip!(&simulate(&seller, &buyer).unwrap());
    let mut log = ConcessionLog::new(
        Side::Seller,
        d("0.58"),
        Some(MarginFloor::new(d("0.5"), d("10")).unwrap()),
    )
    .unwrap();
    log.record(ConcessionEntry {
        round: 1,
        offer: d("0.64"),
        gives: vec![Trade::new("price", d("0.70"), d("0.64"))],
        gets: vec![Trade {
            issue: "term_years".into(),
            from: d("3"),
            to: d("5"),
            note: Some("with a 2-year break clause".into()),
        }],
    })
    .unwrap();
    round_trip!(&log);
    round_trip!(&zopa(d("0.58"), d("0.66")).unwrap().unwrap());
}

// ---------------------------------------------------------------------------------------
// Brute force references for the properties.

fn dominates(a: (Decimal, Decimal), b: (Decimal, Decimal)) -> bool {
    a.0 >= b.0 && a.1 >= b.1 && (a.0 > b.0 || a.1 > b.1)
}

fn all_utilities(space: &NegotiationSpace, grid: &PackageGrid) -> Vec<(Decimal, Decimal)> {
    (0..grid.len())
        .map(|i| {
            let p = grid.package(i).unwrap();
            (
                space.utility(Side::Seller, &p).unwrap(),
                space.utility(Side::Buyer, &p).unwrap(),
            )
        })
        .collect()
}

fn brute_force_frontier(space: &NegotiationSpace, grid: &PackageGrid) -> BTreeSet<u64> {
    let u = all_utilities(space, grid);
    (0..u.len())
        .filter(|&i| !u.iter().any(|&o| dominates(o, u[i])))
        .map(|i| i as u64)
        .collect()
}

/// With power ½ the Nash product ranks like (Δs × Δb), exactly computable here.
fn assert_brute_force_nash(space: &NegotiationSpace, grid: &PackageGrid, a: &ParetoAnalysis, w: Decimal) {
    assert_eq!(w, d("0.5"));
    let (rs, rb) = (space.seller.reservation_utility, space.buyer.reservation_utility);
    let u = all_utilities(space, grid);
    let best = u
        .iter()
        .filter(|(s, b)| *s >= rs && *b >= rb)
        .map(|(s, b)| (*s - rs) * (*b - rb))
        .max();
    match (&a.recommendation, best) {
        (Some(r), Some(best)) => {
            let got = (r.point.seller_utility - rs) * (r.point.buyer_utility - rb);
            assert_eq!(got, best);
            assert!(r.point.seller_utility >= rs && r.point.buyer_utility >= rb);
        }
        (None, None) => {}
        (r, b) => panic!("recommendation {r:?} vs brute force {b:?}"),
    }
}

fn weights(n: usize) -> impl Strategy<Value = Vec<Decimal>> {
    // n non-negative integers, normalized to tenths summing to exactly 1.
    proptest::collection::vec(0u32..=10, n).prop_map(move |raw| {
        let mut w: Vec<u32> = raw;
        let total: u32 = w.iter().sum();
        if total == 0 {
            w[0] = 10;
        } else {
            // scale to sum 10, fixing the remainder on the first issue
            let mut scaled: Vec<u32> = w.iter().map(|x| x * 10 / total).collect();
            let s: u32 = scaled.iter().sum();
            scaled[0] += 10 - s;
            w = scaled;
        }
        w.into_iter().map(|x| Decimal::new(i64::from(x), 1)).collect()
    })
}

prop_compose! {
    fn small_space()(n in 2usize..=3)(
        ws in weights(n), wb in weights(n),
        dirs_s in proptest::collection::vec(any::<bool>(), n),
        dirs_b in proptest::collection::vec(any::<bool>(), n),
        piecewise in any::<bool>(),
        mid in 0u32..=10,
        rs in 0u32..=6, rb in 0u32..=6,
    ) -> NegotiationSpace {
        let issues: Vec<Issue> = (0..ws.len())
            .map(|i| Issue::range(format!("issue{i}"), IssueKind::Custom, Decimal::ZERO, Decimal::from(10 + i as i64)).unwrap())
            .collect();
        let crit = |w: &[Decimal], dirs: &[bool]| -> Vec<Criterion> {
            issues.iter().zip(w).zip(dirs).map(|((issue, w), up)| {
                let dir = if *up { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
                Criterion::linear(issue, *w, dir).unwrap()
            }).collect()
        };
        let mut seller = Party::new("seller", crit(&ws, &dirs_s), Decimal::new(i64::from(rs), 1));
        let buyer = Party::new("buyer", crit(&wb, &dirs_b), Decimal::new(i64::from(rb), 1));
        if piecewise {
            // A peaked (non-monotone) value on the first issue for the seller.
            seller.criteria[0].value = ValueFunction::PiecewiseLinear { points: vec![
                ValuePoint { x: Decimal::ZERO, value: Decimal::new(2, 1) },
                ValuePoint { x: Decimal::from(mid), value: Decimal::ONE },
                ValuePoint { x: Decimal::from(11), value: Decimal::ZERO },
            ]};
            if mid == 0 {
                seller.criteria[0].value = ValueFunction::PiecewiseLinear { points: vec![
                    ValuePoint { x: Decimal::ZERO, value: Decimal::ONE },
                    ValuePoint { x: Decimal::from(11), value: Decimal::ZERO },
                ]};
            }
        }
        NegotiationSpace::new(issues, seller, buyer).unwrap()
    }
}

fn decimal_in(lo: i64, hi: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    (lo..=hi).prop_map(move |m| Decimal::new(m, scale))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn nash_price_lies_inside_the_zopa(s in decimal_in(0, 100_000, 4), gap in decimal_in(0, 100_000, 4), w in decimal_in(0, 1000, 3)) {
        let b = s + gap;
        let p = nash_price(s, b, w).unwrap();
        let z = zopa(s, b).unwrap().unwrap();
        prop_assert!(z.contains(p), "{p} outside {s}..{b}");
    }

    #[test]
    fn frontier_is_exactly_the_non_dominated_set(space in small_space(), levels in 2usize..=4, w in prop_oneof![Just(d("0.5")), Just(d("0")), Just(d("1")), Just(d("0.3"))]) {
        let grid = PackageGrid::new(&space, levels).unwrap();
        let a = frontier::analyze(&space, &grid, w).unwrap();
        let got: BTreeSet<u64> = a.frontier.iter().map(|p| p.index).collect();
        prop_assert_eq!(got, brute_force_frontier(&space, &grid));
        for p in &a.frontier {
            prop_assert_eq!(space.utility(Side::Seller, &p.package).unwrap(), p.seller_utility);
            prop_assert_eq!(space.utility(Side::Buyer, &p.package).unwrap(), p.buyer_utility);
        }
        if w == d("0.5") {
            assert_brute_force_nash(&space, &grid, &a, w);
        }
        if let Some(r) = &a.recommendation {
            prop_assert!(r.point.seller_utility >= space.seller.reservation_utility);
            prop_assert!(r.point.buyer_utility >= space.buyer.reservation_utility);
            prop_assert!(a.frontier.iter().any(|p| p.index == r.point.index));
        }
    }

    #[test]
    fn offers_are_monotone_in_time_and_never_cross_the_reservation(
        min in decimal_in(0, 10_000, 2), span in decimal_in(0, 10_000, 2),
        beta in prop_oneof![decimal_in(1, 50, 2), decimal_in(1, 100, 1)],
        kappa in decimal_in(1, 100, 2),
        deadline in decimal_in(1, 400, 1),
        mut ts in proptest::collection::vec(decimal_in(0, 500, 1), 2..12),
        exponential in any::<bool>(), seller in any::<bool>(),
    ) {
        let max = min + span;
        let family = if exponential { TacticFamily::Exponential } else { TacticFamily::Polynomial };
        let side = if seller { Side::Seller } else { Side::Buyer };
        ts.sort();
        let mut last: Option<Decimal> = None;
        for t in ts {
            let o = concession_offer(min, max, t, deadline, beta, kappa, family, side).unwrap();
            prop_assert!(min <= o && o <= max, "offer {o} outside {min}..{max}");
            if let Some(prev) = last {
                match side {
                    Side::Seller => prop_assert!(o <= prev, "seller offer rose {prev} → {o} at t {t}"),
                    Side::Buyer => prop_assert!(o >= prev, "buyer offer fell {prev} → {o} at t {t}"),
                }
            }
            let a = tactics::alpha(t, deadline, beta, kappa, family).unwrap();
            prop_assert!(kappa <= a && a <= Decimal::ONE);
            last = Some(o);
        }
    }

    #[test]
    fn utilities_stay_in_unit_interval(
        ws in weights(3),
        values in proptest::collection::vec(decimal_in(-1000, 2000, 1), 3),
        ends in proptest::collection::vec((decimal_in(0, 100, 0), decimal_in(1, 100, 0), any::<bool>()), 3),
    ) {
        let issues: Vec<LinearIssue> = ends.iter().zip(&ws).enumerate().map(|(i, ((lo, span, up), w))| {
            let (worst, best) = if *up { (*lo, *lo + *span) } else { (*lo + *span, *lo) };
            LinearIssue { name: format!("i{i}"), worst, best, weight: *w }
        }).collect();
        let p = Package::from_pairs(values.iter().enumerate().map(|(i, v)| (format!("i{i}"), *v)));
        let u = utility(&p, &issues).unwrap();
        prop_assert!(Decimal::ZERO <= u && u <= Decimal::ONE);
    }

    #[test]
    fn simulated_agreements_stay_inside_both_ranges(
        s_min in decimal_in(50, 70, 2), s_span in decimal_in(1, 30, 2),
        b_min in decimal_in(30, 60, 2), b_span in decimal_in(1, 40, 2),
        bs in decimal_in(1, 40, 1), bb in decimal_in(1, 40, 1),
        deadline in 1i64..30,
    ) {
        let seller = Tactic::new(Side::Seller, TacticFamily::Polynomial, bs, Decimal::ZERO, Decimal::from(deadline), s_min, s_min + s_span).unwrap();
        let buyer = Tactic::new(Side::Buyer, TacticFamily::Polynomial, bb, Decimal::ZERO, Decimal::from(deadline), b_min, b_min + b_span).unwrap();
        let run = simulate(&seller, &buyer).unwrap();
        match run.outcome {
            Outcome::Agreement { price, .. } => {
                prop_assert!(price >= seller.reservation() && price <= buyer.reservation());
            }
            Outcome::Breakdown { .. } => prop_assert!(seller.reservation() > buyer.reservation()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn margin_floor_is_the_exact_boundary(cost in decimal_in(0, 10_000_000, 4), m in decimal_in(0, 9_999, 2)) {
        let f = MarginFloor::new(cost, m).unwrap();
        let floor = f.floor_price().unwrap();
        prop_assert!(f.admits(floor).unwrap(), "floor {floor} refused");
        let below = floor - Decimal::new(1, floor.scale());
        prop_assert!(!f.admits(below).unwrap() || cost.is_zero() && below >= Decimal::ZERO, "{below} admitted below floor {floor}");
        if !floor.is_zero() {
            prop_assert!(f.margin_pct(floor).unwrap() >= m - Decimal::new(1, 20));
        }
    }
}

#[test]
fn package_tactics_reach_an_agreement_both_sides_accept() {
    use kam_core::negotiation::tactics::{PackageOutcome, PackageTactic, simulate_packages};
    let space = vector_space();
    let seller = PackageTactic {
        family: TacticFamily::Polynomial,
        beta: d("0.5"),
        kappa: d("0"),
        deadline: d("10"),
    };
    let buyer = PackageTactic {
        family: TacticFamily::Exponential,
        beta: d("2"),
        kappa: d("0.05"),
        deadline: d("10"),
    };
    let run = simulate_packages(&space, &seller, &buyer).unwrap();
    // Each side's own offers lose it utility round by round, never below its reservation.
    let mut last_s = Decimal::ONE;
    let mut last_b = Decimal::ONE;
    for r in &run.rounds {
        let us = space.utility(Side::Seller, &r.seller_offer).unwrap();
        assert!(us <= last_s && us >= d("0.3"), "round {}: seller {us}", r.round);
        last_s = us;
        if let Some(pb) = &r.buyer_offer {
            let ub = space.utility(Side::Buyer, pb).unwrap();
            assert!(ub <= last_b && ub >= d("0.3"), "round {}: buyer {ub}", r.round);
            last_b = ub;
        }
    }
    match &run.outcome {
        PackageOutcome::Agreement {
            round,
            package,
            seller_utility,
            buyer_utility,
            ..
        } => {
            assert!(*round <= 10);
            assert_eq!(space.utility(Side::Seller, package).unwrap(), *seller_utility);
            assert_eq!(space.utility(Side::Buyer, package).unwrap(), *buyer_utility);
            assert!(*seller_utility >= d("0.3") && *buyer_utility >= d("0.3"));
        }
        PackageOutcome::Breakdown { .. } => panic!("expected agreement: {run:?}"),
    }
    // Hand check: in round 8 the seller aims at 1 − 0.8² × 0.7 = 0.552 on every issue,
    // worth 0.448 to the OEM, above the OEM's own aim 1 − 0.05^(0.2²) × 0.7 ≈ 0.379; in
    // round 7 its package was worth 0.343 to the OEM against an aim of ≈ 0.465.
    assert_eq!(
        run.outcome,
        PackageOutcome::Agreement {
            round: 8,
            package: vector_package("0.64624", "3.208", "56.88"),
            accepted_by: Side::Buyer,
            seller_utility: d("0.552"),
            buyer_utility: d("0.448"),
        }
    );
    round_trip!(&run);

    // Piecewise-linear criteria have no unique inverse: a typed error.
    let mut piecewise = vector_space();
    piecewise.seller.criteria[1].value = ValueFunction::PiecewiseLinear {
        points: vec![
            ValuePoint {
                x: d("1"),
                value: d("0"),
            },
            ValuePoint {
                x: d("5"),
                value: d("1"),
            },
        ],
    };
    assert!(matches!(
        simulate_packages(&piecewise, &seller, &buyer),
        Err(NegotiationError::InvalidValueFunction { .. })
    ));
}

#[test]
fn frontier_scales_past_full_enumeration() {
    // 12 issues × 11 levels = 3.1 × 10^12 packages: the frontier is built issue by issue,
    // the in-zone count (which would visit every package) is skipped.
    let hundredths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 34];
    let issues: Vec<Issue> = (0..12)
        .map(|i| Issue::range(format!("issue{i}"), IssueKind::Custom, d("0"), d("10")).unwrap())
        .collect();
    let crit = |rev: bool| -> Vec<Criterion> {
        issues
            .iter()
            .enumerate()
            .map(|(i, issue)| {
                let w = if rev { hundredths[11 - i] } else { hundredths[i] };
                let dir = if rev == (i % 4 == 0) {
                    Direction::HigherIsBetter
                } else {
                    Direction::LowerIsBetter
                };
                Criterion::linear(issue, Decimal::new(w, 2), dir).unwrap()
            })
            .collect()
    };
    let space = NegotiationSpace::new(
        issues.clone(),
        Party::new("seller", crit(false), d("0.4")),
        Party::new("buyer", crit(true), d("0.4")),
    )
    .unwrap();
    let grid = PackageGrid::new(&space, 11).unwrap();
    assert_eq!(grid.len(), 11u64.pow(12));
    let a = frontier::analyze(&space, &grid, d("0.5")).unwrap();
    assert!(a.frontier.len() > 1);
    let z = a.zopa.unwrap();
    assert_eq!(z.grid_packages, None);
    let r = a.recommendation.unwrap();
    assert!(r.point.seller_utility >= d("0.4") && r.point.buyer_utility >= d("0.4"));
    // Along the frontier, seller utility falls while buyer utility rises.
    for w in a.frontier.windows(2) {
        assert!(w[0].seller_utility >= w[1].seller_utility);
        assert!(w[0].buyer_utility <= w[1].buyer_utility);
    }
}

#[test]
fn margin_floor_from_the_pricing_cost_model() {
    use kam_core::money::Currency;
    use kam_core::negotiation::CostBasis;
    use kam_core::pricing::{ActivityCost, CostModel};
    let model = CostModel {
        currency: Currency::from_code("EUR").unwrap(),
        activities: vec![ActivityCost {
            activity: "pick_line".into(),
            variable_per_unit: d("0.40"),
            dedicated_fixed: d("16200"),
            allocated_overhead: d("5400"),
        }],
    };
    let floor = |basis| {
        MarginFloor::from_cost_model(&model, "pick_line", d("216000"), basis, d("20"))
            .unwrap()
            .floor_price()
            .unwrap()
    };
    // CM1: 0.40 / 0.8; CM2: (0.40 + 0.075) / 0.8; CM3: (0.40 + 0.075 + 0.025) / 0.8.
    assert_eq!(floor(CostBasis::Variable), d("0.5"));
    assert_eq!(floor(CostBasis::Dedicated), d("0.59375"));
    assert_eq!(floor(CostBasis::FullyLoaded), d("0.625"));
    // The fully loaded floor is above the 3PL's walk-away of 0.58: offers in between are refused.
    let f = MarginFloor::from_cost_model(&model, "pick_line", d("216000"), CostBasis::FullyLoaded, d("20"))
        .unwrap();
    let log = ConcessionLog::new(Side::Seller, d("0.58"), Some(f)).unwrap();
    assert!(matches!(
        log.check_offer(3, d("0.60")),
        Err(NegotiationError::OfferBelowMarginFloor { .. })
    ));
    assert!(log.check_offer(3, d("0.625")).is_ok());
    assert!(matches!(
        MarginFloor::from_cost_model(&model, "pallet_in", d("1"), CostBasis::Variable, d("20")),
        Err(NegotiationError::InvalidMarginFloor { .. })
    ));
    assert!(matches!(
        MarginFloor::from_cost_model(&model, "pick_line", d("0"), CostBasis::Dedicated, d("20")),
        Err(NegotiationError::InvalidMarginFloor { .. })
    ));
    // Variable-only floors need no volume.
    assert!(MarginFloor::from_cost_model(&model, "pick_line", d("0"), CostBasis::Variable, d("20")).is_ok());
}
