//! Escalations: severity S1–S4, an SLA per severity, and the ladder
//! regional account manager → global account director → VP → customer executive sponsor.
//!
//! Every rung has the severity's SLA to resolve the escalation. When it passes unresolved,
//! the escalation climbs one rung, and the next rung's clock starts at that deadline — so
//! the result does not depend on how often [`EscalationBook::tick`] is called (catching up
//! after a weekend climbs as many rungs as a tick every minute would have). At the top
//! rung a missed SLA is recorded once. An account can have any number of concurrent
//! escalations. No clock is read: `now` is passed in.
//!
//! ```
//! use chrono::NaiveDate;
//! use kam_core::metrics::{EscalationBook, Rung, Severity, SlaPolicy};
//!
//! let t = |h| NaiveDate::from_ymd_opt(2026, 5, 4).unwrap().and_hms_opt(h, 0, 0).unwrap();
//! let mut book = EscalationBook::new(SlaPolicy::default())?;  // S1: 4 hours per rung
//! book.open("e1", "oem", Some("pune"), "Line stop at Pune", Severity::S1, t(8))?;
//! let moved = book.tick(t(13))?;                               // 08:00 + 4 h passed
//! assert_eq!(moved.len(), 1);
//! assert_eq!(book.get("e1")?.rung, Rung::GlobalAccountDirector);
//! # Ok::<(), kam_core::metrics::EscalationError>(())
//! ```

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Severity, S1 the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Critical: customer operations stopped.
    S1,
    /// Major: customer operations impaired.
    S2,
    /// Moderate.
    S3,
    /// Minor.
    S4,
}

/// A rung of the escalation ladder, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rung {
    /// The regional account manager.
    RegionalAccountManager,
    /// The global account director.
    GlobalAccountDirector,
    /// Our VP.
    Vp,
    /// The customer's executive sponsor.
    CustomerExecutiveSponsor,
}

impl Rung {
    /// The next rung up, `None` at the top.
    pub fn next(self) -> Option<Rung> {
        match self {
            Rung::RegionalAccountManager => Some(Rung::GlobalAccountDirector),
            Rung::GlobalAccountDirector => Some(Rung::Vp),
            Rung::Vp => Some(Rung::CustomerExecutiveSponsor),
            Rung::CustomerExecutiveSponsor => None,
        }
    }
}

/// Why an escalation operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EscalationError {
    /// An SLA of zero or negative hours.
    #[error("SLA for {severity:?} must be positive, got {hours} hours")]
    InvalidSla {
        /// Severity.
        severity: Severity,
        /// Hours given.
        hours: i64,
    },
    /// No escalation with this id.
    #[error("unknown escalation {0:?}")]
    Unknown(String),
    /// The id is taken.
    #[error("duplicate escalation id {0:?}")]
    Duplicate(String),
    /// The escalation is already resolved.
    #[error("escalation {0:?} is already resolved")]
    Resolved(String),
    /// Already at the top of the ladder.
    #[error("escalation {0:?} is already with the customer executive sponsor")]
    AtTop(String),
    /// A time before the escalation's last event.
    #[error("escalation {id:?}: {at} is before its last event at {last}")]
    TimeTravel {
        /// Escalation id.
        id: String,
        /// Time given.
        at: NaiveDateTime,
        /// Last event time.
        last: NaiveDateTime,
    },
    /// An empty id or account.
    #[error("escalation {id:?}: {field} must not be empty")]
    Missing {
        /// Escalation id.
        id: String,
        /// Field.
        field: &'static str,
    },
}

/// Hours each rung has to resolve an escalation, per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// S1 hours per rung.
    pub s1_hours: i64,
    /// S2 hours per rung.
    pub s2_hours: i64,
    /// S3 hours per rung.
    pub s3_hours: i64,
    /// S4 hours per rung.
    pub s4_hours: i64,
}

impl Default for SlaPolicy {
    /// S1 4 h, S2 24 h, S3 72 h, S4 168 h per rung.
    fn default() -> Self {
        SlaPolicy {
            s1_hours: 4,
            s2_hours: 24,
            s3_hours: 72,
            s4_hours: 168,
        }
    }
}

impl SlaPolicy {
    /// The SLA for `severity`.
    pub fn for_severity(&self, severity: Severity) -> Duration {
        Duration::hours(self.hours(severity))
    }

    fn hours(&self, severity: Severity) -> i64 {
        match severity {
            Severity::S1 => self.s1_hours,
            Severity::S2 => self.s2_hours,
            Severity::S3 => self.s3_hours,
            Severity::S4 => self.s4_hours,
        }
    }

    fn validate(&self) -> Result<(), EscalationError> {
        for s in [Severity::S1, Severity::S2, Severity::S3, Severity::S4] {
            let hours = self.hours(s);
            // Cap at ten years so deadline arithmetic cannot overflow.
            if hours <= 0 || hours > 87_600 {
                return Err(EscalationError::InvalidSla { severity: s, hours });
            }
        }
        Ok(())
    }
}

/// What happened to an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum EscalationEvent {
    /// Opened at a rung.
    Opened {
        /// When.
        at: NaiveDateTime,
        /// Starting rung.
        rung: Rung,
    },
    /// Moved up one rung.
    Escalated {
        /// When (the SLA deadline for automatic escalation).
        at: NaiveDateTime,
        /// From.
        from: Rung,
        /// To.
        to: Rung,
        /// Whether the SLA passing caused it.
        automatic: bool,
    },
    /// The SLA passed at the top rung.
    TopSlaMissed {
        /// The deadline.
        at: NaiveDateTime,
    },
    /// Resolved.
    Resolved {
        /// When.
        at: NaiveDateTime,
        /// How.
        note: String,
    },
}

impl EscalationEvent {
    fn at(&self) -> NaiveDateTime {
        match self {
            EscalationEvent::Opened { at, .. }
            | EscalationEvent::Escalated { at, .. }
            | EscalationEvent::TopSlaMissed { at }
            | EscalationEvent::Resolved { at, .. } => *at,
        }
    }
}

/// One escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// Unique id.
    pub id: String,
    /// Customer account.
    pub account: String,
    /// Account node, if specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// What is wrong.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Current rung.
    pub rung: Rung,
    /// When the current rung's SLA clock started.
    pub rung_since: NaiveDateTime,
    /// When resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<NaiveDateTime>,
    /// Events, oldest first.
    pub history: Vec<EscalationEvent>,
}

impl Escalation {
    /// Whether still open.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    fn last_at(&self) -> NaiveDateTime {
        self.history.last().map_or(self.rung_since, EscalationEvent::at)
    }
}

/// All escalations of a portfolio, with the SLA policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EscalationBookRecord", into = "EscalationBookRecord")]
pub struct EscalationBook {
    sla: SlaPolicy,
    escalations: Vec<Escalation>,
}

/// The serialized form of an [`EscalationBook`] (SLAs and ids validated on load).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationBookRecord {
    /// SLA policy.
    pub sla: SlaPolicy,
    /// Escalations.
    pub escalations: Vec<Escalation>,
}

impl TryFrom<EscalationBookRecord> for EscalationBook {
    type Error = EscalationError;
    fn try_from(r: EscalationBookRecord) -> Result<Self, Self::Error> {
        r.sla.validate()?;
        let mut ids = std::collections::HashSet::new();
        for e in &r.escalations {
            if !ids.insert(e.id.as_str()) {
                return Err(EscalationError::Duplicate(e.id.clone()));
            }
        }
        Ok(EscalationBook {
            sla: r.sla,
            escalations: r.escalations,
        })
    }
}

impl From<EscalationBook> for EscalationBookRecord {
    fn from(b: EscalationBook) -> Self {
        EscalationBookRecord {
            sla: b.sla,
            escalations: b.escalations,
        }
    }
}

impl EscalationBook {
    /// An empty book.
    ///
    /// # Errors
    /// An SLA that is not positive.
    pub fn new(sla: SlaPolicy) -> Result<Self, EscalationError> {
        sla.validate()?;
        Ok(EscalationBook {
            sla,
            escalations: Vec::new(),
        })
    }

    /// Opens an escalation at the regional account manager.
    ///
    /// # Errors
    /// Empty or duplicate id, empty account.
    pub fn open(
        &mut self,
        id: &str,
        account: &str,
        node: Option<&str>,
        title: &str,
        severity: Severity,
        at: NaiveDateTime,
    ) -> Result<&Escalation, EscalationError> {
        self.open_at_rung(
            id,
            account,
            node,
            title,
            severity,
            at,
            Rung::RegionalAccountManager,
        )
    }

    /// Opens an escalation at a chosen rung (an S1 may start with the global account director).
    ///
    /// # Errors
    /// As [`EscalationBook::open`].
    #[allow(clippy::too_many_arguments)]
    pub fn open_at_rung(
        &mut self,
        id: &str,
        account: &str,
        node: Option<&str>,
        title: &str,
        severity: Severity,
        at: NaiveDateTime,
        rung: Rung,
    ) -> Result<&Escalation, EscalationError> {
        for (field, v) in [("id", id), ("account", account)] {
            if v.trim().is_empty() {
                return Err(EscalationError::Missing {
                    id: id.to_owned(),
                    field,
                });
            }
        }
        if self.escalations.iter().any(|e| e.id == id) {
            return Err(EscalationError::Duplicate(id.to_owned()));
        }
        self.escalations.push(Escalation {
            id: id.to_owned(),
            account: account.to_owned(),
            node: node.map(str::to_owned),
            title: title.to_owned(),
            severity,
            rung,
            rung_since: at,
            resolved_at: None,
            history: vec![EscalationEvent::Opened { at, rung }],
        });
        self.escalations
            .last()
            .ok_or_else(|| EscalationError::Unknown(id.to_owned()))
    }

    /// The escalation with `id`.
    ///
    /// # Errors
    /// [`EscalationError::Unknown`].
    pub fn get(&self, id: &str) -> Result<&Escalation, EscalationError> {
        self.escalations
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| EscalationError::Unknown(id.to_owned()))
    }

    fn get_open_mut(&mut self, id: &str, at: NaiveDateTime) -> Result<&mut Escalation, EscalationError> {
        let e = self
            .escalations
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| EscalationError::Unknown(id.to_owned()))?;
        if !e.is_open() {
            return Err(EscalationError::Resolved(id.to_owned()));
        }
        let last = e.last_at();
        if at < last {
            return Err(EscalationError::TimeTravel {
                id: id.to_owned(),
                at,
                last,
            });
        }
        Ok(e)
    }

    /// The open escalations of `account`.
    pub fn open_for<'a>(&'a self, account: &'a str) -> impl Iterator<Item = &'a Escalation> + 'a {
        self.escalations
            .iter()
            .filter(move |e| e.is_open() && e.account == account)
    }

    /// All escalations, in opening order.
    pub fn escalations(&self) -> &[Escalation] {
        &self.escalations
    }

    /// When the current rung's SLA passes.
    ///
    /// # Errors
    /// [`EscalationError::Unknown`].
    pub fn deadline(&self, id: &str) -> Result<NaiveDateTime, EscalationError> {
        let e = self.get(id)?;
        Ok(e.rung_since + self.sla.for_severity(e.severity))
    }

    /// Moves an escalation up one rung by hand.
    ///
    /// # Errors
    /// Unknown, resolved, already at the top, or a time before its last event.
    pub fn escalate(&mut self, id: &str, at: NaiveDateTime) -> Result<Rung, EscalationError> {
        let e = self.get_open_mut(id, at)?;
        let to = e
            .rung
            .next()
            .ok_or_else(|| EscalationError::AtTop(id.to_owned()))?;
        e.history.push(EscalationEvent::Escalated {
            at,
            from: e.rung,
            to,
            automatic: false,
        });
        e.rung = to;
        e.rung_since = at;
        Ok(to)
    }

    /// Resolves an escalation.
    ///
    /// # Errors
    /// Unknown, already resolved, or a time before its last event.
    pub fn resolve(&mut self, id: &str, at: NaiveDateTime, note: &str) -> Result<(), EscalationError> {
        let e = self.get_open_mut(id, at)?;
        e.resolved_at = Some(at);
        e.history.push(EscalationEvent::Resolved {
            at,
            note: note.to_owned(),
        });
        Ok(())
    }

    /// Applies every SLA that passed strictly before `now`: each climbs one rung, dated at
    /// its deadline. Returns the automatic events, in escalation then time order.
    ///
    /// # Errors
    /// None in practice (SLAs are validated); kept for date overflow.
    pub fn tick(&mut self, now: NaiveDateTime) -> Result<Vec<(String, EscalationEvent)>, EscalationError> {
        let mut out = Vec::new();
        for e in self.escalations.iter_mut().filter(|e| e.is_open()) {
            let sla = self.sla.for_severity(e.severity);
            loop {
                let deadline = e
                    .rung_since
                    .checked_add_signed(sla)
                    .ok_or_else(|| EscalationError::Unknown(format!("{} (deadline out of range)", e.id)))?;
                if now <= deadline {
                    break;
                }
                match e.rung.next() {
                    Some(to) => {
                        let ev = EscalationEvent::Escalated {
                            at: deadline,
                            from: e.rung,
                            to,
                            automatic: true,
                        };
                        e.history.push(ev.clone());
                        out.push((e.id.clone(), ev));
                        e.rung = to;
                        e.rung_since = deadline;
                    }
                    None => {
                        let missed = e
                            .history
                            .iter()
                            .any(|h| matches!(h, EscalationEvent::TopSlaMissed { at } if *at == deadline));
                        if !missed {
                            let ev = EscalationEvent::TopSlaMissed { at: deadline };
                            e.history.push(ev.clone());
                            out.push((e.id.clone(), ev));
                        }
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(h: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 5, 4)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + Duration::hours(h)
    }

    #[test]
    fn ladder_and_sla() {
        let mut b = EscalationBook::new(SlaPolicy::default()).unwrap();
        b.open("a", "oem", None, "S1", Severity::S1, t(0)).unwrap();
        b.open("b", "oem", Some("pune"), "S3", Severity::S3, t(0))
            .unwrap();
        b.open("c", "other", None, "S2", Severity::S2, t(1)).unwrap();
        assert_eq!(b.open_for("oem").count(), 2);
        assert!(matches!(
            b.open("a", "oem", None, "", Severity::S4, t(0)),
            Err(EscalationError::Duplicate(_))
        ));
        // Exactly at the deadline nothing moves; the SLA passes strictly after.
        assert!(b.tick(t(4)).unwrap().is_empty());
        // Catch-up after 13 hours: S1 4 h per rung climbs RAM→GAD (4h)→VP (8h)→sponsor (12h).
        let ev = b.tick(t(13)).unwrap();
        assert_eq!(ev.len(), 3);
        assert_eq!(b.get("a").unwrap().rung, Rung::CustomerExecutiveSponsor);
        assert_eq!(b.get("a").unwrap().rung_since, t(12));
        // Same result as ticking every hour.
        let mut b2 = EscalationBook::new(SlaPolicy::default()).unwrap();
        b2.open("a", "oem", None, "S1", Severity::S1, t(0)).unwrap();
        for h in 0..=13 {
            b2.tick(t(h)).unwrap();
        }
        assert_eq!(b2.get("a").unwrap(), b.get("a").unwrap());
        // Top SLA missed once only.
        let ev = b.tick(t(17)).unwrap();
        assert!(matches!(
            ev.as_slice(),
            [(_, EscalationEvent::TopSlaMissed { .. })]
        ));
        assert!(b.tick(t(18)).unwrap().is_empty());
        assert!(matches!(b.escalate("a", t(18)), Err(EscalationError::AtTop(_))));
        assert_eq!(b.get("b").unwrap().rung, Rung::RegionalAccountManager);
        assert_eq!(b.escalate("b", t(18)).unwrap(), Rung::GlobalAccountDirector);
        assert_eq!(b.deadline("b").unwrap(), t(18 + 72));
        b.resolve("b", t(20), "fixed").unwrap();
        assert!(matches!(
            b.resolve("b", t(21), ""),
            Err(EscalationError::Resolved(_))
        ));
        assert!(matches!(
            b.resolve("c", t(0), ""),
            Err(EscalationError::TimeTravel { .. })
        ));
        assert!(b.tick(t(500)).unwrap().iter().all(|(id, _)| id != "b"));
        assert!(
            EscalationBook::new(SlaPolicy {
                s2_hours: 0,
                ..SlaPolicy::default()
            })
            .is_err()
        );
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<EscalationBook>(&json).unwrap(), b);
        let text = toml::to_string(&b).unwrap();
        assert_eq!(toml::from_str::<EscalationBook>(&text).unwrap(), b);
        let bad = json.replace("\"s1_hours\":4", "\"s1_hours\":0");
        assert!(serde_json::from_str::<EscalationBook>(&bad).is_err());
    }
}
