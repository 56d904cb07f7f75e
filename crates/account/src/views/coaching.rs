//! Coaching of the regional account managers (`kam coach`): each region's plan
//! completeness against the global standard (kam-core's `coaching::assess`), its
//! manager's coverage of the region's key players, and the development actions that
//! follow.

use kam_core::coaching::{PlanStandard, RegionalAssessment, assess};
use serde::Serialize;

use crate::error::AccountError;
use crate::model::Account;

/// One region's coaching view.
#[derive(Debug, Serialize)]
pub struct RegionCoaching {
    /// Completeness against the standard, with the development actions.
    pub assessment: RegionalAssessment,
    /// Key players of the customer in the region.
    pub key_players: usize,
    /// Of them, covered by anyone of ours.
    pub covered: usize,
    /// Of them, covered by the region's manager.
    pub covered_by_manager: usize,
}

/// `kam coach`.
#[derive(Debug, Serialize)]
pub struct CoachingReport {
    /// The standard applied (kam.toml `[coaching]`, else kam's default).
    pub standard: PlanStandard,
    /// Per region.
    pub regions: Vec<RegionCoaching>,
}

/// Assesses every region's plan against the standard, as of the manifest's date.
///
/// # Errors
/// No plan.toml or account.toml; an invalid hierarchy.
pub fn coaching(account: &Account) -> Result<CoachingReport, AccountError> {
    let plan = account.need(&account.plan, "plan.toml", "coaching")?;
    let structure = account.need(&account.structure, "account.toml", "coaching")?;
    let standard = account.manifest.coaching.clone().unwrap_or_default();
    let assessments = assess(plan, structure, &standard, account.manifest.as_of)
        .map_err(|e| account.error_in("plan.toml", None, e))?;
    let regions = assessments
        .into_iter()
        .map(|a| {
            let (mut key_players, mut covered, mut covered_by_manager) = (0, 0, 0);
            if let Some(map) = &account.stakeholders {
                for p in map
                    .people
                    .iter()
                    .filter(|p| p.region == a.region && p.is_key_player())
                {
                    key_players += 1;
                    let ours: Vec<&str> = map
                        .coverage
                        .iter()
                        .filter(|c| c.theirs == p.id)
                        .map(|c| c.ours.as_str())
                        .collect();
                    covered += usize::from(!ours.is_empty());
                    covered_by_manager +=
                        usize::from(a.manager.as_deref().is_some_and(|m| ours.contains(&m)));
                }
            }
            RegionCoaching {
                assessment: a,
                key_players,
                covered,
                covered_by_manager,
            }
        })
        .collect();
    Ok(CoachingReport { standard, regions })
}
