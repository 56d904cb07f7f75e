//! Red, amber or green: the one colour type of kam.
//!
//! What it colours decides how it is computed — a stakeholder map's status
//! ([`crate::stakeholders::StakeholderGraph::map_status`]), a KPI value against its
//! thresholds ([`crate::metrics::Status`], which is a `Rag` or *no data*:
//! [`crate::metrics::Status::rag`]) — but the colour itself is this type everywhere in
//! the domain. (kam-report has its own `Rag` with a "none" case because it depends on no
//! kam crate: it renders presentation records.)

use serde::{Deserialize, Serialize};

/// Red, amber or green; ordered worst first (`Red < Amber < Green`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    /// Off target / no supportive key player.
    Red,
    /// Watch / some support, not enough.
    Amber,
    /// On target / every decision maker and approver supportive.
    Green,
}
