//! Take-or-pay billing over several periods, with optional credit banking.
//!
//! The rules are on [`RateCard::bill_periods`].

use std::collections::VecDeque;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::rate_card::RateCard;
use super::{PricingError, quote::with_scale};
use crate::money::Currency;
use crate::num;

/// One period of take-or-pay billing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodBill {
    /// 1-based period number.
    pub period: usize,
    /// Volume performed.
    pub volume: Decimal,
    /// `max(volume, minimum)`.
    pub billed_quantity: Decimal,
    /// Charge for the volume performed.
    pub usage_charge: Decimal,
    /// `max(minimum − volume, 0)`.
    pub shortfall_quantity: Decimal,
    /// Charge for the minimum less charge for the volume, when below the minimum.
    pub shortfall_amount: Decimal,
    /// Credit banked this period (the shortfall amount, with banking).
    pub credit_banked: Decimal,
    /// Banked credit used this period.
    pub credit_applied: Decimal,
    /// Credit that expired unused at the end of this period.
    pub credit_expired: Decimal,
    /// What the customer pays for this period.
    pub amount_due: Decimal,
    /// Unused, unexpired credit after this period.
    pub credit_balance: Decimal,
}

/// Take-or-pay billing of one activity over consecutive periods.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommitmentBilling {
    /// The activity.
    pub activity: String,
    /// The card currency.
    pub currency: Currency,
    /// The minimum per period (0 without a commitment).
    pub minimum: Decimal,
    /// One entry per period, in order.
    pub periods: Vec<PeriodBill>,
    /// Σ amount due.
    pub total_due: Decimal,
    /// Σ shortfall amounts.
    pub total_shortfall: Decimal,
    /// Σ credit applied.
    pub total_credit_applied: Decimal,
    /// Σ credit expired.
    pub total_credit_expired: Decimal,
}

impl RateCard {
    /// Bills `activity` over consecutive periods with the given volumes (in order), applying
    /// its minimum commitment and credit banking. Without a minimum every period is billed
    /// at usage.
    ///
    /// For each period `t` with volume `v` and minimum `M` (amounts rounded to the card
    /// currency's minor units with the card's rounding mode, each period being an invoice):
    ///
    /// - `usage = charge(v)`, `commitment = charge(M)`.
    /// - **Shortfall** (`v < M`): the customer pays `commitment`; the shortfall amount
    ///   `commitment − usage` is billed. With banking, it becomes a credit usable in periods
    ///   `t+1 ..= t+N` (`N` = `expires_after_periods`).
    /// - **At or above the minimum** (`v ≥ M`): the customer pays `usage`, less banked
    ///   credits (oldest first) up to the headroom `max(usage − commitment, 0)` — credits never
    ///   take a period's payment below what the commitment alone would cost.
    /// - At the end of period `t`, credits banked in period `t − N` that are still unused
    ///   expire.
    ///
    /// # Errors
    /// [`PricingError::UnknownActivity`], [`PricingError::NegativeQuantity`] (naming the
    /// 0-based period as the record), [`PricingError::QuantityAboveLastTier`], overflow.
    ///
    /// ```
    /// use kam_core::pricing::{CreditBanking, MinimumCommitment, RateCard};
    /// use rust_decimal::Decimal;
    ///
    /// let mut card = RateCard::from_code("EUR")?;
    /// card.flat("pick_line", Decimal::new(65, 2))?;
    /// card.set_minimum("pick_line", MinimumCommitment {
    ///     quantity: Decimal::from(20_000),
    ///     banking: Some(CreditBanking { expires_after_periods: 2 }),
    /// })?;
    /// let volumes = [18_000, 21_000].map(Decimal::from);
    /// let bill = card.bill_periods("pick_line", &volumes)?;
    /// assert_eq!(bill.periods[0].shortfall_amount, Decimal::from(1300));
    /// assert_eq!(bill.periods[1].credit_applied, Decimal::from(650)); // 1,000 above × 0.65
    /// assert_eq!(bill.total_due, Decimal::from(26_000));
    /// # Ok::<(), kam_core::pricing::PricingError>(())
    /// ```
    pub fn bill_periods(
        &self,
        activity: &str,
        volumes: &[Decimal],
    ) -> Result<CommitmentBilling, PricingError> {
        let a = self
            .activity(activity)
            .ok_or_else(|| PricingError::UnknownActivity {
                activity: activity.to_owned(),
            })?;
        let dp = self.currency().minor_units();
        let mode = self.rounding().mode;
        let charge = |q: Decimal| -> Result<Decimal, PricingError> {
            let c = a.schedule.charge(activity, q)?;
            Ok(with_scale(mode.round(c.amount, dp), dp))
        };
        let minimum = a.minimum.map_or(Decimal::ZERO, |m| m.quantity);
        let banking = a.minimum.and_then(|m| m.banking);
        let commitment = charge(minimum)?;
        // (last period the credit may be used in, remaining amount), oldest first.
        let mut bank: VecDeque<(usize, Decimal)> = VecDeque::new();
        let mut periods = Vec::with_capacity(volumes.len());
        let zero = Decimal::ZERO;
        let (mut total_due, mut total_shortfall, mut total_applied, mut total_expired) =
            (zero, zero, zero, zero);
        for (i, &volume) in volumes.iter().enumerate() {
            let t = i + 1;
            if volume < zero {
                return Err(PricingError::NegativeQuantity {
                    activity: activity.to_owned(),
                    quantity: volume,
                    record: Some(i as u64),
                });
            }
            let usage = charge(volume)?;
            let mut bill = PeriodBill {
                period: t,
                volume,
                billed_quantity: a.billed_quantity(volume),
                usage_charge: usage,
                shortfall_quantity: zero,
                shortfall_amount: zero,
                credit_banked: zero,
                credit_applied: zero,
                credit_expired: zero,
                amount_due: usage,
                credit_balance: zero,
            };
            if volume < minimum {
                bill.shortfall_quantity = num::sub(minimum, volume, activity)?;
                bill.shortfall_amount = num::sub(commitment, usage, activity)?.max(zero);
                bill.amount_due = num::add(usage, bill.shortfall_amount, activity)?;
                if let Some(b) = banking
                    && b.expires_after_periods > 0
                    && bill.shortfall_amount > zero
                {
                    bill.credit_banked = bill.shortfall_amount;
                    bank.push_back((
                        t.saturating_add(b.expires_after_periods as usize),
                        bill.shortfall_amount,
                    ));
                }
            } else {
                let mut headroom = num::sub(usage, commitment, activity)?.max(zero);
                for credit in bank.iter_mut() {
                    if headroom.is_zero() {
                        break;
                    }
                    let used = credit.1.min(headroom);
                    credit.1 = num::sub(credit.1, used, activity)?;
                    headroom = num::sub(headroom, used, activity)?;
                    bill.credit_applied = num::add(bill.credit_applied, used, activity)?;
                }
                bill.amount_due = num::sub(usage, bill.credit_applied, activity)?;
            }
            while let Some(&(last, amount)) = bank.front()
                && (last <= t || amount.is_zero())
            {
                if last <= t {
                    bill.credit_expired = num::add(bill.credit_expired, amount, activity)?;
                }
                bank.pop_front();
            }
            bill.credit_balance = num::sum(bank.iter().map(|c| c.1), activity)?;
            total_due = num::add(total_due, bill.amount_due, activity)?;
            total_shortfall = num::add(total_shortfall, bill.shortfall_amount, activity)?;
            total_applied = num::add(total_applied, bill.credit_applied, activity)?;
            total_expired = num::add(total_expired, bill.credit_expired, activity)?;
            periods.push(bill);
        }
        Ok(CommitmentBilling {
            activity: activity.to_owned(),
            currency: self.currency(),
            minimum,
            periods,
            total_due,
            total_shortfall,
            total_credit_applied: total_applied,
            total_credit_expired: total_expired,
        })
    }
}
