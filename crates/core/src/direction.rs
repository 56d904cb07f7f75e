//! Which way is good for a measure, an issue or a KPI.

use serde::{Deserialize, Serialize};

/// Whether a larger value is better (OTIF, margin) or worse (cost per line, damage ppm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// More is better; serialized as `"higher"`.
    #[serde(rename = "higher")]
    HigherIsBetter,
    /// Less is better; serialized as `"lower"`.
    #[serde(rename = "lower")]
    LowerIsBetter,
}

impl Direction {
    /// The name used in files and scripts: `"higher"` or `"lower"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher",
            Direction::LowerIsBetter => "lower",
        }
    }
}

/// A direction name that is neither `"higher"` nor `"lower"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown direction {0:?}: expected \"higher\" or \"lower\"")]
pub struct UnknownDirection(pub String);

impl std::str::FromStr for Direction {
    type Err = UnknownDirection;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "higher" => Ok(Direction::HigherIsBetter),
            "lower" => Ok(Direction::LowerIsBetter),
            other => Err(UnknownDirection(other.to_owned())),
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
