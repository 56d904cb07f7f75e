//! The records that cross the [`HistoryStore`](crate::HistoryStore) boundary: what a
//! caller saves (`NewRevision`, `NewEvent`), what it reads back (`RevisionInfo`,
//! `Revision`, `Event`) and how it names a revision (`Selector`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StoreError;

/// A revision's number in its store: it increases with every save, in the order saves
/// were committed, and is never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevisionId(pub i64);

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An event's number in its store, increasing in append order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A revision to save: the whole parsed account as named parts of canonical bytes,
/// plus the headline figures computed from it.
///
/// The caller supplies the time (`saved_at`): the store reads no clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRevision {
    /// Unique within the store (`"EBR 2026-Q3"`); not empty, no control characters.
    pub label: String,
    /// When the revision was taken, with the offset it was taken at (kept as given).
    pub saved_at: DateTime<FixedOffset>,
    /// Who saved it.
    pub author: Option<String>,
    /// Why.
    pub message: Option<String>,
    /// Part name (`"plan"`, `"stakeholders"`, `"pricing"`, …) → canonical bytes. Parts
    /// equal to a part stored before (in any revision, under any name) are not stored
    /// again.
    pub parts: BTreeMap<String, Vec<u8>>,
    /// The headline figures (any JSON value; kam's figures are decimal strings).
    pub headline: Value,
}

impl NewRevision {
    /// A revision with no parts, no author or message, and a `null` headline.
    pub fn new(label: impl Into<String>, saved_at: DateTime<FixedOffset>) -> Self {
        NewRevision {
            label: label.into(),
            saved_at,
            author: None,
            message: None,
            parts: BTreeMap::new(),
            headline: Value::Null,
        }
    }

    /// Sets the author.
    #[must_use]
    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds (or replaces) a part.
    #[must_use]
    pub fn part(mut self, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.parts.insert(name.into(), bytes.into());
        self
    }

    /// Sets the headline figures.
    #[must_use]
    pub fn headline(mut self, headline: Value) -> Self {
        self.headline = headline;
        self
    }

    /// Checks what every store requires: a label that is not blank and has no control
    /// characters, part names that are not empty. `file` names the store in the error.
    pub fn validate(&self, file: &Path) -> Result<(), StoreError> {
        let invalid = |what: String| StoreError::Invalid {
            file: file.to_path_buf(),
            what,
        };
        if self.label.trim().is_empty() {
            return Err(invalid("label: must not be empty".to_owned()));
        }
        if self.label.chars().any(char::is_control) {
            return Err(invalid(format!(
                "label {:?}: must not contain control characters",
                self.label
            )));
        }
        if self.parts.keys().any(String::is_empty) {
            return Err(invalid("parts: a part name must not be empty".to_owned()));
        }
        Ok(())
    }
}

/// What [`HistoryStore::list`](crate::HistoryStore::list) shows of a revision: who, when,
/// why, and what it changed in size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionInfo {
    /// The revision's number.
    pub id: RevisionId,
    /// Its label.
    pub label: String,
    /// When it was taken (as given to `save`, offset kept).
    pub saved_at: DateTime<FixedOffset>,
    /// Who saved it.
    pub author: Option<String>,
    /// Why.
    pub message: Option<String>,
    /// How many parts it has.
    pub part_count: u64,
    /// The size of all its parts together, in bytes: what a full copy would take.
    pub total_bytes: u64,
    /// Bytes of part content that no earlier revision had (content stored for the first
    /// time by this save, before any delta encoding).
    pub new_bytes: u64,
    /// Bytes the store actually wrote for that new content (after delta encoding; equal
    /// to `new_bytes` for a store that keeps content whole).
    pub stored_bytes: u64,
    /// Parts added, removed or changed compared with the previous revision (by id).
    pub parts_changed: u64,
}

/// A whole revision: its [`RevisionInfo`], headline figures and every part's bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Who, when, why, sizes.
    pub info: RevisionInfo,
    /// The headline figures as saved.
    pub headline: Value,
    /// Part name → bytes, exactly as saved.
    pub parts: BTreeMap<String, Vec<u8>>,
}

/// How a caller names a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selector {
    /// By number.
    Id(RevisionId),
    /// By label (labels are unique).
    Label(String),
    /// The revision with the latest `saved_at` at or before this instant (inclusive);
    /// among revisions saved at the same instant, the one saved last (highest id). For
    /// `--since DATE`, pass the end of that day ([`end_of_day`]): the state of the
    /// account as the day closed.
    AtOrBefore(DateTime<FixedOffset>),
    /// The most recently saved revision (highest id).
    Latest,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Id(id) => write!(f, "with id {id}"),
            Selector::Label(label) => write!(f, "labelled {label:?}"),
            Selector::AtOrBefore(at) => write!(f, "saved at or before {}", at.to_rfc3339()),
            Selector::Latest => f.write_str("at all (the store is empty)"),
        }
    }
}

/// The last instant (…T23:59:59.999999999) of `date` at `offset`, for
/// [`Selector::AtOrBefore`] when a user gives a date. `None` only at the end of
/// chrono's date range.
pub fn end_of_day(date: NaiveDate, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    date.and_hms_nano_opt(23, 59, 59, 999_999_999)?
        .and_local_timezone(offset)
        .single()
}

/// How one part differs between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PartChange {
    /// The part is in the newer revision only.
    Added(String),
    /// The part is in the older revision only.
    Removed(String),
    /// The part is in both, with different content.
    Modified(String),
}

/// The parts that differ between `old` and `new`, in part-name order. Works on any map
/// whose values compare by content (bytes, hashes, blob ids).
pub fn part_changes<V: PartialEq>(old: &BTreeMap<String, V>, new: &BTreeMap<String, V>) -> Vec<PartChange> {
    let mut changes = Vec::new();
    let mut old_iter = old.iter().peekable();
    let mut new_iter = new.iter().peekable();
    loop {
        match (old_iter.peek(), new_iter.peek()) {
            (None, None) => break,
            (Some((name, _)), None) => {
                changes.push(PartChange::Removed((*name).clone()));
                old_iter.next();
            }
            (None, Some((name, _))) => {
                changes.push(PartChange::Added((*name).clone()));
                new_iter.next();
            }
            (Some((old_name, old_value)), Some((new_name, new_value))) => match old_name.cmp(new_name) {
                std::cmp::Ordering::Less => {
                    changes.push(PartChange::Removed((*old_name).clone()));
                    old_iter.next();
                }
                std::cmp::Ordering::Greater => {
                    changes.push(PartChange::Added((*new_name).clone()));
                    new_iter.next();
                }
                std::cmp::Ordering::Equal => {
                    if old_value != new_value {
                        changes.push(PartChange::Modified((*new_name).clone()));
                    }
                    old_iter.next();
                    new_iter.next();
                }
            },
        }
    }
    changes
}

/// An event to append: an alert acknowledged or snoozed, a notification sent, an
/// action-plan step. Events are never changed or removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// When it happened (given by the caller; offset kept).
    pub at: DateTime<FixedOffset>,
    /// What kind of event (`"alert.ack"`, `"alert.snooze"`, `"action.step"`, …); not empty.
    pub kind: String,
    /// What it is about (an alert key, an action-plan id, …); not empty.
    pub subject: String,
    /// Who.
    pub author: Option<String>,
    /// Anything else, as JSON.
    pub payload: Value,
}

impl NewEvent {
    /// An event with no author and a `null` payload.
    pub fn new(at: DateTime<FixedOffset>, kind: impl Into<String>, subject: impl Into<String>) -> Self {
        NewEvent {
            at,
            kind: kind.into(),
            subject: subject.into(),
            author: None,
            payload: Value::Null,
        }
    }

    /// Sets the author.
    #[must_use]
    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }

    /// Sets the payload.
    #[must_use]
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }

    /// Checks that kind and subject are not empty. `file` names the store in the error.
    pub fn validate(&self, file: &Path) -> Result<(), StoreError> {
        for (field, value) in [("kind", &self.kind), ("subject", &self.subject)] {
            if value.is_empty() {
                return Err(StoreError::Invalid {
                    file: file.to_path_buf(),
                    what: format!("event {field}: must not be empty"),
                });
            }
        }
        Ok(())
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its number (append order).
    pub id: EventId,
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// Its kind.
    pub kind: String,
    /// Its subject.
    pub subject: String,
    /// Who.
    pub author: Option<String>,
    /// Its payload.
    pub payload: Value,
}

/// Which events [`HistoryStore::events`](crate::HistoryStore::events) returns: all
/// conditions set must hold (`None` matches everything). Results come in append order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Exactly this kind.
    pub kind: Option<String>,
    /// Exactly this subject.
    pub subject: Option<String>,
    /// At or after this instant.
    pub since: Option<DateTime<FixedOffset>>,
    /// At or before this instant.
    pub until: Option<DateTime<FixedOffset>>,
}

impl EventFilter {
    /// Every event.
    pub fn all() -> Self {
        EventFilter::default()
    }

    /// Only this kind.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Only this subject.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Only at or after `since`.
    #[must_use]
    pub fn since(mut self, since: DateTime<FixedOffset>) -> Self {
        self.since = Some(since);
        self
    }

    /// Only at or before `until`.
    #[must_use]
    pub fn until(mut self, until: DateTime<FixedOffset>) -> Self {
        self.until = Some(until);
        self
    }

    /// Whether `event` passes the filter.
    pub fn matches(&self, event: &Event) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == event.kind)
            && self.subject.as_ref().is_none_or(|s| *s == event.subject)
            && self.since.is_none_or(|t| event.at >= t)
            && self.until.is_none_or(|t| event.at <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, u8)]) -> BTreeMap<String, u8> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn part_changes_names_added_removed_modified_in_order() {
        let old = map(&[("a", 1), ("b", 2), ("c", 3)]);
        let new = map(&[("b", 2), ("c", 4), ("d", 5)]);
        assert_eq!(
            part_changes(&old, &new),
            vec![
                PartChange::Removed("a".into()),
                PartChange::Modified("c".into()),
                PartChange::Added("d".into())
            ]
        );
        assert!(part_changes(&old, &old).is_empty());
    }

    #[test]
    fn end_of_day_is_the_last_nanosecond_at_the_offset() {
        let offset = FixedOffset::east_opt(2 * 3600).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        let end = end_of_day(date, offset).unwrap();
        assert_eq!(end.to_rfc3339(), "2026-09-30T23:59:59.999999999+02:00");
    }

    #[test]
    fn labels_must_be_visible_text() {
        let at = DateTime::parse_from_rfc3339("2026-09-30T12:00:00+02:00").unwrap();
        let file = Path::new("h.db");
        assert!(NewRevision::new("Q3", at).validate(file).is_ok());
        for bad in ["", "  ", "a\nb"] {
            let err = NewRevision::new(bad, at).validate(file).unwrap_err();
            assert!(err.to_string().starts_with("h.db: label"), "{err}");
        }
        let err = NewRevision::new("Q3", at)
            .part("", b"x".to_vec())
            .validate(file)
            .unwrap_err();
        assert!(err.to_string().contains("part name"), "{err}");
    }
}
