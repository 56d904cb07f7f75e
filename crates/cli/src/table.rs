//! The human tables the commands print: each view of kam-account rendered as plain
//! text through [`Table`]. JSON is the views' own serde form; these are the only
//! formatting rules of the CLI's stdout.

use std::fmt::{self, Display, Write as _};

use kam_account::format::{grouped, millions, money, name, pct_of_fraction};
use kam_account::views::{
    AlertsReport, DeliveryReport, GrowthReport, NegotiationReport, PlanCheck, PriceReport, ScorecardReport,
    StakeholderReport,
};

/// A view shown as the table the CLI prints.
pub struct Table<'a, T>(pub &'a T);

impl Display for Table<'_, PlanCheck> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Plan {} as of {}: {} errors, {} warnings, {} info",
            self.0.plan, self.0.as_of, self.0.errors, self.0.warnings, self.0.infos
        )?;
        for x in &self.0.findings {
            writeln!(
                f,
                "  {:<7} {:<38} {:<36} {}",
                name(&x.severity),
                x.code.to_string(),
                x.path,
                x.message
            )?;
        }
        Ok(())
    }
}

impl Display for Table<'_, DeliveryReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let late = r.projects.iter().filter(|p| p.late).count();
        writeln!(
            f,
            "Delivery: {} projects, {} late; {} overloaded person-months ({} paths, seed {}; durations in {})",
            r.projects.len(),
            late,
            r.overloads.len(),
            r.paths,
            r.seed,
            r.unit
        )?;
        for p in &r.projects {
            writeln!(f)?;
            writeln!(
                f,
                "  {} — {}{}",
                p.id,
                if p.name.is_empty() { &p.id } else { &p.name },
                if p.late { "  [LATE]" } else { "" }
            )?;
            if let Some(d) = &p.deal {
                writeln!(
                    f,
                    "    deal: {d}{}",
                    if p.feeds_growth {
                        " (revenue starts at the simulated go-live)"
                    } else {
                        " (not in growth.toml: not linked)"
                    }
                )?;
            }
            writeln!(
                f,
                "    go-live committed {}   P50 {}   P90 {}   on time {}   (PERT mean {:.1} weeks)",
                p.committed,
                p.p50,
                p.p90,
                pct_of_fraction(p.prob_on_time),
                p.pert_weeks
            )?;
            writeln!(f, "    critical path: {}", p.critical_path.join(" → "))?;
            for m in p.milestones.iter().filter(|m| m.id != p.go_live) {
                writeln!(
                    f,
                    "    milestone {:<14} due {}   P50 {}   P90 {}   {}",
                    m.id,
                    m.due,
                    m.p50,
                    m.p90,
                    if m.at_risk { "AT RISK" } else { "ok" }
                )?;
            }
            if !p.unowned_critical.is_empty() {
                writeln!(f, "    critical without owner: {}", p.unowned_critical.join(", "))?;
            }
            writeln!(
                f,
                "    RACI: R {}; A {}; C {}; I {}",
                p.raci.responsible.join(", "),
                p.raci.accountable.as_deref().unwrap_or("-"),
                p.raci.consulted.join(", "),
                p.raci.informed.join(", ")
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  Overloaded (person days assigned > capacity a month): {}",
            r.overloads.len()
        )?;
        for o in &r.overloads {
            writeln!(
                f,
                "    {:<8} {:<14} {:>6.1} of {:>4} days   {}",
                o.month,
                o.person,
                o.days,
                o.capacity_days,
                o.projects.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Display for Table<'_, StakeholderReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stakeholder map: {} — {} people, {} of ours; key players {} ({} supportive), deciders {} ({} supportive)",
            name(&self.0.status).to_uppercase(),
            self.0.people,
            self.0.our_people,
            self.0.key_players,
            self.0.supportive_key_players,
            self.0.deciders,
            self.0.supportive_deciders
        )?;
        writeln!(
            f,
            "  Coverage gaps (key players nobody of ours covers): {}",
            self.0.gaps.len()
        )?;
        for g in &self.0.gaps {
            writeln!(
                f,
                "    {:<10} {:<22} {:<15} {} uncovered",
                g.region,
                g.function,
                name(&g.buying_role),
                g.key_players
            )?;
        }
        writeln!(
            f,
            "  Key players without a supporter: {}",
            self.0.unsupported_key_players.len()
        )?;
        for u in &self.0.unsupported_key_players {
            writeln!(f, "    {:<28} {:<10} {}", u.id, u.region, u.title)?;
        }
        writeln!(f, "  Single-threaded: {}", self.0.single_threaded.len())?;
        for t in &self.0.single_threaded {
            writeln!(f, "    {:<14} {} ({} people)", name(&t.scope), t.id, t.people)?;
        }
        Ok(())
    }
}

impl Display for Table<'_, PriceReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Proposal for {} / {} ({}), {}",
            self.0.node, self.0.service_line, self.0.period, self.0.currency
        )?;
        writeln!(
            f,
            "  {:<22} {:>12} {:>14} {:>14} {:>12}",
            "activity", "quantity", "baseline", "proposal", "delta"
        )?;
        for l in &self.0.lines {
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
            money(self.0.baseline_total),
            money(self.0.proposal_total)
        )?;
        for (l, a) in &self.0.adjustments {
            writeln!(f, "  {:<50} {:>14}", l, money(*a))?;
        }
        writeln!(
            f,
            "  proposal net {} vs baseline {}: {} ({})",
            money(self.0.proposal_net),
            money(self.0.baseline_total),
            money(self.0.delta),
            self.0.delta_pct.map_or("n/a".into(), |p| format!("{p} %"))
        )?;
        for (name, ls) in [
            ("proposal", &self.0.contribution),
            ("baseline", &self.0.baseline_contribution),
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
        for w in &self.0.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        Ok(())
    }
}

impl Display for Table<'_, NegotiationReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Negotiation: {} — full cost {} per unit, floor at {} % margin: {}",
            self.0.price_issue, self.0.unit_cost, self.0.min_margin_pct, self.0.floor_price
        )?;
        match (self.0.buyer_walk_away, self.0.price_zopa) {
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
            self.0.packages,
            self.0.frontier,
            self.0
                .zopa_frontier_packages
                .map_or("none".into(), |n| n.to_string())
        )?;
        match &self.0.recommendation {
            Some(p) => {
                writeln!(
                    f,
                    "  recommended package (max Nash product): utility us {} / them {}",
                    self.0.seller_utility.unwrap_or_default(),
                    self.0.buyer_utility.unwrap_or_default()
                )?;
                for (k, v) in p {
                    writeln!(f, "    {k:<26} {v}")?;
                }
                if let (Some(m), Some(ok)) = (self.0.recommended_margin_pct, self.0.keeps_margin_floor) {
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

impl Display for Table<'_, ScorecardReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — {} {}: overall {} ({}){}",
            self.0.sheet.template,
            self.0.node,
            self.0.period,
            self.0.sheet.overall.round_dp(4),
            self.0.sheet.grade,
            self.0
                .trend
                .map_or(String::new(), |t| format!(", {t:+} vs previous period"))
        )?;
        writeln!(
            f,
            "  {:<12} {:<28} {:>10} {:>10} {:>7} {:>7} {:>8}",
            "group", "kpi", "actual", "target", "score", "weight", "contrib"
        )?;
        for m in &self.0.sheet.measures {
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
        for s in &self.0.sites {
            let _ = write!(line, " {} {} {};", s.site, s.overall.round_dp(2), s.grade);
        }
        writeln!(f, "{}", line.trim_end_matches(';'))
    }
}

impl Display for Table<'_, AlertsReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Open alerts through {}: {}",
            self.0.period,
            self.0.alerts.len()
        )?;
        for a in &self.0.alerts {
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
        writeln!(f, "Open action plans: {}", self.0.actions.len())?;
        for a in &self.0.actions {
            writeln!(
                f,
                "  {:<12} {:<11} {:<12} due {}{}  {}",
                a.id,
                a.node,
                name(&a.state),
                a.due,
                if a.overdue { " OVERDUE" } else { "" },
                a.title
            )?;
        }
        writeln!(
            f,
            "Escalations: {} open",
            self.0.escalations.iter().filter(|e| e.open).count()
        )?;
        for e in self.0.escalations.iter().filter(|e| e.open) {
            writeln!(
                f,
                "  {:<9} {} at {:<26} SLA due {}{}  {}",
                e.id,
                name(&e.severity),
                name(&e.rung),
                e.sla_due.map_or("-".into(), |d| d.to_string()),
                if e.top_sla_missed { " (top SLA missed)" } else { "" },
                e.title
            )?;
        }
        Ok(())
    }
}

impl Display for Table<'_, kam_sim::Tornado> {
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

impl Display for Table<'_, GrowthReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Growth {} ({} paths, seed {}), revenue in millions",
            self.0.scenario, self.0.paths, self.0.seed
        )?;
        writeln!(
            f,
            "  {:<5} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "year", "P10", "P50", "P90", "target", "P(target)"
        )?;
        for y in &self.0.years {
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

impl Display for Table<'_, Vec<kam_account::check::Finding>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |s| self.0.iter().filter(|x| x.severity == s).count();
        use kam_core::plan::FindingSeverity;
        writeln!(
            f,
            "{} findings: {} errors, {} warnings, {} info",
            self.0.len(),
            count(FindingSeverity::Error),
            count(FindingSeverity::Warning),
            count(FindingSeverity::Info)
        )?;
        for x in self.0 {
            writeln!(
                f,
                "{}:{}: {:<7} {:<30} {}",
                x.file,
                x.line,
                name(&x.severity),
                x.code,
                x.message
            )?;
        }
        Ok(())
    }
}

impl Display for Table<'_, kam_account::history::Changes> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use kam_account::history::ItemChange;
        let c = self.0;
        if c.is_empty() {
            return writeln!(f, "no changes");
        }
        let items = |f: &mut fmt::Formatter<'_>, title: &str, items: &[ItemChange]| -> fmt::Result {
            if items.is_empty() {
                return Ok(());
            }
            writeln!(f, "{title}: {}", items.len())?;
            for i in items {
                writeln!(f, "  {:<9} {}", i.change, i.id)?;
                for x in &i.fields {
                    writeln!(
                        f,
                        "      {}: {} → {}",
                        x.field,
                        x.before.as_deref().unwrap_or("—"),
                        x.after.as_deref().unwrap_or("—")
                    )?;
                }
            }
            Ok(())
        };
        if let Some(d) = c.plan.as_ref().filter(|d| !d.is_empty()) {
            write!(f, "Plan: {}", crate::cmd::plan::render_diff(d))?;
        }
        let s = &c.stakeholders;
        if let Some(x) = &s.status {
            writeln!(
                f,
                "Stakeholder map: {} → {}",
                x.before.as_deref().unwrap_or("—"),
                x.after.as_deref().unwrap_or("—")
            )?;
        }
        items(f, "Stakeholders", &s.people)?;
        items(f, "Coverage", &s.coverage)?;
        if !s.gaps.is_empty() {
            writeln!(f, "Coverage gaps: {}", s.gaps.len())?;
            for g in &s.gaps {
                writeln!(f, "  {:<9} {}", g.change, g.cell)?;
            }
        }
        items(f, "Pricing", &c.pricing)?;
        items(f, "Pipeline", &c.pipeline)?;
        if let Some(o) = &c.overall {
            writeln!(
                f,
                "Scorecard overall: {} → {}",
                o.before.as_deref().unwrap_or("—"),
                o.after.as_deref().unwrap_or("—")
            )?;
        }
        for m in &c.scorecard {
            let v =
                |x: Option<rust_decimal::Decimal>| x.map_or("n/a".to_owned(), |x| x.round_dp(3).to_string());
            writeln!(f, "  score {:<28} {} → {}", m.kpi, v(m.before), v(m.after))?;
        }
        items(f, "Action plans", &c.actions)?;
        items(f, "Escalations", &c.escalations)?;
        if !c.growth.is_empty() {
            writeln!(f, "Growth forecast (P50, millions):")?;
            for (b, a) in &c.growth {
                writeln!(
                    f,
                    "  year {}: {} → {}  (target {} → {})",
                    a.year,
                    millions(b.p50),
                    millions(a.p50),
                    b.target.map_or("-".into(), millions),
                    a.target.map_or("-".into(), millions)
                )?;
            }
        }
        Ok(())
    }
}

impl Display for Table<'_, kam_account::views::CoachingReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Regional plans against the global standard")?;
        for r in &self.0.regions {
            let a = &r.assessment;
            writeln!(
                f,
                "  {:<10} {:<14} completeness {:>5}  key players {} (covered {}, by the manager {})",
                a.region,
                a.manager.as_deref().unwrap_or("no manager"),
                a.score.round_dp(1),
                r.key_players,
                r.covered,
                r.covered_by_manager
            )?;
            for c in &a.criteria {
                writeln!(
                    f,
                    "      {:<11} {:>5}  {}",
                    name(&c.criterion),
                    c.score.round_dp(1),
                    c.detail
                )?;
            }
            for d in &a.development_actions {
                writeln!(f, "      → {} (due {}, {})", d.title, d.due, name(&d.priority))?;
            }
        }
        Ok(())
    }
}

impl Display for Table<'_, kam_account::views::Rollup> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Scorecard roll-up, {} (weighted by revenue)", self.0.period)?;
        for n in &self.0.nodes {
            let indent = match n.level {
                kam_core::account::NodeLevel::Global => 0,
                kam_core::account::NodeLevel::Region => 2,
                kam_core::account::NodeLevel::Country => 4,
                kam_core::account::NodeLevel::Site => 6,
            };
            writeln!(
                f,
                "  {:indent$}{:<width$} {:>8}  weight {}",
                "",
                n.node,
                n.score.map_or("n/a".into(), |s| s.round_dp(3).to_string()),
                money(n.weight),
                width = 16 - indent
            )?;
        }
        Ok(())
    }
}
