//! Activity names and units of measure.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::PricingError;

/// A billable activity's identifier: snake_case (`[a-z][a-z0-9_]*`, at most 64 characters),
/// e.g. `pallet_in`, `storage_pallet_week`, `pick_line`, `vas_hour`, `transport_km`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActivityName(String);

impl ActivityName {
    /// A validated name.
    ///
    /// # Errors
    /// [`PricingError::InvalidActivityName`] unless `name` is snake_case.
    pub fn new(name: &str) -> Result<Self, PricingError> {
        let bytes = name.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 64
            && bytes.first().is_some_and(u8::is_ascii_lowercase)
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if valid {
            Ok(ActivityName(name.to_owned()))
        } else {
            Err(PricingError::InvalidActivityName {
                name: name.to_owned(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ActivityName {
    type Error = PricingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ActivityName::new(&s)
    }
}

impl From<ActivityName> for String {
    fn from(a: ActivityName) -> String {
        a.0
    }
}

impl fmt::Display for ActivityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What one unit of an activity is. Serialized as its snake_case name (`"pallet_week"`);
/// any other name is a [`UnitOfMeasure::Custom`] unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum UnitOfMeasure {
    /// A pallet handled (in or out).
    Pallet,
    /// A pallet stored for a week.
    PalletWeek,
    /// A pallet stored for a month.
    PalletMonth,
    /// An order.
    Order,
    /// An order line (pick line).
    Line,
    /// A carton.
    Carton,
    /// A unit (piece, each).
    Unit,
    /// An hour of work (value-added services).
    Hour,
    /// A shipment.
    Shipment,
    /// A kilometre driven.
    Km,
    /// A kilogram.
    Kg,
    /// Any other unit, by its snake_case name.
    Custom(String),
}

const UNIT_NAMES: &[(&str, UnitOfMeasure)] = &[
    ("pallet", UnitOfMeasure::Pallet),
    ("pallet_week", UnitOfMeasure::PalletWeek),
    ("pallet_month", UnitOfMeasure::PalletMonth),
    ("order", UnitOfMeasure::Order),
    ("line", UnitOfMeasure::Line),
    ("carton", UnitOfMeasure::Carton),
    ("unit", UnitOfMeasure::Unit),
    ("hour", UnitOfMeasure::Hour),
    ("shipment", UnitOfMeasure::Shipment),
    ("km", UnitOfMeasure::Km),
    ("kg", UnitOfMeasure::Kg),
];

/// Activity name suffixes → unit, most specific first.
const SUFFIXES: &[(&str, UnitOfMeasure)] = &[
    ("pallet_week", UnitOfMeasure::PalletWeek),
    ("pallet_month", UnitOfMeasure::PalletMonth),
    ("pallet_in", UnitOfMeasure::Pallet),
    ("pallet_out", UnitOfMeasure::Pallet),
    ("pallet", UnitOfMeasure::Pallet),
    ("hour", UnitOfMeasure::Hour),
    ("hours", UnitOfMeasure::Hour),
    ("km", UnitOfMeasure::Km),
    ("kg", UnitOfMeasure::Kg),
    ("line", UnitOfMeasure::Line),
    ("order", UnitOfMeasure::Order),
    ("carton", UnitOfMeasure::Carton),
    ("shipment", UnitOfMeasure::Shipment),
    ("unit", UnitOfMeasure::Unit),
];

impl UnitOfMeasure {
    /// The name used in files and scripts.
    pub fn as_str(&self) -> &str {
        match self {
            UnitOfMeasure::Custom(name) => name,
            known => UNIT_NAMES
                .iter()
                .find(|(_, u)| u == known)
                .map_or("unit", |(n, _)| n),
        }
    }

    /// The unit an activity name implies, for cards built without an explicit unit: the
    /// last `_`-separated word(s) of the name decide (`storage_pallet_week` → pallet-week,
    /// `pallet_in` → pallet, `vas_hour` → hour, `transport_km` → km, `pick_line` → line,
    /// `order` → order); anything else is [`UnitOfMeasure::Unit`].
    pub fn for_activity(activity: &str) -> UnitOfMeasure {
        SUFFIXES
            .iter()
            .find(|(suffix, _)| {
                activity == *suffix
                    || activity
                        .strip_suffix(suffix)
                        .is_some_and(|head| head.ends_with('_'))
            })
            .map_or(UnitOfMeasure::Unit, |(_, u)| u.clone())
    }
}

impl TryFrom<String> for UnitOfMeasure {
    type Error = PricingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if let Some((_, u)) = UNIT_NAMES.iter().find(|(n, _)| *n == s) {
            return Ok(u.clone());
        }
        // Custom units follow the activity naming rule.
        ActivityName::new(&s).map(|n| UnitOfMeasure::Custom(n.0))
    }
}

impl From<UnitOfMeasure> for String {
    fn from(u: UnitOfMeasure) -> String {
        u.as_str().to_owned()
    }
}

impl fmt::Display for UnitOfMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case() {
        assert!(ActivityName::new("pick_line").is_ok());
        assert!(ActivityName::new("vas_hour2").is_ok());
        for bad in ["", "Pick", "pick-line", "1st", "_x", "pick line", "é"] {
            assert_eq!(
                ActivityName::new(bad),
                Err(PricingError::InvalidActivityName { name: bad.into() })
            );
        }
    }

    #[test]
    fn units_inferred_from_names() {
        for (name, unit) in [
            ("pallet_in", UnitOfMeasure::Pallet),
            ("pallet_out", UnitOfMeasure::Pallet),
            ("storage_pallet_week", UnitOfMeasure::PalletWeek),
            ("storage_pallet_month", UnitOfMeasure::PalletMonth),
            ("pick_line", UnitOfMeasure::Line),
            ("order", UnitOfMeasure::Order),
            ("vas_hour", UnitOfMeasure::Hour),
            ("transport_km", UnitOfMeasure::Km),
            ("shipment", UnitOfMeasure::Shipment),
            ("carton", UnitOfMeasure::Carton),
            ("returns_handling", UnitOfMeasure::Unit),
            ("skyline", UnitOfMeasure::Unit),
        ] {
            assert_eq!(UnitOfMeasure::for_activity(name), unit, "{name}");
        }
    }

    #[test]
    fn units_round_trip_as_strings() {
        let units = vec![
            UnitOfMeasure::PalletWeek,
            UnitOfMeasure::Custom("crate_day".into()),
        ];
        let json = serde_json::to_string(&units).unwrap_or_default();
        assert_eq!(json, r#"["pallet_week","crate_day"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<UnitOfMeasure>>(&json).ok(),
            Some(units)
        );
        assert!(serde_json::from_str::<UnitOfMeasure>(r#""Bad Unit""#).is_err());
    }
}
