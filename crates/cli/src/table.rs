//! The human tables the commands print: each view of kam-account rendered as plain
//! text through [`Table`]. JSON is the views' own serde form; these are the only
//! formatting rules of the CLI's stdout.

use std::fmt::{self, Display, Write as _};

use kam_account::format::{grouped, millions, money, name, pct_of_fraction};
use kam_account::views::{
    AlertRow, AlertsReport, ConcessionReport, CostRow, CostToServeReport, DeliveryReport, EscalationRow,
    EscalationsReport, GrowthReport, NegotiationReport, PeriodsReport, PlanCheck, PriceReport,
    ScorecardReport, StakeholderReport,
};
use kam_core::metrics::Severity;
use kam_core::text::for_terminal_line;

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

/// A list joined with commas, or `-` when empty.
fn or_dash(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(", ")
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
        if !r.objectives.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "  Objectives (RACI from plan.toml, the projects and the assignments):"
            )?;
            for o in &r.objectives {
                writeln!(
                    f,
                    "    {:<18} R {}; A {}; C {}; I {}{}",
                    o.objective,
                    or_dash(&o.raci.responsible),
                    o.raci.accountable.as_deref().unwrap_or("-"),
                    or_dash(&o.raci.consulted),
                    or_dash(&o.raci.informed),
                    if o.title.is_none() {
                        "   (not in plan.toml)"
                    } else {
                        ""
                    }
                )?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "  Overloaded (person days assigned > capacity a month): {}",
            r.overloads.len()
        )?;
        for o in &r.overloads {
            let from: Vec<&str> = o
                .projects
                .iter()
                .chain(&o.assignments)
                .map(String::as_str)
                .collect();
            writeln!(
                f,
                "    {:<8} {:<14} {:>6.1} of {:>4} days   {}",
                o.month,
                o.person,
                o.days,
                o.capacity_days,
                from.join(", ")
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
            let noun = if t.people == 1 { "person" } else { "people" };
            writeln!(f, "    {:<14} {} ({} {noun})", name(&t.scope), t.id, t.people)?;
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
        for (l, a) in &self.0.baseline_adjustments {
            writeln!(f, "  baseline: {:<40} {:>14}", l, money(*a))?;
        }
        for (l, a) in &self.0.adjustments {
            // A label comes from a rule (Rhai or plugin): one line, whatever it holds.
            writeln!(f, "  {:<50} {:>14}", for_terminal_line(l), money(*a))?;
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
            margins(f, name, ls)?;
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
        if let Some(c) = &self.0.concessions {
            write!(f, "{}", Table(c))?;
        }
        Ok(())
    }
}

/// `a − b` as money (the adjustments between a total and a net); overflow shows as such.
fn diff(a: rust_decimal::Decimal, b: rust_decimal::Decimal) -> String {
    a.checked_sub(b).map_or_else(|| "overflow".into(), money)
}

fn margins(f: &mut fmt::Formatter<'_>, label: &str, ls: &[kam_account::views::MarginLayer]) -> fmt::Result {
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
    writeln!(f, "  margin on {label}: {}", s.join(", "))
}

impl Display for Table<'_, PeriodsReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "Proposal for {} / {} over {} periods, {}",
            r.node,
            r.service_line,
            r.periods.len(),
            r.currency
        )?;
        writeln!(
            f,
            "  {:<10} {:>14} {:>14} {:>14} {:>14} {:>12} {:>8}",
            "period", "baseline", "proposal", "adjustments", "net", "delta", "CM3 %"
        )?;
        for p in &r.periods {
            writeln!(
                f,
                "  {:<10} {:>14} {:>14} {:>14} {:>14} {:>12} {:>8}",
                p.period,
                money(p.baseline_total),
                money(p.proposal_total),
                diff(p.proposal_net, p.proposal_total),
                money(p.proposal_net),
                money(p.delta),
                p.proposal_margin_pct()
                    .map_or("n/a".into(), |m| m.round_dp(1).to_string())
            )?;
        }
        let t = &r.totals;
        writeln!(
            f,
            "  {:<10} {:>14} {:>14} {:>14} {:>14} {:>12} {:>8}",
            "total",
            money(t.baseline_total),
            money(t.proposal_total),
            diff(t.proposal_net, t.proposal_total),
            money(t.proposal_net),
            money(t.delta),
            t.contribution
                .last()
                .and_then(|l| l.margin_pct)
                .map_or("n/a".into(), |m| m.round_dp(1).to_string())
        )?;
        writeln!(
            f,
            "  proposal net {} vs baseline {}: {} ({}); banked credits used {}",
            money(t.proposal_net),
            money(t.baseline_total),
            money(t.delta),
            t.delta_pct.map_or("n/a".into(), |p| format!("{p} %")),
            money(t.proposal_credits)
        )?;
        margins(f, "proposal", &t.contribution)?;
        margins(f, "baseline", &t.baseline_contribution)?;
        for b in &r.banking {
            let m = &b.billing;
            writeln!(
                f,
                "  {} {}: minimum {} a period, shortfall {}, credit used {}, expired {}",
                b.card,
                m.activity,
                grouped(m.minimum, 0),
                money(m.total_shortfall),
                money(m.total_credit_applied),
                money(m.total_credit_expired)
            )?;
            writeln!(
                f,
                "    {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}",
                "period", "volume", "shortfall", "banked", "used", "expired", "due"
            )?;
            for (pb, label) in m.periods.iter().zip(&b.periods) {
                writeln!(
                    f,
                    "    {:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}",
                    label,
                    grouped(pb.volume, 0),
                    money(pb.shortfall_amount),
                    money(pb.credit_banked),
                    money(pb.credit_applied),
                    money(pb.credit_expired),
                    money(pb.amount_due)
                )?;
            }
        }
        for p in &r.periods {
            for (l, a) in p.adjustments.iter() {
                writeln!(f, "  {:<10} {:<50} {:>14}", p.period, l, money(*a))?;
            }
            for w in &p.warnings {
                writeln!(f, "  {:<10} warning: {w}", p.period)?;
            }
        }
        Ok(())
    }
}

fn cost_line(f: &mut fmt::Formatter<'_>, label: &str, r: &CostRow) -> fmt::Result {
    let c = &r.contribution;
    // A margin % of a negative revenue (the unallocated rebate) means nothing.
    let pct = |p: Option<rust_decimal::Decimal>| match p {
        Some(p) if c.revenue > rust_decimal::Decimal::ZERO => format!("{}", p.round_dp(1)),
        _ => "n/a".into(),
    };
    writeln!(
        f,
        "  {:<34} {:>13} {:>13} {:>13} {:>6} {:>13} {:>13} {:>6}",
        label,
        money(c.revenue),
        money(r.cost_to_serve),
        money(c.cm1.margin),
        pct(c.cm1.margin_pct),
        money(c.cm2.margin),
        money(c.cm3.margin),
        pct(c.cm3.margin_pct)
    )
}

impl Display for Table<'_, CostToServeReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "Cost-to-serve of the proposal by {} ({}), {}",
            name(&r.by).replace('_', " "),
            r.period,
            r.currency
        )?;
        writeln!(
            f,
            "  {:<34} {:>13} {:>13} {:>13} {:>6} {:>13} {:>13} {:>6}",
            "", "revenue", "cost to serve", "CM1", "%", "CM2", "CM3", "%"
        )?;
        for row in &r.rows {
            let label = match (&row.node, &row.service_line) {
                (Some(n), Some(s)) => format!("{n} / {s}"),
                (Some(x), None) | (None, Some(x)) => x.clone(),
                (None, None) => String::new(),
            };
            cost_line(f, &label, row)?;
        }
        cost_line(f, "unallocated (idle fixed, rules)", &r.unallocated)?;
        cost_line(f, "total", &r.total)
    }
}

impl Display for Table<'_, ConcessionReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "Concession log {} on {}: {} offers, every one within its side's limits",
            r.file,
            r.issue,
            r.offers.len()
        )?;
        for o in &r.offers {
            let trades = |ts: &[kam_core::negotiation::Trade]| {
                ts.iter()
                    .map(|t| format!("{} {}→{}", t.issue, t.from, t.to))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut extra = String::new();
            if !o.gives.is_empty() {
                extra.push_str(&format!("  gives {}", trades(&o.gives)));
            }
            if !o.gets.is_empty() {
                extra.push_str(&format!("  gets {}", trades(&o.gets)));
            }
            writeln!(
                f,
                "  {:>2} {} {:<6} {:>8} (step {}){extra}",
                o.round,
                o.date,
                name(&o.side),
                o.price,
                o.step
            )?;
        }
        for s in &r.sides {
            let opt = |v: Option<rust_decimal::Decimal>| v.map_or("n/a".into(), |v| v.to_string());
            writeln!(
                f,
                "  {:<6} {} offers, {} → {}: conceded {} ({} per offer, {} % of the room to its limit); left to walk-away {}{}",
                name(&s.side),
                s.offers,
                opt(s.first),
                opt(s.latest),
                s.conceded,
                opt(s.per_offer),
                opt(s.room_used_pct),
                opt(s.left_to_walk_away),
                s.left_to_floor.map_or(String::new(), |x| format!(
                    ", to our margin floor {} ({x})",
                    r.floor_price
                ))
            )?;
        }
        if let Some(g) = r.gap {
            writeln!(f, "  gap between the latest offers: {g}")?;
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

/// `S1`…`S4`.
pub fn severity(s: Severity) -> String {
    name(&s)
}

/// Minutes to an SLA deadline as `in 1d 3h 20m`, or `breached 2h 5m ago`.
pub fn time_to_breach(minutes: i64) -> String {
    let m = minutes.unsigned_abs();
    let (d, h, mm) = (m / 1440, (m % 1440) / 60, m % 60);
    let mut t = String::new();
    if d > 0 {
        let _ = write!(t, "{d}d ");
    }
    if d > 0 || h > 0 {
        let _ = write!(t, "{h}h ");
    }
    let _ = write!(t, "{mm}m");
    if minutes < 0 {
        format!("breached {t} ago")
    } else {
        format!("in {t}")
    }
}

fn escalation_line(f: &mut fmt::Formatter<'_>, e: &EscalationRow) -> fmt::Result {
    let when = match (e.open, e.minutes_to_breach) {
        (true, Some(m)) if e.top_sla_missed => format!("top SLA {}", time_to_breach(m.min(-1))),
        (true, Some(m)) => format!("SLA {}", time_to_breach(m)),
        (true, None) => "-".to_owned(),
        (false, _) => format!(
            "resolved {}",
            e.resolved
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        ),
    };
    writeln!(
        f,
        "  {:<40} {} at {:<26} opened {}  {}  {}{}",
        e.id,
        severity(e.severity),
        name(&e.rung),
        e.opened.format("%Y-%m-%d %H:%M UTC"),
        when,
        e.title,
        e.alert
            .as_ref()
            .map_or(String::new(), |a| format!(" [alert {a}]"))
    )
}

impl Display for Table<'_, AlertsReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let open: Vec<&AlertRow> = r.open().collect();
        let mut levels = std::collections::BTreeMap::new();
        for a in &open {
            *levels.entry(a.level).or_insert(0) += 1;
        }
        let by_level: Vec<String> = levels
            .iter()
            .map(|(l, n)| format!("{} {n}", l.map_or("?".into(), |l| l.to_string())))
            .collect();
        writeln!(
            f,
            "Alerts through {}: {} open ({}), {} without an action plan",
            r.period,
            open.len(),
            by_level.join(", "),
            open.iter().filter(|a| a.no_action_plan).count()
        )?;
        for a in &r.alerts {
            let mut tags = Vec::new();
            if let Some(x) = &a.action {
                tags.push(format!("action {x}"));
            }
            if let Some(x) = &a.escalation {
                tags.push(format!("escalation {x}"));
            }
            if a.no_action_plan {
                tags.push("NO ACTION PLAN".into());
            }
            if let Some(m) = &a.mark {
                tags.push(match m.until {
                    Some(u) => format!("snoozed until {u}: {}", m.reason),
                    None => format!("acknowledged: {}", m.reason),
                });
            }
            writeln!(
                f,
                "  {} {:<40} {:<7} {:<12} {:<9} {}",
                severity(a.severity),
                a.id,
                a.level.map_or("?".into(), |l| l.to_string()),
                a.owner.as_deref().unwrap_or("-"),
                name(&a.state),
                tags.join("; ")
            )?;
            let reasons: Vec<String> = a
                .reasons
                .iter()
                .map(|x| format!("{} {} since {}", x.kind, severity(x.severity), x.opened))
                .collect();
            writeln!(
                f,
                "       {}; now {}{}",
                reasons.join(", "),
                a.value.map_or("n/a".into(), |v| v.to_string()),
                a.closed
                    .as_ref()
                    .map_or(String::new(), |c| format!("; cleared {c}"))
            )?;
        }
        writeln!(f, "Action plans not verified by the data: {}", r.actions.len())?;
        for a in &r.actions {
            let status = if a.state == a.status {
                name(&a.state)
            } else {
                format!(
                    "{} typed, {} by the data: NOT VERIFIED (on target {} of {} periods)",
                    name(&a.state),
                    name(&a.status),
                    a.on_target,
                    a.verify_periods
                )
            };
            writeln!(
                f,
                "  {:<12} {:<11} {:<12} {} due {}{}  {}",
                a.id,
                a.node,
                a.owner,
                status,
                a.due,
                if a.overdue { " OVERDUE" } else { "" },
                a.title
            )?;
        }
        writeln!(
            f,
            "Escalations: {} open (as of {})",
            r.escalations.iter().filter(|e| e.open).count(),
            r.now.format("%Y-%m-%d %H:%M UTC")
        )?;
        for e in r.escalations.iter().filter(|e| e.open) {
            escalation_line(f, e)?;
        }
        Ok(())
    }
}

impl Display for Table<'_, EscalationsReport> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "Escalations as of {}: {} open, {} resolved",
            r.now.format("%Y-%m-%d %H:%M UTC"),
            r.escalations.iter().filter(|e| e.open).count(),
            r.escalations.iter().filter(|e| !e.open).count()
        )?;
        for e in &r.escalations {
            escalation_line(f, e)?;
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
