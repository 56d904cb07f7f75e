//! Reservation values, the BATNA and the zone of possible agreement (ZOPA) on a single
//! issue such as the unit price, and the generalized Nash solution there.
//!
//! With linear utilities on price (the seller's utility rises from its reservation price
//! `s`, the buyer's from its reservation price `b` downwards), the generalized Nash
//! bargaining solution maximizing `(p − s)^w × (b − p)^(1 − w)` is `p = s + w × (b − s)`
//! where `w` is the seller's bargaining power.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{NegotiationError, Side};
use crate::num;

/// The zone of possible agreement on one issue: from the seller's walk-away price `low`
/// to the buyer's walk-away price `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zopa {
    /// The seller's reservation price (the least it accepts).
    pub low: Decimal,
    /// The buyer's reservation price (the most it pays).
    pub high: Decimal,
    /// `high − low`: the surplus per unit that the two sides split.
    pub width: Decimal,
}

impl Zopa {
    /// The total surplus over `volume` units: `width × volume`.
    ///
    /// # Errors
    /// [`NegotiationError::Arithmetic`] on overflow.
    pub fn surplus(&self, volume: Decimal) -> Result<Decimal, NegotiationError> {
        Ok(num::mul(self.width, volume, "ZOPA surplus: width × volume")?)
    }

    /// Whether `price` lies in the zone (ends included).
    pub fn contains(&self, price: Decimal) -> bool {
        self.low <= price && price <= self.high
    }
}

/// The ZOPA between a seller who accepts no less than `seller_reservation` and a buyer who
/// pays no more than `buyer_reservation`; `None` when the seller's reservation is above
/// the buyer's. Equal reservations give a zone of width 0 (a single acceptable price).
///
/// ```
/// use kam_core::negotiation::zone::zopa;
/// use rust_decimal::Decimal;
///
/// let z = zopa(Decimal::new(58, 2), Decimal::new(66, 2))?.unwrap();
/// assert_eq!((z.low, z.high, z.width), (Decimal::new(58, 2), Decimal::new(66, 2), Decimal::new(8, 2)));
/// assert_eq!(zopa(Decimal::from(700), Decimal::from(400))?, None);
/// # Ok::<(), kam_core::negotiation::NegotiationError>(())
/// ```
///
/// # Errors
/// [`NegotiationError::Arithmetic`] when the width overflows.
pub fn zopa(
    seller_reservation: Decimal,
    buyer_reservation: Decimal,
) -> Result<Option<Zopa>, NegotiationError> {
    if seller_reservation > buyer_reservation {
        return Ok(None);
    }
    Ok(Some(Zopa {
        low: seller_reservation,
        high: buyer_reservation,
        width: num::sub(buyer_reservation, seller_reservation, "ZOPA width")?,
    }))
}

/// The generalized Nash bargaining price with linear utilities:
/// `seller_reservation + seller_power × (buyer_reservation − seller_reservation)`.
/// Power 0.5 splits the zone evenly; the result always lies inside the ZOPA.
///
/// # Errors
/// [`NegotiationError::InvalidPower`] outside \[0, 1\]; [`NegotiationError::NoZopa`] when
/// the seller's reservation is above the buyer's; overflow.
pub fn nash_price(
    seller_reservation: Decimal,
    buyer_reservation: Decimal,
    seller_power: Decimal,
) -> Result<Decimal, NegotiationError> {
    if seller_power < Decimal::ZERO || seller_power > Decimal::ONE {
        return Err(NegotiationError::InvalidPower { power: seller_power });
    }
    let Some(z) = zopa(seller_reservation, buyer_reservation)? else {
        return Err(NegotiationError::NoZopa {
            seller_reservation,
            buyer_reservation,
        });
    };
    let share = num::mul(seller_power, z.width, "Nash price: power × width")?;
    Ok(num::add(z.low, share, "Nash price: s + power × width")?.normalize())
}

/// The best alternative to a negotiated agreement: what a side does if this deal fails,
/// priced per unit, and the cost of switching to it per unit.
///
/// For a buyer the alternative is another provider: it would pay up to
/// `price + switching_cost` here. For a seller it is redeploying the capacity elsewhere:
/// it accepts down to `price − switching_cost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batna {
    /// What the alternative is, e.g. `"competitor tender at 0.62 per line"`.
    pub description: String,
    /// The alternative's price per unit.
    pub price: Decimal,
    /// Per-unit cost of switching to the alternative (implementation, dual running…).
    #[serde(default)]
    pub switching_cost: Decimal,
    /// The alternative's utility to the side, 0 to 1, when known: a natural reservation
    /// utility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility: Option<Decimal>,
}

impl Batna {
    /// The walk-away price this BATNA implies for `side`.
    ///
    /// ```
    /// use kam_core::negotiation::{Batna, Side};
    /// use rust_decimal::Decimal;
    ///
    /// // OEM: competitor at 0.62 plus 0.04 switching → walks away above 0.66.
    /// let b = Batna { description: "competitor".into(), price: Decimal::new(62, 2),
    ///                 switching_cost: Decimal::new(4, 2), utility: None };
    /// assert_eq!(b.reservation_price(Side::Buyer)?, Decimal::new(66, 2));
    /// # Ok::<(), kam_core::negotiation::NegotiationError>(())
    /// ```
    ///
    /// # Errors
    /// [`NegotiationError::Arithmetic`] on overflow.
    pub fn reservation_price(&self, side: Side) -> Result<Decimal, NegotiationError> {
        Ok(match side {
            Side::Buyer => num::add(self.price, self.switching_cost, "BATNA: price + switching")?,
            Side::Seller => num::sub(self.price, self.switching_cost, "BATNA: price − switching")?,
        })
    }
}
