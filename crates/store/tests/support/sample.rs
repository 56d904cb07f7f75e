//! A sample-sized account for the tests and the benchmark: 13 text parts of about 60 KB
//! together (the size of kam's sample account in canonical form), TOML-like lines, and
//! an edit that changes one line of one part, as a user editing one file between saves.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use kam_store::NewRevision;

/// Part names and target sizes in bytes (60,500 together).
pub const PARTS: [(&str, usize); 13] = [
    ("kpi_observations", 20_000),
    ("stakeholders", 9_000),
    ("growth", 6_000),
    ("plan", 5_000),
    ("pricing", 4_000),
    ("negotiation", 3_500),
    ("account", 3_000),
    ("actions", 2_500),
    ("manifest", 2_000),
    ("scorecard", 1_800),
    ("kpis", 1_500),
    ("rules", 1_200),
    ("whitespace", 1_000),
];

/// The account as it is edited: each part a list of lines.
#[derive(Debug, Clone)]
pub struct SampleAccount {
    parts: BTreeMap<String, Vec<String>>,
}

impl SampleAccount {
    /// The account before any edit.
    pub fn new() -> Self {
        let mut parts = BTreeMap::new();
        for (name, size) in PARTS {
            let mut lines = Vec::new();
            let mut len = 0;
            let mut i = 0u64;
            while len < size {
                let line = format!(
                    "{name}.item_{i} = {{ value = \"{}.{:02}\", note = \"line {i}\" }}\n",
                    i * 37 % 1000,
                    i % 100
                );
                len += line.len();
                lines.push(line);
                i += 1;
            }
            parts.insert(name.to_owned(), lines);
        }
        SampleAccount { parts }
    }

    /// Edit number `i`: one line of part `i mod 13` gets a new value.
    pub fn edit(&mut self, i: u64) {
        let (name, _) = PARTS[(i % PARTS.len() as u64) as usize];
        let lines = self.parts.get_mut(name).expect("part");
        let line = (i.wrapping_mul(7919) % lines.len() as u64) as usize;
        lines[line] =
            format!("{name}.item_{line} = {{ value = \"{i}.50\", note = \"edited in revision {i}\" }}\n");
    }

    /// The parts as bytes.
    pub fn parts(&self) -> BTreeMap<String, Vec<u8>> {
        self.parts
            .iter()
            .map(|(name, lines)| (name.clone(), lines.concat().into_bytes()))
            .collect()
    }

    /// Revision `i` of the account as it stands.
    pub fn revision(&self, i: u64) -> NewRevision {
        let mut revision = NewRevision::new(format!("rev {i}"), saved_at(i))
            .author("A. Director")
            .message(format!("monthly update {i}"))
            .headline(headline(i));
        revision.parts = self.parts();
        revision
    }
}

impl Default for SampleAccount {
    fn default() -> Self {
        Self::new()
    }
}

/// Revision `i` is saved `i` hours after 2026-01-01T09:00+01:00.
pub fn saved_at(i: u64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-01-01T09:00:00+01:00").expect("time") + Duration::hours(i as i64)
}

/// Headline figures that change with every revision, as kam's do (decimal strings).
pub fn headline(i: u64) -> serde_json::Value {
    let map = ["green", "amber", "red"][(i % 3) as usize];
    serde_json::json!({
        "revenue": format!("{}.00", 48_250_000 + i * 1_234),
        "margin_pct": format!("{}.{}", 11 + i % 3, i % 10),
        "otif_pct": format!("97.{}", i % 100),
        "health_score": format!("{}", 70 + i % 20),
        "pipeline_weighted": format!("{}.00", 6_100_000 + i * 999),
        "open_alerts": i % 7,
        "stakeholder_map": map,
        "plan_findings": i % 5,
    })
}
