//! The plan check (`kam plan check`) and plan diff (`kam plan diff`).

use chrono::NaiveDate;
use kam_core::plan::{Finding, FindingSeverity, Plan, PlanDiff, ValidationContext};
use serde::Serialize;

use crate::error::AccountError;
use crate::files;
use crate::model::Account;

/// `kam plan check`: every integrity finding of the plan.
#[derive(Debug, Serialize)]
pub struct PlanCheck {
    /// Plan id.
    pub plan: String,
    /// As-of date.
    pub as_of: NaiveDate,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Infos.
    pub infos: usize,
    /// Every finding.
    pub findings: Vec<Finding>,
}

/// Validates `plan.toml` against the account, the stakeholder map and the KPI library,
/// as of the manifest's date.
///
/// # Errors
/// The account has no `plan.toml` or `account.toml`, or account.toml's hierarchy is
/// invalid.
pub fn plan_check(account: &Account) -> Result<PlanCheck, AccountError> {
    let plan = account.need(&account.plan, "plan.toml", "the plan check")?;
    let findings = plan_findings(account, plan)?;
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    Ok(PlanCheck {
        plan: plan.id.clone(),
        as_of: account.manifest.as_of,
        errors: count(FindingSeverity::Error),
        warnings: count(FindingSeverity::Warning),
        infos: count(FindingSeverity::Info),
        findings,
    })
}

/// The plan's own findings (kam-core's `Plan::validate`) in the account's context.
pub(crate) fn plan_findings(account: &Account, plan: &Plan) -> Result<Vec<Finding>, AccountError> {
    let structure = account.need(&account.structure, "account.toml", "the plan check")?;
    let mut ctx = ValidationContext::new(account.manifest.as_of)
        .with_account(structure)
        .map_err(|e| account.error_in("account.toml", None, e))?;
    if let Some(map) = &account.stakeholders {
        ctx = ctx.with_stakeholders(map.people.iter().map(|p| p.id.clone()));
    }
    if account.text("kpis.toml").is_some() {
        ctx = ctx.with_kpis(account.library.kpis().iter().map(|k| k.id.clone()));
    }
    Ok(plan.validate(&ctx))
}

/// `kam plan diff A B`: what changed between two plan files (texts with their names).
///
/// # Errors
/// Either file does not parse, or the plans cannot be compared (different plan ids).
pub fn plan_diff(a_name: &str, a: &str, b_name: &str, b: &str) -> Result<PlanDiff, AccountError> {
    let a: Plan = files::parse_toml(a_name, a)?;
    let b: Plan = files::parse_toml(b_name, b)?;
    PlanDiff::between(&a, &b).map_err(AccountError::domain)
}
