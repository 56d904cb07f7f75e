//! The concession log: what each offer gave and what it got, round by round, with a
//! guard that refuses any offer beyond the walk-away price or below the margin floor.
//!
//! The margin floor is the lowest price that still earns the minimum margin on the
//! unit cost-to-serve: margin = (price − cost) / price ≥ m ⇔ price ≥ cost / (1 − m).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{NegotiationError, Side};
use crate::num;
use crate::pricing::CostModel;

/// Which cost layers of a [`CostModel`] the unit cost-to-serve behind a margin floor
/// carries, matching the contribution margins CM1, CM2 and CM3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// Variable cost per unit only (a CM1 floor).
    Variable,
    /// Plus the activity's dedicated fixed cost spread over the volume (CM2).
    Dedicated,
    /// Plus its allocated overhead spread over the volume (CM3, fully loaded).
    FullyLoaded,
}

/// The lowest acceptable price for a minimum margin on a unit cost-to-serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginFloor {
    /// Cost to serve one unit (same unit as the price).
    pub unit_cost: Decimal,
    /// Minimum margin on price, in percent (0 ≤ m < 100).
    pub min_margin_pct: Decimal,
}

impl MarginFloor {
    /// A validated margin floor.
    ///
    /// ```
    /// use kam_core::negotiation::MarginFloor;
    /// use rust_decimal::Decimal;
    ///
    /// // Cost 0.51 per line, at least 15 % margin → floor 0.60.
    /// let f = MarginFloor::new(Decimal::new(51, 2), Decimal::from(15))?;
    /// assert_eq!(f.floor_price()?, Decimal::new(6, 1));
    /// assert!(f.admits(Decimal::new(6, 1))? && !f.admits(Decimal::new(5999, 4))?);
    /// # Ok::<(), kam_core::negotiation::NegotiationError>(())
    /// ```
    ///
    /// # Errors
    /// [`NegotiationError::InvalidMarginFloor`] for a negative cost or a margin outside
    /// \[0, 100).
    pub fn new(unit_cost: Decimal, min_margin_pct: Decimal) -> Result<Self, NegotiationError> {
        let f = MarginFloor {
            unit_cost,
            min_margin_pct,
        };
        f.validate()?;
        Ok(f)
    }

    /// The margin floor for one activity of a pricing [`CostModel`]: unit cost =
    /// variable cost per unit, plus (per `basis`) the activity's dedicated fixed cost and
    /// allocated overhead for the period divided by `volume_per_period`. A quotient that
    /// does not terminate is carried at 28 significant digits.
    ///
    /// ```
    /// use kam_core::negotiation::{log::CostBasis, MarginFloor};
    /// use kam_core::pricing::{ActivityCost, CostModel};
    /// use kam_core::money::Currency;
    /// use rust_decimal::Decimal;
    ///
    /// let d = |s: &str| s.parse::<Decimal>().unwrap();
    /// let model = CostModel { currency: Currency::from_code("EUR")?, activities: vec![ActivityCost {
    ///     activity: "pick_line".into(), variable_per_unit: d("0.40"),
    ///     dedicated_fixed: d("16200"), allocated_overhead: d("5400") }] };
    /// // 216,000 lines a year: 0.40 + 16,200/216,000 + 5,400/216,000 = 0.50 fully loaded.
    /// let f = MarginFloor::from_cost_model(&model, "pick_line", d("216000"), CostBasis::FullyLoaded, d("20"))?;
    /// assert_eq!(f.unit_cost, d("0.5"));
    /// assert_eq!(f.floor_price()?, d("0.625"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`NegotiationError::InvalidMarginFloor`] for an activity missing from the model, a
    /// volume ≤ 0 where fixed layers are spread, or an invalid margin.
    pub fn from_cost_model(
        model: &CostModel,
        activity: &str,
        volume_per_period: Decimal,
        basis: CostBasis,
        min_margin_pct: Decimal,
    ) -> Result<Self, NegotiationError> {
        let cost = model
            .activity(activity)
            .ok_or_else(|| NegotiationError::InvalidMarginFloor {
                reason: format!("activity {activity:?} is not in the cost model"),
            })?;
        let spread = match basis {
            CostBasis::Variable => Decimal::ZERO,
            CostBasis::Dedicated => cost.dedicated_fixed,
            CostBasis::FullyLoaded => num::add(
                cost.dedicated_fixed,
                cost.allocated_overhead,
                "margin floor: fixed + overhead",
            )?,
        };
        let unit_cost = if basis == CostBasis::Variable {
            cost.variable_per_unit
        } else {
            if volume_per_period <= Decimal::ZERO {
                return Err(NegotiationError::InvalidMarginFloor {
                    reason: format!(
                        "volume per period must be positive to spread fixed cost of {activity:?}, got {volume_per_period}"
                    ),
                });
            }
            num::add(
                cost.variable_per_unit,
                num::div(spread, volume_per_period, "margin floor: fixed cost per unit")?,
                "margin floor: unit cost",
            )?
        };
        MarginFloor::new(unit_cost.normalize(), min_margin_pct)
    }

    /// Checks cost ≥ 0 and 0 ≤ margin < 100.
    ///
    /// # Errors
    /// [`NegotiationError::InvalidMarginFloor`].
    pub fn validate(&self) -> Result<(), NegotiationError> {
        if self.unit_cost < Decimal::ZERO {
            return Err(NegotiationError::InvalidMarginFloor {
                reason: format!("unit cost {} is negative", self.unit_cost),
            });
        }
        if self.min_margin_pct < Decimal::ZERO || self.min_margin_pct >= Decimal::ONE_HUNDRED {
            return Err(NegotiationError::InvalidMarginFloor {
                reason: format!(
                    "minimum margin {}% is outside 0 to below 100",
                    self.min_margin_pct
                ),
            });
        }
        Ok(())
    }

    /// `1 − m/100`, the share of price left after the minimum margin (may be rounded in
    /// the 28th digit; only used for the floor's first estimate).
    fn cost_share(&self) -> Result<Decimal, NegotiationError> {
        let m = num::div(self.min_margin_pct, Decimal::ONE_HUNDRED, "margin floor: m / 100")?;
        Ok(num::sub(Decimal::ONE, m, "margin floor: 1 − m")?)
    }

    /// Exactly whether `price × (1 − m/100) ≥ cost`, i.e. `100 × price ≥ price × m +
    /// 100 × cost`, evaluated on the decimals' integer mantissas without rounding.
    fn admits_exactly(&self, price: Decimal) -> bool {
        if price < Decimal::ZERO {
            return false; // cost ≥ 0 and 1 − m > 0
        }
        let (p, m, c) = (price, self.min_margin_pct, self.unit_cost);
        let scale = (p.scale() + m.scale()).max(c.scale());
        let term = |a: Decimal, b: Option<Decimal>, factor: u64| {
            let mut w = Wide::from_u128(a.mantissa().unsigned_abs());
            let mut s = a.scale();
            if let Some(b) = b {
                w = w.mul_u128(b.mantissa().unsigned_abs());
                s += b.scale();
            }
            w.mul_u64(factor).mul_pow10(scale - s)
        };
        let left = term(p, None, 100);
        let right = term(p, Some(m), 1).add(&term(c, None, 100));
        left >= right
    }

    /// `cost / (1 − m/100)`: exact when the quotient terminates within 28 digits,
    /// otherwise the 28-digit decimal just above it, so a price at the floor always
    /// passes [`MarginFloor::admits`].
    ///
    /// # Errors
    /// [`NegotiationError::InvalidMarginFloor`]; overflow.
    pub fn floor_price(&self) -> Result<Decimal, NegotiationError> {
        self.validate()?;
        let share = self.cost_share()?;
        let q = num::div(self.unit_cost, share, "margin floor: cost / (1 − m)")?;
        if self.admits_exactly(q) {
            return Ok(q.normalize());
        }
        let ulp = Decimal::new(1, q.scale());
        Ok(num::add(q, ulp, "margin floor: round up")?.normalize())
    }

    /// Whether `price` earns at least the minimum margin: `price × (1 − m/100) ≥ cost`,
    /// decided exactly in wide integer arithmetic (no rounded quotient or product).
    ///
    /// # Errors
    /// [`NegotiationError::InvalidMarginFloor`].
    pub fn admits(&self, price: Decimal) -> Result<bool, NegotiationError> {
        self.validate()?;
        Ok(self.admits_exactly(price))
    }

    /// The margin of `price` on the unit cost, in percent: `(price − cost) / price × 100`.
    ///
    /// # Errors
    /// Division by zero for price 0; overflow.
    pub fn margin_pct(&self, price: Decimal) -> Result<Decimal, NegotiationError> {
        let m = num::div(
            num::sub(price, self.unit_cost, "margin: price − cost")?,
            price,
            "margin: (price − cost) / price",
        )?;
        Ok(num::mul(m, Decimal::ONE_HUNDRED, "margin: × 100")?.normalize())
    }
}

/// One issue moved in a concession: `from` → `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// The issue, e.g. `"payment_days"`.
    pub issue: String,
    /// Value before.
    pub from: Decimal,
    /// Value after.
    pub to: Decimal,
    /// Optional context, e.g. `"if volume ≥ 200k lines"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Trade {
    /// A trade without a note.
    pub fn new(issue: impl Into<String>, from: Decimal, to: Decimal) -> Self {
        Trade {
            issue: issue.into(),
            from,
            to,
            note: None,
        }
    }
}

/// One offer in the log: the price offered, what it gave away and what it got in return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionEntry {
    /// The negotiation round.
    pub round: u32,
    /// The unit price offered.
    pub offer: Decimal,
    /// Concessions made in this offer.
    #[serde(default)]
    pub gives: Vec<Trade>,
    /// What was obtained in return.
    #[serde(default)]
    pub gets: Vec<Trade>,
}

/// One side's concession log with its walk-away price and (for the seller) margin floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcessionLog {
    side: Side,
    walk_away: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    margin_floor: Option<MarginFloor>,
    #[serde(default)]
    entries: Vec<ConcessionEntry>,
}

impl ConcessionLog {
    /// An empty log for `side`, which walks away beyond `walk_away` (below it for a seller,
    /// above it for a buyer) and, as a seller, below `margin_floor`.
    ///
    /// ```
    /// use kam_core::negotiation::{ConcessionEntry, ConcessionLog, MarginFloor, NegotiationError, Side, Trade};
    /// use rust_decimal::Decimal;
    ///
    /// let d = |s: &str| s.parse::<Decimal>().unwrap();
    /// let floor = MarginFloor::new(d("0.51"), d("15"))?; // floor 0.60
    /// let mut log = ConcessionLog::new(Side::Seller, d("0.58"), Some(floor))?;
    /// log.record(ConcessionEntry { round: 1, offer: d("0.64"),
    ///     gives: vec![Trade::new("price", d("0.70"), d("0.64"))],
    ///     gets: vec![Trade::new("term_years", d("3"), d("5"))] })?;
    /// let refused = log.record(ConcessionEntry { round: 2, offer: d("0.59"), gives: vec![], gets: vec![] });
    /// assert!(matches!(refused, Err(NegotiationError::OfferBelowMarginFloor { .. })));
    /// assert_eq!(log.entries().len(), 1);
    /// # Ok::<(), NegotiationError>(())
    /// ```
    ///
    /// # Errors
    /// [`NegotiationError::MarginFloorForBuyer`]; an invalid floor.
    pub fn new(
        side: Side,
        walk_away: Decimal,
        margin_floor: Option<MarginFloor>,
    ) -> Result<Self, NegotiationError> {
        let log = ConcessionLog {
            side,
            walk_away,
            margin_floor,
            entries: Vec::new(),
        };
        log.check_setup()?;
        Ok(log)
    }

    fn check_setup(&self) -> Result<(), NegotiationError> {
        if let Some(f) = &self.margin_floor {
            if self.side == Side::Buyer {
                return Err(NegotiationError::MarginFloorForBuyer);
            }
            f.validate()?;
        }
        Ok(())
    }

    /// The side keeping the log.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The walk-away price.
    pub fn walk_away(&self) -> Decimal {
        self.walk_away
    }

    /// The margin floor, if any.
    pub fn margin_floor(&self) -> Option<&MarginFloor> {
        self.margin_floor.as_ref()
    }

    /// The entries recorded, in order.
    pub fn entries(&self) -> &[ConcessionEntry] {
        &self.entries
    }

    /// Checks an offer without recording it.
    ///
    /// # Errors
    /// [`NegotiationError::OfferBeyondWalkAway`] or
    /// [`NegotiationError::OfferBelowMarginFloor`].
    pub fn check_offer(&self, round: u32, offer: Decimal) -> Result<(), NegotiationError> {
        let beyond = match self.side {
            Side::Seller => offer < self.walk_away,
            Side::Buyer => offer > self.walk_away,
        };
        if beyond {
            return Err(NegotiationError::OfferBeyondWalkAway {
                round,
                side: self.side.as_str().to_owned(),
                offer,
                walk_away: self.walk_away,
            });
        }
        if let Some(f) = &self.margin_floor
            && !f.admits(offer)?
        {
            return Err(NegotiationError::OfferBelowMarginFloor {
                round,
                offer,
                floor: f.floor_price()?,
                unit_cost: f.unit_cost,
                min_margin_pct: f.min_margin_pct,
            });
        }
        Ok(())
    }

    /// Records `entry` after checking its offer and that its round is not earlier than
    /// the last one logged (several entries per round are fine). A refused entry leaves
    /// the log unchanged.
    ///
    /// # Errors
    /// [`NegotiationError::RoundOutOfOrder`] and those of [`ConcessionLog::check_offer`].
    pub fn record(&mut self, entry: ConcessionEntry) -> Result<(), NegotiationError> {
        if let Some(last) = self.entries.last()
            && entry.round < last.round
        {
            return Err(NegotiationError::RoundOutOfOrder {
                round: entry.round,
                last: last.round,
            });
        }
        self.check_offer(entry.round, entry.offer)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Price given away so far: the distance from the first offer to the latest one
    /// (0 for fewer than two entries).
    ///
    /// # Errors
    /// Overflow.
    pub fn price_conceded(&self) -> Result<Decimal, NegotiationError> {
        match (self.entries.first(), self.entries.last()) {
            (Some(first), Some(last)) => Ok(num::sub(first.offer, last.offer, "price conceded")?
                .abs()
                .normalize()),
            _ => Ok(Decimal::ZERO),
        }
    }

    /// Re-checks a log read from a file: setup, round order and every offer.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), NegotiationError> {
        self.check_setup()?;
        let mut last: Option<u32> = None;
        for e in &self.entries {
            if let Some(l) = last
                && e.round < l
            {
                return Err(NegotiationError::RoundOutOfOrder {
                    round: e.round,
                    last: l,
                });
            }
            self.check_offer(e.round, e.offer)?;
            last = Some(e.round);
        }
        Ok(())
    }
}

/// A 448-bit unsigned integer (big-endian limbs, so the derived order is numeric), enough
/// for a product of two 96-bit mantissas times 100 times 10^56.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Wide([u64; 7]);

impl Wide {
    fn from_u128(x: u128) -> Self {
        let mut limbs = [0u64; 7];
        limbs[6] = x as u64;
        limbs[5] = (x >> 64) as u64;
        Wide(limbs)
    }

    /// `self × f`, saturating at the maximum (never reached for decimal inputs).
    fn mul_u64(self, f: u64) -> Self {
        let mut out = [0u64; 7];
        let mut carry: u128 = 0;
        for (o, x) in out.iter_mut().zip(self.0.iter()).rev() {
            let v = u128::from(*x) * u128::from(f) + carry;
            *o = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return Wide([u64::MAX; 7]);
        }
        Wide(out)
    }

    fn shl64(self) -> Self {
        let mut out = [0u64; 7];
        if self.0[0] != 0 {
            return Wide([u64::MAX; 7]);
        }
        out[..6].copy_from_slice(&self.0[1..]);
        Wide(out)
    }

    fn mul_u128(self, f: u128) -> Self {
        let lo = self.mul_u64(f as u64);
        let hi = self.mul_u64((f >> 64) as u64).shl64();
        lo.add(&hi)
    }

    fn mul_pow10(self, n: u32) -> Self {
        (0..n).fold(self, |w, _| w.mul_u64(10))
    }

    fn add(&self, other: &Wide) -> Self {
        let mut out = [0u64; 7];
        let mut carry = false;
        for ((o, a), b) in out.iter_mut().zip(self.0.iter()).zip(other.0.iter()).rev() {
            let (s1, c1) = a.overflowing_add(*b);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            *o = s2;
            carry = c1 || c2;
        }
        if carry {
            return Wide([u64::MAX; 7]);
        }
        Wide(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_arithmetic_orders_like_integers() {
        let a = Wide::from_u128(u128::MAX).mul_u128(u128::MAX);
        let b = Wide::from_u128(u128::MAX).mul_u64(u64::MAX).shl64();
        assert!(a > b);
        let ten = Wide::from_u128(1).mul_pow10(40);
        let also_ten = Wide::from_u128(10u128.pow(20)).mul_u128(10u128.pow(20));
        assert_eq!(ten, also_ten);
        assert_eq!(Wide::from_u128(7).add(&Wide::from_u128(5)), Wide::from_u128(12));
    }

    #[test]
    fn admits_is_exact_where_rounding_would_lie() {
        // 0.5555…5 (28 fives) × 0.9 = 0.49999…95: just below cost 0.5; a 28-digit
        // product would round it up to 0.5 and admit it.
        let f = MarginFloor {
            unit_cost: Decimal::new(5, 1),
            min_margin_pct: Decimal::TEN,
        };
        let p = Decimal::from_i128_with_scale(5_555_555_555_555_555_555_555_555_555, 28);
        assert_eq!(f.admits(p), Ok(false));
        assert_eq!(f.admits(p + Decimal::new(1, 28)), Ok(true));
    }
}
