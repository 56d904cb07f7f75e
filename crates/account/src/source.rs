//! Where an account's files come from: a directory on disk, the embedded sample
//! (`kam demo`), or files held in memory (an integrator's, or a test's).
//!
//! A [`Source`] only reads text; parsing is [`crate::files`]' and the model's
//! ([`crate::Account::load`]). It never writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::files::{self, FileError};

/// The sample account's files, embedded so `kam demo` works from any directory.
const SAMPLE: &[(&str, &str)] = &[
    ("kam.toml", include_str!("../../../scenarios/sample/kam.toml")),
    (
        "account.toml",
        include_str!("../../../scenarios/sample/account.toml"),
    ),
    ("plan.toml", include_str!("../../../scenarios/sample/plan.toml")),
    (
        "stakeholders.toml",
        include_str!("../../../scenarios/sample/stakeholders.toml"),
    ),
    (
        "crm/contacts.csv",
        include_str!("../../../scenarios/sample/crm/contacts.csv"),
    ),
    (
        "crm/relations.csv",
        include_str!("../../../scenarios/sample/crm/relations.csv"),
    ),
    (
        "crm/coverage.csv",
        include_str!("../../../scenarios/sample/crm/coverage.csv"),
    ),
    (
        "crm/pipeline.csv",
        include_str!("../../../scenarios/sample/crm/pipeline.csv"),
    ),
    (
        "pricing.toml",
        include_str!("../../../scenarios/sample/pricing.toml"),
    ),
    (
        "growth.toml",
        include_str!("../../../scenarios/sample/growth.toml"),
    ),
    ("kpis.toml", include_str!("../../../scenarios/sample/kpis.toml")),
    (
        "kpi_observations.csv",
        include_str!("../../../scenarios/sample/kpi_observations.csv"),
    ),
    (
        "scorecard.toml",
        include_str!("../../../scenarios/sample/scorecard.toml"),
    ),
    (
        "negotiation.toml",
        include_str!("../../../scenarios/sample/negotiation.toml"),
    ),
    (
        "actions.toml",
        include_str!("../../../scenarios/sample/actions.toml"),
    ),
    (
        "labels.toml",
        include_str!("../../../scenarios/sample/labels.toml"),
    ),
    (
        "delivery.toml",
        include_str!("../../../scenarios/sample/delivery.toml"),
    ),
    (
        "alerts.toml",
        include_str!("../../../scenarios/sample/alerts.toml"),
    ),
    (
        "rules/three_misses.rhai",
        include_str!("../../../scenarios/sample/rules/three_misses.rhai"),
    ),
    (
        "rules/volume_rebate.rhai",
        include_str!("../../../scenarios/sample/rules/volume_rebate.rhai"),
    ),
];

/// Where the files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The embedded sample account (Nordwerk Automotive).
    Sample,
    /// A directory on disk.
    Dir(PathBuf),
    /// Files in memory, by name (`plan.toml`, `rules/x.rhai`); displayed as `NAME`.
    Memory(BTreeMap<String, String>),
}

impl Source {
    /// The directory given, or the embedded sample when `None`.
    pub fn new(dir: Option<&Path>) -> Self {
        dir.map_or(Source::Sample, |d| Source::Dir(d.to_owned()))
    }

    /// The display name of `name` in this source.
    pub fn display(&self, name: &str) -> String {
        match self {
            Source::Sample => format!("sample/{name}"),
            Source::Dir(d) => d.join(name).display().to_string(),
            Source::Memory(_) => name.to_owned(),
        }
    }

    /// The path of `name` on disk (`None` for the sample and memory).
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        match self {
            Source::Dir(d) => Some(d.join(name)),
            Source::Sample | Source::Memory(_) => None,
        }
    }

    /// Whether `name` exists.
    pub fn exists(&self, name: &str) -> bool {
        match self {
            Source::Sample => SAMPLE.iter().any(|(n, _)| *n == name),
            Source::Dir(d) => d.join(name).is_file(),
            Source::Memory(m) => m.contains_key(name),
        }
    }

    /// The text of `name`.
    ///
    /// # Errors
    /// [`FileError::Io`] when it is missing or unreadable.
    pub fn text(&self, name: &str) -> Result<String, FileError> {
        let missing = |what: &str| FileError::Io {
            file: self.display(name),
            message: what.to_owned(),
        };
        match self {
            Source::Sample => SAMPLE
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| (*t).to_owned())
                .ok_or_else(|| missing("not in the embedded sample")),
            Source::Dir(d) => files::read_text(&d.join(name)),
            Source::Memory(m) => m.get(name).cloned().ok_or_else(|| missing("not found")),
        }
    }
}
