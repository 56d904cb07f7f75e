//! The analyses behind the subcommands, `kam demo` and the EBR report: each loads what
//! it needs from an [`AccountDir`], runs kam's domain code, and returns a plain record
//! that prints as a human table ([`std::fmt::Display`]) or as JSON (serde, fields in
//! declaration order).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use kam_core::account::Account;
use kam_core::metrics::{
    AlertPolicy, AlertRegister, EscalationBook, KpiLibrary, Observation, ObservationTable, RolledUp,
    SlaPolicy, evaluate,
};
use kam_core::negotiation::{MarginFloor, PackageGrid, frontier, zone};
use kam_core::plan::{Finding, Plan, PlanDiff, Severity as PlanSeverity, ValidationContext};
use kam_core::pricing::{self, Volumes};
use kam_core::rules::{AlertRule, GrowthRule, GrowthRules, PricingRule};
use kam_core::scorecard::{ScoreSheet, Template, trend};
use kam_core::stakeholders::StakeholderMap;
use kam_script::{Limits, ScriptAlertRule, ScriptGrowthRule, ScriptHost, ScriptPricingRule};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::account_dir::{AccountDir, ActionsFile, KpiFile, Manifest, NegotiationFile, PricingFile};
use crate::error::CliError;
use crate::files::FileError;
use crate::plugins::Plugins;

/// Any displayable error as an input error.
pub fn input(e: impl Display) -> CliError {
    CliError::Input(e.to_string())
}

/// An error in a file without a known line: located by searching for `needle`.
fn in_file(dir: &AccountDir, name: &str, needle: Option<&str>, e: impl Display) -> CliError {
    let line = needle.map_or(1, |n| dir.line_of(name, n));
    input(FileError::at(&dir.display(name), line, 1, None, e))
}

/// The serde name of a unit enum value (`"amber"`, `"in_progress"`).
pub fn label<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

/// `1234567.891` → `1,234,567.89` (2 dp) — for tables only; JSON keeps exact decimals.
pub fn money(v: Decimal) -> String {
    grouped(v.round_dp(2), 2)
}

/// Thousands separators with `dp` decimals.
pub fn grouped(v: Decimal, dp: u32) -> String {
    let s = format!("{:.*}", dp as usize, v.round_dp(dp));
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// `0.1234` → `12.3 %`.
pub fn pct_of_fraction(v: Decimal) -> String {
    format!("{:.1} %", (v * Decimal::ONE_HUNDRED).round_dp(1))
}

fn load_rhai(dir: &AccountDir, name: &str) -> Result<String, CliError> {
    dir.text(name).map_err(input)
}

fn host() -> Arc<ScriptHost> {
    Arc::new(ScriptHost::new(Limits::default()))
}

// ---------------------------------------------------------------- plan

/// `kam plan check`.
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

/// Validates `plan.toml` against the account, the stakeholder map and the KPI library.
pub fn plan_check(dir: &AccountDir, as_of: NaiveDate) -> Result<PlanCheck, CliError> {
    let account: Account = dir.toml("account.toml").map_err(input)?;
    let plan: Plan = dir.toml("plan.toml").map_err(input)?;
    let mut ctx = ValidationContext::new(as_of)
        .with_account(&account)
        .map_err(|e| in_file(dir, "account.toml", None, e))?;
    if dir.exists("stakeholders.toml") {
        let map: StakeholderMap = dir.toml("stakeholders.toml").map_err(input)?;
        ctx = ctx.with_stakeholders(map.people.iter().map(|p| p.id.clone()));
    }
    if dir.exists("kpis.toml") {
        let lib = library(dir)?;
        ctx = ctx.with_kpis(lib.kpis().iter().map(|k| k.id.clone()));
    }
    let findings = plan.validate(&ctx);
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    Ok(PlanCheck {
        plan: plan.id.clone(),
        as_of,
        errors: count(PlanSeverity::Error),
        warnings: count(PlanSeverity::Warning),
        infos: count(PlanSeverity::Info),
        findings,
    })
}

impl Display for PlanCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Plan {} as of {}: {} errors, {} warnings, {} info",
            self.plan, self.as_of, self.errors, self.warnings, self.infos
        )?;
        for x in &self.findings {
            writeln!(
                f,
                "  {:<7} {:<38} {:<36} {}",
                label(&x.severity),
                x.code.to_string(),
                x.path,
                x.message
            )?;
        }
        Ok(())
    }
}

/// `kam plan diff A B`.
pub fn plan_diff(a_name: &str, a: &str, b_name: &str, b: &str) -> Result<PlanDiff, CliError> {
    let a: Plan = crate::files::parse_toml(a_name, a).map_err(input)?;
    let b: Plan = crate::files::parse_toml(b_name, b).map_err(input)?;
    PlanDiff::between(&a, &b).map_err(input)
}

// ---------------------------------------------------------------- stakeholders

/// A coverage gap.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// Region.
    pub region: String,
    /// Function.
    pub function: String,
    /// Buying role.
    pub buying_role: String,
    /// Key players in the cell none of ours covers.
    pub key_players: u32,
}

/// A key player without a supporter.
#[derive(Debug, Serialize)]
pub struct Unsupported {
    /// Person id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Region.
    pub region: String,
}

/// A region or buying centre hanging on one relationship.
#[derive(Debug, Serialize)]
pub struct SingleThread {
    /// `region` or `buying_centre`.
    pub scope: String,
    /// Its id.
    pub id: String,
    /// Customer people in it.
    pub people: u32,
}

/// `kam stakeholders`.
#[derive(Debug, Serialize)]
pub struct StakeholderReport {
    /// Map status (red / amber / green).
    pub status: String,
    /// Customer people.
    pub people: usize,
    /// Our people.
    pub our_people: usize,
    /// Key players.
    pub key_players: u32,
    /// Supportive key players.
    pub supportive_key_players: u32,
    /// Decision makers and approvers.
    pub deciders: u32,
    /// Supportive deciders.
    pub supportive_deciders: u32,
    /// Cells with uncovered key players.
    pub gaps: Vec<Gap>,
    /// Key players without a supporter.
    pub unsupported_key_players: Vec<Unsupported>,
    /// Single-threaded regions and buying centres.
    pub single_threaded: Vec<SingleThread>,
    /// Regions (heat-map rows).
    pub regions: Vec<String>,
    /// Functions (heat-map columns).
    pub functions: Vec<String>,
    /// Per region × function: (people, covered people, best level 1–4 or 0).
    pub heat: Vec<Vec<(u32, u32, u8)>>,
}

/// Analyses `stakeholders.toml`.
pub fn stakeholders(dir: &AccountDir) -> Result<StakeholderReport, CliError> {
    let name = "stakeholders.toml";
    let map: StakeholderMap = dir.toml(name).map_err(input)?;
    let graph = map.graph().map_err(|e| in_file(dir, name, None, e))?;
    let err = |e| in_file(dir, name, None, e);
    let status = graph.map_status().map_err(err)?;
    let matrix = graph.coverage_matrix().map_err(err)?;
    let gaps = matrix
        .gaps()
        .map(|c| Gap {
            region: c.region.clone(),
            function: c.function.clone(),
            buying_role: label(&c.buying_role),
            key_players: c.key_players - c.covered_key_players.min(c.key_players),
        })
        .collect();
    let unsupported = graph
        .unsupported_key_players()
        .map_err(err)?
        .into_iter()
        .map(|id| {
            let p = graph.person(&id);
            Unsupported {
                title: p.map(|p| p.title.clone()).unwrap_or_default(),
                region: p.map(|p| p.region.clone()).unwrap_or_default(),
                id,
            }
        })
        .collect();
    let single_threaded = graph
        .single_threaded()
        .map_err(err)?
        .into_iter()
        .map(|t| SingleThread {
            scope: label(&t.scope),
            id: t.id,
            people: t.people,
        })
        .collect();
    let regions: Vec<String> = map
        .people
        .iter()
        .map(|p| p.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let functions: Vec<String> = map
        .people
        .iter()
        .map(|p| p.function.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut cells: BTreeMap<(String, String), (u32, u32, u8)> = BTreeMap::new();
    for r in &regions {
        for fnc in &functions {
            for role in [
                kam_core::stakeholders::BuyingRole::DecisionMaker,
                kam_core::stakeholders::BuyingRole::Approver,
                kam_core::stakeholders::BuyingRole::Evaluator,
                kam_core::stakeholders::BuyingRole::User,
            ] {
                if let Some(c) = matrix.cell(r, fnc, role) {
                    let e = cells.entry((r.clone(), fnc.clone())).or_default();
                    e.0 += c.people;
                    e.1 += c.covered_people;
                    let lvl = c.best_level.map_or(0, |l| l as u8 + 1);
                    e.2 = e.2.max(lvl);
                }
            }
        }
    }
    let heat = regions
        .iter()
        .map(|r| {
            functions
                .iter()
                .map(|fnc| cells.get(&(r.clone(), fnc.clone())).copied().unwrap_or_default())
                .collect()
        })
        .collect();
    Ok(StakeholderReport {
        status: label(&status.status),
        people: map.people.len(),
        our_people: map.our_people.len(),
        key_players: status.key_players,
        supportive_key_players: status.supportive_key_players,
        deciders: status.deciders,
        supportive_deciders: status.supportive_deciders,
        gaps,
        unsupported_key_players: unsupported,
        single_threaded,
        regions,
        functions,
        heat,
    })
}

impl Display for StakeholderReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stakeholder map: {} — {} people, {} of ours; key players {} ({} supportive), deciders {} ({} supportive)",
            self.status.to_uppercase(),
            self.people,
            self.our_people,
            self.key_players,
            self.supportive_key_players,
            self.deciders,
            self.supportive_deciders
        )?;
        writeln!(
            f,
            "  Coverage gaps (key players nobody of ours covers): {}",
            self.gaps.len()
        )?;
        for g in &self.gaps {
            writeln!(
                f,
                "    {:<10} {:<22} {:<15} {} uncovered",
                g.region, g.function, g.buying_role, g.key_players
            )?;
        }
        writeln!(
            f,
            "  Key players without a supporter: {}",
            self.unsupported_key_players.len()
        )?;
        for u in &self.unsupported_key_players {
            writeln!(f, "    {:<28} {:<10} {}", u.id, u.region, u.title)?;
        }
        writeln!(f, "  Single-threaded: {}", self.single_threaded.len())?;
        for t in &self.single_threaded {
            writeln!(f, "    {:<14} {} ({} people)", t.scope, t.id, t.people)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- pricing

/// One activity priced on both cards.
#[derive(Debug, Serialize)]
pub struct PriceLine {
    /// Activity.
    pub activity: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Baseline amount.
    pub baseline: Decimal,
    /// Proposal amount.
    pub proposal: Decimal,
    /// Proposal − baseline.
    pub delta: Decimal,
    /// How the proposal line was priced.
    pub explanation: String,
}

/// A contribution layer.
#[derive(Debug, Serialize)]
pub struct Layer {
    /// CM1 / CM2 / CM3.
    pub layer: String,
    /// Cost in the layer.
    pub cost: Decimal,
    /// Margin after it.
    pub margin: Decimal,
    /// Margin % of revenue.
    pub margin_pct: Option<Decimal>,
}

/// `kam price`.
#[derive(Debug, Serialize)]
pub struct PriceReport {
    /// Node priced.
    pub node: String,
    /// Service line.
    pub service_line: String,
    /// Period.
    pub period: String,
    /// Currency.
    pub currency: String,
    /// Per activity.
    pub lines: Vec<PriceLine>,
    /// Baseline total.
    pub baseline_total: Decimal,
    /// Proposal total before rule adjustments.
    pub proposal_total: Decimal,
    /// Rule adjustment lines (label, amount).
    pub adjustments: Vec<(String, Decimal)>,
    /// Proposal after adjustments.
    pub proposal_net: Decimal,
    /// Proposal net − baseline.
    pub delta: Decimal,
    /// Delta % of baseline.
    pub delta_pct: Option<Decimal>,
    /// Contribution of the proposal: CM1–CM3.
    pub contribution: Vec<Layer>,
    /// Contribution of the baseline's revenue, for comparison.
    pub baseline_contribution: Vec<Layer>,
    /// Pricing warnings.
    pub warnings: Vec<String>,
}

fn layers(revenue: Decimal, costs: &[Decimal; 3]) -> Result<Vec<Layer>, CliError> {
    let c = pricing::contribution(revenue, costs).map_err(input)?;
    Ok(c.into_iter()
        .enumerate()
        .map(|(i, l)| Layer {
            layer: format!("CM{}", i + 1),
            cost: l.cost,
            margin: l.margin,
            margin_pct: l.margin_pct,
        })
        .collect())
}

/// Prices `pricing.toml` (volumes replaced by `volumes` if given) on both cards, and
/// applies the manifest's Rhai pricing rules, then its pricing plugins, to the proposal.
pub fn price(
    dir: &AccountDir,
    volumes: Option<Volumes>,
    manifest: &Manifest,
    plugins: &Plugins,
) -> Result<PriceReport, CliError> {
    let name = "pricing.toml";
    let pf: PricingFile = dir.toml(name).map_err(input)?;
    let vols = volumes.unwrap_or_else(|| pf.volumes.clone());
    let cmp =
        pricing::compare(&pf.baseline, &pf.proposal, vols.iter()).map_err(|e| in_file(dir, name, None, e))?;
    let mut proposal = cmp.proposal.clone();
    let mut loaded = Vec::new();
    for r in &manifest.rules.pricing {
        let src = load_rhai(dir, r)?;
        loaded.push(ScriptPricingRule::load(host(), r, &src).map_err(|e| CliError::Script(e.render()))?);
    }
    let rules: Vec<&dyn PricingRule> = loaded
        .iter()
        .map(|r| r as &dyn PricingRule)
        .chain(plugins.pricing())
        .collect();
    proposal
        .apply_rules(&rules)
        .map_err(|e| plugins.locate(input(e)))?;
    let costs = pf
        .cost_model
        .cost_layers(vols.iter().map(|(k, v)| (k.as_str(), *v)))
        .map_err(|e| in_file(dir, name, Some("[cost_model]"), e))?;
    let net = proposal.total().amount();
    let base = cmp.baseline.total().amount();
    let lines = cmp
        .lines
        .iter()
        .map(|l| PriceLine {
            activity: l.activity.clone(),
            quantity: vols.get(&l.activity).copied().unwrap_or_default(),
            baseline: l.baseline,
            proposal: l.proposal,
            delta: l.delta,
            explanation: cmp
                .proposal
                .line(&l.activity)
                .map(|q| q.explanation.clone())
                .unwrap_or_default(),
        })
        .collect();
    let delta = net - base;
    Ok(PriceReport {
        node: pf.node,
        service_line: pf.service_line,
        period: pf.period,
        currency: cmp.currency.to_string(),
        lines,
        baseline_total: base,
        proposal_total: cmp.proposal.total().amount(),
        adjustments: proposal
            .adjustments()
            .iter()
            .map(|a| (format!("{} ({})", a.label, a.rule), a.amount.amount()))
            .collect(),
        proposal_net: net,
        delta,
        delta_pct: (!base.is_zero()).then(|| (delta / base * Decimal::ONE_HUNDRED).round_dp(2)),
        contribution: layers(net, &costs)?,
        baseline_contribution: layers(base, &costs)?,
        warnings: cmp
            .baseline
            .warning_messages()
            .into_iter()
            .map(|w| format!("baseline: {w}"))
            .chain(
                cmp.proposal
                    .warning_messages()
                    .into_iter()
                    .map(|w| format!("proposal: {w}")),
            )
            .collect(),
    })
}

impl Display for PriceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Proposal for {} / {} ({}), {}",
            self.node, self.service_line, self.period, self.currency
        )?;
        writeln!(
            f,
            "  {:<22} {:>12} {:>14} {:>14} {:>12}",
            "activity", "quantity", "baseline", "proposal", "delta"
        )?;
        for l in &self.lines {
            writeln!(
                f,
                "  {:<22} {:>12} {:>14} {:>14} {:>12}",
                l.activity,
                grouped(l.quantity, 0),
                money(l.baseline),
                money(l.proposal),
                money(l.delta)
            )?;
        }
        writeln!(
            f,
            "  {:<35} {:>14} {:>14}",
            "total",
            money(self.baseline_total),
            money(self.proposal_total)
        )?;
        for (l, a) in &self.adjustments {
            writeln!(f, "  {:<50} {:>14}", l, money(*a))?;
        }
        writeln!(
            f,
            "  proposal net {} vs baseline {}: {} ({})",
            money(self.proposal_net),
            money(self.baseline_total),
            money(self.delta),
            self.delta_pct.map_or("n/a".into(), |p| format!("{p} %"))
        )?;
        for (name, ls) in [
            ("proposal", &self.contribution),
            ("baseline", &self.baseline_contribution),
        ] {
            let s: Vec<String> = ls
                .iter()
                .map(|l| {
                    format!(
                        "{} {} ({})",
                        l.layer,
                        money(l.margin),
                        l.margin_pct
                            .map_or("n/a".into(), |p| format!("{} %", p.round_dp(1)))
                    )
                })
                .collect();
            writeln!(f, "  margin on {name}: {}", s.join(", "))?;
        }
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- negotiation

/// `kam negotiate`.
#[derive(Debug, Serialize)]
pub struct NegotiationReport {
    /// The price issue.
    pub price_issue: String,
    /// Full cost per unit from the cost model at the contract volume.
    pub unit_cost: Decimal,
    /// Minimum margin %.
    pub min_margin_pct: Decimal,
    /// Lowest price that keeps the margin floor (our walk-away).
    pub floor_price: Decimal,
    /// The customer's walk-away price (BATNA price + switching cost), if described.
    pub buyer_walk_away: Option<Decimal>,
    /// Price ZOPA (low, high, width), if any.
    pub price_zopa: Option<(Decimal, Decimal, Decimal)>,
    /// Packages in the grid.
    pub packages: u64,
    /// Pareto-optimal packages.
    pub frontier: usize,
    /// Packages acceptable to both sides on the frontier.
    pub zopa_frontier_packages: Option<usize>,
    /// Recommended package (issue, value).
    pub recommendation: Option<Vec<(String, Decimal)>>,
    /// Our utility of it.
    pub seller_utility: Option<Decimal>,
    /// Their utility of it.
    pub buyer_utility: Option<Decimal>,
    /// Margin % at the recommended price.
    pub recommended_margin_pct: Option<Decimal>,
    /// Whether the recommended price keeps the margin floor.
    pub keeps_margin_floor: Option<bool>,
}

/// Analyses `negotiation.toml` with the margin floor from `pricing.toml`'s cost model.
pub fn negotiate(dir: &AccountDir) -> Result<NegotiationReport, CliError> {
    let name = "negotiation.toml";
    let nf: NegotiationFile = dir.toml(name).map_err(input)?;
    let pf: PricingFile = dir.toml("pricing.toml").map_err(input)?;
    let err = |e: kam_core::negotiation::NegotiationError| in_file(dir, name, None, e);
    let cost = pf.cost_model.activity(&nf.price_activity).ok_or_else(|| {
        in_file(
            dir,
            name,
            Some("price_activity"),
            format!(
                "field `price_activity`: {:?} is not in pricing.toml's cost model",
                nf.price_activity
            ),
        )
    })?;
    let qty = pf.volumes.get(&nf.price_activity).copied().unwrap_or_default();
    let fixed = cost.dedicated_fixed + cost.allocated_overhead;
    let unit_cost = if qty.is_zero() {
        cost.variable_per_unit
    } else {
        (cost.variable_per_unit + fixed / qty).round_dp(4)
    };
    let floor = MarginFloor::new(unit_cost, nf.min_margin_pct).map_err(err)?;
    let floor_price = floor.floor_price().map_err(err)?.round_dp(4);
    let buyer_walk_away = nf.space.buyer.batna.as_ref().map(|b| b.price + b.switching_cost);
    let price_zopa = match buyer_walk_away {
        Some(w) => zone::zopa(floor_price, w)
            .map_err(err)?
            .map(|z| (z.low, z.high, z.width)),
        None => None,
    };
    let grid = PackageGrid::new(&nf.space, nf.levels_per_range).map_err(err)?;
    let analysis = frontier::analyze(&nf.space, &grid, nf.seller_power).map_err(err)?;
    let rec = analysis.recommendation.as_ref();
    let rec_price = rec.and_then(|r| r.point.package.get(&nf.price_issue).ok());
    Ok(NegotiationReport {
        price_issue: nf.price_issue.clone(),
        unit_cost,
        min_margin_pct: nf.min_margin_pct,
        floor_price,
        buyer_walk_away,
        price_zopa,
        packages: analysis.packages,
        frontier: analysis.frontier.len(),
        zopa_frontier_packages: analysis.zopa.as_ref().map(|z| z.frontier_packages),
        recommendation: rec.map(|r| r.point.package.0.iter().map(|(k, v)| (k.clone(), *v)).collect()),
        seller_utility: rec.map(|r| r.point.seller_utility.round_dp(4)),
        buyer_utility: rec.map(|r| r.point.buyer_utility.round_dp(4)),
        recommended_margin_pct: match rec_price {
            Some(p) => Some(floor.margin_pct(p).map_err(err)?.round_dp(2)),
            None => None,
        },
        keeps_margin_floor: match rec_price {
            Some(p) => Some(floor.admits(p).map_err(err)?),
            None => None,
        },
    })
}

impl Display for NegotiationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Negotiation: {} — full cost {} per unit, floor at {} % margin: {}",
            self.price_issue, self.unit_cost, self.min_margin_pct, self.floor_price
        )?;
        match (self.buyer_walk_away, self.price_zopa) {
            (Some(w), Some((lo, hi, wd))) => writeln!(
                f,
                "  customer walks away above {w}; price ZOPA {lo} – {hi} (width {wd})"
            )?,
            (Some(w), None) => writeln!(
                f,
                "  customer walks away above {w}: NO price ZOPA above our floor"
            )?,
            _ => writeln!(f, "  customer BATNA not described")?,
        }
        writeln!(
            f,
            "  {} packages, {} on the Pareto frontier, {} acceptable to both",
            self.packages,
            self.frontier,
            self.zopa_frontier_packages
                .map_or("none".into(), |n| n.to_string())
        )?;
        match &self.recommendation {
            Some(p) => {
                writeln!(
                    f,
                    "  recommended package (max Nash product): utility us {} / them {}",
                    self.seller_utility.unwrap_or_default(),
                    self.buyer_utility.unwrap_or_default()
                )?;
                for (k, v) in p {
                    writeln!(f, "    {k:<26} {v}")?;
                }
                if let (Some(m), Some(ok)) = (self.recommended_margin_pct, self.keeps_margin_floor) {
                    writeln!(
                        f,
                        "  margin at recommended price: {m} % ({})",
                        if ok { "keeps the floor" } else { "BELOW the floor" }
                    )?;
                }
            }
            None => writeln!(f, "  no package is acceptable to both sides")?,
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- KPIs, scorecard, alerts

/// The KPI library: standard plus `kpis.toml`.
pub fn library(dir: &AccountDir) -> Result<KpiLibrary, CliError> {
    let mut lib = KpiLibrary::contract_logistics();
    if dir.exists("kpis.toml") {
        let kf: KpiFile = dir.toml("kpis.toml").map_err(input)?;
        for k in kf.kpi {
            let id = k.id.clone();
            lib = lib
                .with(k)
                .map_err(|e| in_file(dir, "kpis.toml", Some(&format!("id = \"{id}\"")), e))?;
        }
    }
    Ok(lib)
}

/// KPI data loaded and rolled up.
pub struct KpiData {
    /// The library.
    pub library: KpiLibrary,
    /// Rolled-up table.
    pub rolled: RolledUp,
    /// Periods, oldest first.
    pub periods: Vec<String>,
    /// Site ids.
    pub sites: Vec<String>,
    /// Root node id.
    pub root: String,
}

/// Loads the account, KPI library and observations, and rolls them up.
pub fn kpi_data(dir: &AccountDir) -> Result<KpiData, CliError> {
    let account: Account = dir.toml("account.toml").map_err(input)?;
    let hierarchy = account
        .hierarchy()
        .map_err(|e| in_file(dir, "account.toml", None, e))?;
    let library = library(dir)?;
    let (file, rows) = dir.observations().map_err(input)?;
    let periods: Vec<String> = rows
        .iter()
        .map(|r| r.record.period.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut table = ObservationTable::new(&library, &hierarchy, periods.clone()).map_err(input)?;
    let node_ids: BTreeSet<String> = account.nodes.iter().map(|n| n.id.clone()).collect();
    let at = |line, col, field: &str, msg: String| input(FileError::at(&file, line, col, Some(field), msg));
    for r in &rows {
        let o = &r.record;
        if !node_ids.contains(&o.node) {
            return Err(at(
                r.line,
                1,
                "node",
                format!("unknown account node {:?} (not in account.toml)", o.node),
            ));
        }
        if library.position(&o.kpi).is_none() {
            return Err(at(
                r.line,
                3,
                "kpi",
                format!("unknown KPI {:?} (not in the KPI library or kpis.toml)", o.kpi),
            ));
        }
        table
            .record(
                &o.node,
                &o.kpi,
                &o.period,
                Observation::ratio(o.numerator, o.denominator),
            )
            .map_err(|e| at(r.line, 4, "numerator", e.to_string()))?;
    }
    let rolled = table.roll_up().map_err(input)?;
    let sites = account
        .nodes
        .iter()
        .filter(|n| label(&n.level) == "site")
        .map(|n| n.id.clone())
        .collect();
    let root = account
        .nodes
        .iter()
        .find(|n| n.parent.is_none())
        .map(|n| n.id.clone())
        .unwrap_or_default();
    Ok(KpiData {
        library,
        rolled,
        periods,
        sites,
        root,
    })
}

/// A site's score.
#[derive(Debug, Serialize)]
pub struct SiteScore {
    /// Site.
    pub site: String,
    /// Overall score.
    pub overall: Decimal,
    /// Grade.
    pub grade: String,
}

/// `kam scorecard`.
#[derive(Debug, Serialize)]
pub struct ScorecardReport {
    /// Node scored.
    pub node: String,
    /// Period scored.
    pub period: String,
    /// The sheet.
    pub sheet: ScoreSheet,
    /// Change of the overall score against the previous period.
    pub trend: Option<Decimal>,
    /// Every site's score in the period.
    pub sites: Vec<SiteScore>,
}

/// Scores `scorecard.toml` for the whole account (and each site) in the last period;
/// measures with `method = "rule"` are scored by the manifest's scoring plugin.
pub fn scorecard(dir: &AccountDir, data: &KpiData, plugins: &Plugins) -> Result<ScorecardReport, CliError> {
    let name = "scorecard.toml";
    let template: Template = dir.toml(name).map_err(input)?;
    let err = |e: kam_core::scorecard::ScorecardError| plugins.locate(in_file(dir, name, None, e));
    let rule = plugins.scoring();
    let period = data
        .periods
        .last()
        .cloned()
        .ok_or_else(|| input("no KPI observations"))?;
    let sheet = template
        .score_node(&data.library, &data.rolled, &data.root, &period, rule)
        .map_err(err)?;
    let trend = match data
        .periods
        .len()
        .checked_sub(2)
        .and_then(|i| data.periods.get(i))
    {
        Some(prev) => {
            let p = template
                .score_node(&data.library, &data.rolled, &data.root, prev, rule)
                .map_err(err)?;
            Some(trend(&sheet, &p).map_err(err)?.delta.round_dp(4))
        }
        None => None,
    };
    let mut sites = Vec::new();
    for s in &data.sites {
        let sh = template
            .score_node(&data.library, &data.rolled, s, &period, rule)
            .map_err(err)?;
        sites.push(SiteScore {
            site: s.clone(),
            overall: sh.overall.round_dp(4),
            grade: sh.grade,
        });
    }
    Ok(ScorecardReport {
        node: data.root.clone(),
        period,
        sheet,
        trend,
        sites,
    })
}

impl Display for ScorecardReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — {} {}: overall {} ({}){}",
            self.sheet.template,
            self.node,
            self.period,
            self.sheet.overall.round_dp(4),
            self.sheet.grade,
            self.trend
                .map_or(String::new(), |t| format!(", {t:+} vs previous period"))
        )?;
        writeln!(
            f,
            "  {:<12} {:<28} {:>10} {:>10} {:>7} {:>7} {:>8}",
            "group", "kpi", "actual", "target", "score", "weight", "contrib"
        )?;
        for m in &self.sheet.measures {
            writeln!(
                f,
                "  {:<12} {:<28} {:>10} {:>10} {:>7} {:>7} {:>8}",
                m.group,
                m.kpi,
                m.actual.map_or("n/a".into(), |a| a.round_dp(2).to_string()),
                m.target,
                m.score.map_or("n/a".into(), |s| s.round_dp(3).to_string()),
                m.weight.round_dp(3),
                m.contribution.round_dp(4)
            )?;
        }
        let mut line = String::from("  sites:");
        for s in &self.sites {
            let _ = write!(line, " {} {} {};", s.site, s.overall.round_dp(2), s.grade);
        }
        writeln!(f, "{}", line.trim_end_matches(';'))
    }
}

/// An open alert.
#[derive(Debug, Serialize)]
pub struct AlertRow {
    /// Node.
    pub node: String,
    /// KPI.
    pub kpi: String,
    /// Kind.
    pub kind: String,
    /// Period opened.
    pub opened: String,
    /// Periods active.
    pub periods_active: u32,
    /// Last value.
    pub value: Option<Decimal>,
    /// Message.
    pub message: String,
}

/// An action plan.
#[derive(Debug, Serialize)]
pub struct ActionRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Node.
    pub node: String,
    /// KPI.
    pub kpi: String,
    /// Owner.
    pub owner: String,
    /// Due date.
    pub due: NaiveDate,
    /// State.
    pub state: String,
    /// Past due and not resolved.
    pub overdue: bool,
}

/// An escalation after replaying the SLA ladder.
#[derive(Debug, Serialize)]
pub struct EscalationRow {
    /// Id.
    pub id: String,
    /// Node.
    pub node: Option<String>,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Current rung.
    pub rung: String,
    /// When the current rung's SLA runs out (open ones).
    pub sla_due: Option<NaiveDateTime>,
    /// The top rung's SLA was missed.
    pub top_sla_missed: bool,
    /// Still open.
    pub open: bool,
}

/// `kam alerts` part of the demo: alerts, action plans, escalations.
#[derive(Debug, Serialize)]
pub struct AlertsReport {
    /// Evaluated through this period.
    pub period: String,
    /// Open alerts.
    pub alerts: Vec<AlertRow>,
    /// Open action plans.
    pub actions: Vec<ActionRow>,
    /// Escalations.
    pub escalations: Vec<EscalationRow>,
}

/// Evaluates alerts over all periods (built-in policy + the manifest's Rhai alert rules
/// and alert plugins) and replays action plans and escalations up to noon of the as-of
/// date.
pub fn alerts(
    dir: &AccountDir,
    data: &KpiData,
    manifest: &Manifest,
    plugins: &Plugins,
) -> Result<AlertsReport, CliError> {
    let mut loaded = Vec::new();
    for r in &manifest.rules.alert {
        let src = load_rhai(dir, r)?;
        loaded.push(ScriptAlertRule::load(host(), r, &src).map_err(|e| CliError::Script(e.render()))?);
    }
    let rules: Vec<&dyn AlertRule> = loaded
        .iter()
        .map(|r| r as &dyn AlertRule)
        .chain(plugins.alert())
        .collect();
    let period = data
        .periods
        .last()
        .cloned()
        .ok_or_else(|| input("no KPI observations"))?;
    let mut register = AlertRegister::default();
    evaluate(
        &data.rolled,
        &AlertPolicy::default(),
        &rules,
        &mut register,
        &period,
    )
    .map_err(|e| plugins.locate(input(e)))?;
    let site_set: BTreeSet<&str> = data.sites.iter().map(String::as_str).collect();
    let mut alerts: Vec<AlertRow> = register
        .open()
        .filter(|a| site_set.contains(&*a.node))
        .map(|a| AlertRow {
            node: a.node.to_string(),
            kpi: a.kpi.to_string(),
            kind: match &a.kind {
                kam_core::metrics::AlertKind::Rule(n) => format!("rule:{n}"),
                k => label(k),
            },
            opened: a.opened.to_string(),
            periods_active: a.periods_active,
            value: a.value.map(|v| v.round_dp(2)),
            message: a.message.clone(),
        })
        .collect();
    alerts.sort_by(|a, b| (&a.node, &a.kpi, &a.kind).cmp(&(&b.node, &b.kpi, &b.kind)));
    let as_of = manifest.as_of;
    let now = as_of
        .and_hms_opt(12, 0, 0)
        .ok_or_else(|| input("as_of: invalid date"))?;
    let af: ActionsFile = if dir.exists("actions.toml") {
        dir.toml("actions.toml").map_err(input)?
    } else {
        ActionsFile::default()
    };
    let actions = af
        .action
        .iter()
        .filter(|a| label(&a.state) != "verified")
        .map(|a| ActionRow {
            id: a.id.clone(),
            title: a.title.clone(),
            node: a.node.clone(),
            kpi: a.kpi.clone(),
            owner: a.owner.clone(),
            due: a.due,
            state: label(&a.state),
            overdue: a.is_overdue(as_of),
        })
        .collect();
    let mut book = EscalationBook::new(SlaPolicy::default()).map_err(input)?;
    let esc_err = |id: &str, e: kam_core::metrics::EscalationError| {
        in_file(dir, "actions.toml", Some(&format!("id = \"{id}\"")), e)
    };
    let mut events: Vec<(NaiveDateTime, bool, usize)> = Vec::new();
    for (i, e) in af.escalation.iter().enumerate() {
        events.push((e.opened, false, i));
        if let Some(r) = e.resolved {
            events.push((r, true, i));
        }
    }
    events.sort();
    for (at, resolve, i) in events {
        let Some(e) = af.escalation.get(i) else { continue };
        if at > now {
            continue;
        }
        book.tick(at).map_err(|x| esc_err(&e.id, x))?;
        if resolve {
            book.resolve(&e.id, at, "resolved")
                .map_err(|x| esc_err(&e.id, x))?;
        } else {
            book.open(&e.id, "account", e.node.as_deref(), &e.title, e.severity, at)
                .map_err(|x| esc_err(&e.id, x))?;
        }
    }
    book.tick(now).map_err(input)?;
    let escalations = book
        .escalations()
        .iter()
        .map(|e| EscalationRow {
            id: e.id.clone(),
            node: e.node.clone(),
            title: e.title.clone(),
            severity: label(&e.severity),
            rung: label(&e.rung),
            sla_due: if e.is_open() {
                book.deadline(&e.id).ok()
            } else {
                None
            },
            top_sla_missed: e.history.iter().any(|h| {
                matches!(
                    h,
                    kam_core::metrics::escalation::EscalationEvent::TopSlaMissed { .. }
                )
            }),
            open: e.is_open(),
        })
        .collect();
    Ok(AlertsReport {
        period,
        alerts,
        actions,
        escalations,
    })
}

impl Display for AlertsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Open alerts through {}: {}", self.period, self.alerts.len())?;
        for a in &self.alerts {
            writeln!(
                f,
                "  {:<11} {:<26} {:<30} since {} ({} periods), raised at {}",
                a.node,
                a.kpi,
                a.kind,
                a.opened,
                a.periods_active,
                a.value.map_or("n/a".into(), |v| v.to_string())
            )?;
        }
        writeln!(f, "Open action plans: {}", self.actions.len())?;
        for a in &self.actions {
            writeln!(
                f,
                "  {:<12} {:<11} {:<12} due {}{}  {}",
                a.id,
                a.node,
                a.state,
                a.due,
                if a.overdue { " OVERDUE" } else { "" },
                a.title
            )?;
        }
        writeln!(
            f,
            "Escalations: {} open",
            self.escalations.iter().filter(|e| e.open).count()
        )?;
        for e in self.escalations.iter().filter(|e| e.open) {
            writeln!(
                f,
                "  {:<9} {} at {:<26} SLA due {}{}  {}",
                e.id,
                e.severity,
                e.rung,
                e.sla_due.map_or("-".into(), |d| d.to_string()),
                if e.top_sla_missed { " (top SLA missed)" } else { "" },
                e.title
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- growth

/// One year of the growth forecast.
#[derive(Debug, Serialize)]
pub struct GrowthYear {
    /// Contract year (1-based).
    pub year: u32,
    /// P10 revenue.
    pub p10: Decimal,
    /// P50 revenue.
    pub p50: Decimal,
    /// P90 revenue.
    pub p90: Decimal,
    /// Target.
    pub target: Option<Decimal>,
    /// Probability of reaching it.
    pub prob_reach_target: Option<Decimal>,
}

/// Growth P10/P50/P90 against target.
#[derive(Debug, Serialize)]
pub struct GrowthReport {
    /// Scenario name.
    pub scenario: String,
    /// Paths.
    pub paths: u64,
    /// Seed.
    pub seed: u64,
    /// Per year.
    pub years: Vec<GrowthYear>,
}

/// Growth summary from simulation results.
pub fn growth_report(r: &kam_sim::SimResults) -> GrowthReport {
    GrowthReport {
        scenario: r.scenario.clone(),
        paths: r.paths,
        seed: r.seed,
        years: r
            .years
            .iter()
            .map(|y| GrowthYear {
                year: y.year,
                p10: y.revenue.p10,
                p50: y.revenue.p50,
                p90: y.revenue.p90,
                target: y.target,
                prob_reach_target: y.prob_reach_target,
            })
            .collect(),
    }
}

/// The manifest's growth rules — its Rhai growth rules, then its growth plugin — as one
/// rule (a line's factors multiply), or `None` when it has none.
pub fn growth_rule(
    dir: &AccountDir,
    manifest: &Manifest,
    plugins: &Plugins,
) -> Result<Option<Arc<dyn GrowthRule>>, CliError> {
    let mut rules: Vec<Arc<dyn GrowthRule>> = Vec::new();
    for r in &manifest.rules.growth {
        let src = load_rhai(dir, r)?;
        let rule = ScriptGrowthRule::load(host(), r, &src).map_err(|e| CliError::Script(e.render()))?;
        rules.push(Arc::new(rule));
    }
    rules.extend(plugins.growth());
    Ok(match rules.len() {
        0 | 1 => rules.pop(),
        _ => Some(Arc::new(GrowthRules::new(rules))),
    })
}

/// Runs `growth.toml` with `paths` and `seed`, and the manifest's growth rules.
pub fn growth(
    dir: &AccountDir,
    manifest: &Manifest,
    paths: u64,
    seed: u64,
    plugins: &Plugins,
) -> Result<(kam_sim::Scenario, kam_sim::SimResults), CliError> {
    let name = "growth.toml";
    let scenario =
        kam_sim::parse_scenario(&dir.text(name).map_err(input)?, &dir.display(name)).map_err(input)?;
    let mut options = kam_sim::RunOptions::new(paths, seed);
    if let Some(rule) = growth_rule(dir, manifest, plugins)? {
        options = options.rule(rule);
    }
    let summary = kam_sim::run(&scenario, &options).map_err(|e| plugins.locate(input(e)))?;
    let results = summary.results().map_err(input)?;
    Ok((scenario, results))
}

/// An amount in millions with one decimal, the unit of the growth and tornado tables.
fn millions(v: Decimal) -> String {
    format!("{:.1}", (v / Decimal::from(1_000_000)).round_dp(1))
}

/// A tornado in the growth table's units (millions), for the `kam simulate` table.
pub struct TornadoReport<'a>(pub &'a kam_sim::Tornado);

impl Display for TornadoReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        writeln!(
            f,
            "Tornado: what moves the horizon revenue P50 most, in millions (base {}; {} paths a run, seed {})",
            millions(t.base_p50),
            t.paths,
            t.seed
        )?;
        writeln!(
            f,
            "  {:<26} {:>7}   {:<16} {:>9}   {:<16} {:>9}",
            "input", "swing", "low", "P50", "high", "P50"
        )?;
        for b in &t.bars {
            writeln!(
                f,
                "  {:<26} {:>7}   {:<16} {:>9}   {:<16} {:>9}",
                b.input,
                millions(b.swing),
                b.low,
                millions(b.p50_low),
                b.high,
                millions(b.p50_high)
            )?;
        }
        Ok(())
    }
}

impl Display for GrowthReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Growth {} ({} paths, seed {}), revenue in millions",
            self.scenario, self.paths, self.seed
        )?;
        writeln!(
            f,
            "  {:<5} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "year", "P10", "P50", "P90", "target", "P(target)"
        )?;
        for y in &self.years {
            writeln!(
                f,
                "  {:<5} {:>9} {:>9} {:>9} {:>9} {:>10}",
                y.year,
                millions(y.p10),
                millions(y.p50),
                millions(y.p90),
                y.target.map_or("-".into(), millions),
                y.prob_reach_target.map_or("-".into(), pct_of_fraction)
            )?;
        }
        Ok(())
    }
}
