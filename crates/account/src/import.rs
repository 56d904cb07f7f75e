//! The stakeholder map from a CRM export: people, our people, relations and coverage
//! read from CSV (header row) or XLSX tables whose columns `kam.toml` maps to kam's
//! fields, beside (or instead of) `stakeholders.toml`.
//!
//! ```toml
//! [import.people]
//! file = "crm/contacts.csv"      # .csv, or .xlsx/.xlsm/.ods (first sheet, or `sheet = "…"`)
//! id = "Contact ID"              # kam field = the export's column header
//! name = "Full Name"
//! buying_role = "Buying Role"
//! values = { "Champion" = "mentor", "Blocker" = "enemy" }   # the CRM's words → kam's
//! ```
//!
//! A field the mapping does not name is read from the column of kam's own field name
//! (`region`, `function`…). Required columns — people: `id name region function
//! buying_role power support`; our people: `id name`; relations: `kind from to` (and a
//! `weight` value on each `influences` row); coverage: `ours theirs level`. Optional:
//! people's `title`, `last_contact` (`YYYY-MM-DD`, empty for none) and `buying_centres`
//! (`;`-separated); our people's `role`; relations' `weight`. Enum values are matched
//! after the `values` table, case-insensitively, with spaces and hyphens read as `_`
//! ("Decision Maker" is `decision_maker`).
//!
//! Imported records follow `stakeholders.toml`'s in the one [`StakeholderMap`], so every
//! analysis sees one map. Each record's origin is kept ([`Origins`]): the graph's own
//! validation (unknown person, duplicate id, a reports-to cycle…) runs once, in
//! kam-core, and its error is placed back at the file, line and column it came from
//! ([`Origins::place`]). This module only reads rows and checks what one row alone can
//! show (a value of the wrong type, a weight outside (0, 1], a row of the wrong width).

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use kam_core::stakeholders::{
    BuyingRole, Coverage, OurPerson, Person, PoliticalPower, Relation, RelationshipLevel, StakeholderError,
    StakeholderMap, Support,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{AccountError, Place};
use crate::files::{self, FileError};
use crate::source::Source;

/// `[import]` in kam.toml: which tables hold which part of the stakeholder map, and the
/// pipeline export (read by [`crate::pipeline_import`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    /// The customer's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<TableMapping>,
    /// Our account team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub our_people: Option<TableMapping>,
    /// Relations among the customer's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<TableMapping>,
    /// Our people's relationships with theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<TableMapping>,
    /// The pipeline: growth deals beside growth.toml's (see [`crate::pipeline_import`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<crate::pipeline_import::PipelineMapping>,
}

impl ImportSettings {
    /// Whether any table is imported.
    pub fn is_empty(&self) -> bool {
        self.people.is_none()
            && self.our_people.is_none()
            && self.relations.is_none()
            && self.coverage.is_none()
            && self.pipeline.is_none()
    }
}

/// One imported table: its file, and kam field → column header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMapping {
    /// The file, relative to the account directory.
    pub file: String,
    /// The worksheet of a workbook (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The export's words for kam's enum values (`"Champion" = "mentor"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// kam field → column header; checked against the table's fields when loading.
    #[serde(flatten)]
    pub columns: BTreeMap<String, String>,
}

/// The parts of the map, as named in `[import.*]` and in error paths (`relations[4]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Part {
    /// `people`.
    People,
    /// `our_people`.
    OurPeople,
    /// `relations`.
    Relations,
    /// `coverage`.
    Coverage,
}

impl Part {
    const ALL: [Part; 4] = [Part::People, Part::OurPeople, Part::Relations, Part::Coverage];

    /// The name in kam.toml and in record paths.
    pub fn name(self) -> &'static str {
        match self {
            Part::People => "people",
            Part::OurPeople => "our_people",
            Part::Relations => "relations",
            Part::Coverage => "coverage",
        }
    }

    /// (field, required) of the part's records.
    fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            Part::People => &[
                ("id", true),
                ("name", true),
                ("title", false),
                ("region", true),
                ("function", true),
                ("buying_role", true),
                ("power", true),
                ("support", true),
                ("last_contact", false),
                ("buying_centres", false),
            ],
            Part::OurPeople => &[("id", true), ("name", true), ("role", false)],
            Part::Relations => &[("kind", true), ("from", true), ("to", true), ("weight", false)],
            Part::Coverage => &[("ours", true), ("theirs", true), ("level", true)],
        }
    }

    fn from_name(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Where the imported rows of one part came from.
#[derive(Debug, Clone)]
struct Table {
    /// Display name of the file (with `[sheet]` for a workbook).
    file: String,
    /// Records of this part before the table's first (those of stakeholders.toml).
    first: usize,
    /// 1-based line (row) of each record.
    lines: Vec<u32>,
    /// kam field → 1-based column.
    columns: BTreeMap<&'static str, usize>,
    /// Worksheet name, for `Sheet!C5` cell references.
    sheet: Option<String>,
}

/// The place of an imported row at `line` of `file`: `field`'s 1-based column from
/// `columns` (1 when not given or not mapped), with the cell's `Sheet!C5` reference in a
/// workbook; without a field, the row, named `record` in a CSV file.
pub(crate) fn imported_place(
    file: &str,
    sheet: Option<&str>,
    columns: &BTreeMap<&'static str, usize>,
    line: usize,
    field: Option<&str>,
    record: &str,
) -> Place {
    let column = field.and_then(|f| columns.get(f).copied()).unwrap_or(1);
    Place {
        file: file.to_owned(),
        line,
        column,
        field: Some(match (sheet, field) {
            (Some(s), Some(f)) => format!("{f}` at `{s}!{}{line}", column_letters(column)),
            (Some(s), None) => format!("row` at `{s}!A{line}"),
            (None, f) => f.unwrap_or(record).to_owned(),
        }),
    }
}

/// Where each record of the account's stakeholder map came from: `stakeholders.toml`
/// (the first records of each part) or an imported table.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Display name of stakeholders.toml.
    toml_file: String,
    tables: BTreeMap<Part, Table>,
}

impl Origins {
    /// No imported table; `toml_file` is stakeholders.toml's display name.
    pub fn new(toml_file: String) -> Self {
        Origins {
            toml_file,
            tables: BTreeMap::new(),
        }
    }

    /// The place of record `index` of `part`, at `field` when given; `toml_text` is
    /// stakeholders.toml's text (records found by their `[[part]]` header).
    pub fn place(&self, part: Part, index: usize, field: Option<&str>, toml_text: Option<&str>) -> Place {
        if let Some(t) = self.tables.get(&part)
            && index >= t.first
        {
            let line = t.lines.get(index - t.first).map_or(1, |l| *l as usize);
            return imported_place(&t.file, t.sheet.as_deref(), &t.columns, line, field, part.name());
        }
        let text = toml_text.unwrap_or_default();
        let header = format!("[[{}]]", part.name());
        // Headers at the start of a line only (not in a comment).
        let start = text
            .match_indices(&header)
            .filter(|(o, _)| *o == 0 || text.as_bytes().get(o - 1) == Some(&b'\n'))
            .nth(index)
            .map(|(o, _)| o);
        let (line, column) = match (start, field) {
            (Some(s), Some(f)) => {
                // The field's line within the record (up to the next table header).
                let block = &text[s..];
                let end = block[header.len()..]
                    .find("\n[")
                    .map_or(block.len(), |e| e + header.len());
                let at = block[..end]
                    .match_indices(f)
                    .find(|(o, _)| {
                        block[..*o].ends_with('\n') && block[o + f.len()..].trim_start().starts_with('=')
                    })
                    .map_or(s, |(o, _)| s + o);
                files::line_col(text, at)
            }
            (Some(s), None) => files::line_col(text, s),
            (None, _) => (1, 1),
        };
        Place {
            file: self.toml_file.clone(),
            line,
            column,
            field: Some(field.map_or_else(
                || format!("{}[{index}]", part.name()),
                |f| format!("{}[{index}].{f}", part.name()),
            )),
        }
    }

    /// The place of a customer person (or one of ours) by id, for findings about them.
    pub fn person_place(&self, map: &StakeholderMap, id: &str, toml_text: Option<&str>) -> Option<Place> {
        if let Some(i) = map.people.iter().position(|p| p.id == id) {
            return Some(self.place(Part::People, i, Some("id"), toml_text));
        }
        let i = map.our_people.iter().position(|p| p.id == id)?;
        Some(self.place(Part::OurPeople, i, Some("id"), toml_text))
    }

    /// Whether `part` has records from a table (not only stakeholders.toml).
    pub fn imported(&self, part: Part) -> bool {
        self.tables.contains_key(&part)
    }

    /// A graph validation error placed at the record (and field) it is about.
    pub fn locate(&self, map: &StakeholderMap, e: StakeholderError, toml_text: Option<&str>) -> AccountError {
        let place = match &e {
            StakeholderError::DuplicateId { path, .. }
            | StakeholderError::EmptyId { path }
            | StakeholderError::UnknownPerson { path, .. }
            | StakeholderError::SelfEdge { path, .. }
            | StakeholderError::DuplicateRelation { path, .. }
            | StakeholderError::OutOfRange { path, .. }
            | StakeholderError::UnknownRegion { path, .. }
            | StakeholderError::UnknownBuyingCentre { path, .. } => {
                parse_path(path).map(|(part, i, field)| self.place(part, i, field.as_deref(), toml_text))
            }
            StakeholderError::ReportsToCycle { cycle } => {
                // Placed at the first reporting line of the cycle.
                let (a, b) = (cycle.first(), cycle.get(1));
                map.relations
                    .iter()
                    .position(
                        |r| matches!(r, Relation::ReportsTo { from, to } if Some(from) == a && Some(to) == b),
                    )
                    .map(|i| self.place(Part::Relations, i, Some("from"), toml_text))
            }
            _ => None,
        };
        // A duplicate id: say where the first one is (the same person in both
        // stakeholders.toml and an export is the usual case).
        let e: crate::error::Source = match &e {
            StakeholderError::DuplicateId { id, .. } => {
                let first = self.person_place(map, id, toml_text);
                match first {
                    Some(p) => format!("{e} (first at {}:{})", p.file, p.line).into(),
                    None => e.into(),
                }
            }
            _ => e.into(),
        };
        match place {
            Some(p) => AccountError::At { place: p, source: e },
            None => AccountError::At {
                place: Place {
                    file: self.toml_file.clone(),
                    line: 1,
                    column: 1,
                    field: None,
                },
                source: e,
            },
        }
    }
}

/// `relations[4].to` → (relations, 4, Some("to")); `people[3].buying_centres[0]` keeps
/// the first field only.
fn parse_path(path: &str) -> Option<(Part, usize, Option<String>)> {
    let (name, rest) = path.split_once('[')?;
    let (index, rest) = rest.split_once(']')?;
    let field = rest
        .strip_prefix('.')
        .map(|f| f.split('[').next().unwrap_or(f).to_owned());
    Some((Part::from_name(name)?, index.parse().ok()?, field))
}

/// `1` → `A`, `27` → `AA`.
pub(crate) fn column_letters(mut column: usize) -> String {
    let mut out = Vec::new();
    while column > 0 {
        let r = (column - 1) % 26;
        out.push(b'A' + r as u8);
        column = (column - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Reads every `[import.*]` table into `map` (after stakeholders.toml's records) and
/// returns where each record came from. `texts` keeps each CSV's text (for the history
/// store); workbooks are binary and read from disk only.
///
/// # Errors
/// An unknown field in a mapping, a mapped column missing from the header, a row of the
/// wrong width, a value that does not parse (at file:line:column, naming the field).
pub fn import(
    settings: &ImportSettings,
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    toml_file: String,
    manifest_text: &str,
    map: &mut StakeholderMap,
) -> Result<Origins, AccountError> {
    let mut origins = Origins {
        toml_file,
        tables: BTreeMap::new(),
    };
    let parts = [
        (Part::People, &settings.people),
        (Part::OurPeople, &settings.our_people),
        (Part::Relations, &settings.relations),
        (Part::Coverage, &settings.coverage),
    ];
    let count = |part: Part| match part {
        Part::People => map.people.len(),
        Part::OurPeople => map.our_people.len(),
        Part::Relations => map.relations.len(),
        Part::Coverage => map.coverage.len(),
    };
    let jobs: Vec<(Part, &TableMapping, usize)> = parts
        .into_iter()
        .filter_map(|(part, mapping)| mapping.as_ref().map(|m| (part, m, count(part))))
        .collect();
    // The tables are independent until merged: each is read on its own thread (a
    // 500,000-row relations export beside the 100,000 contacts), then appended in part
    // order, so the map and the first error reported are the same as read one by one.
    let read = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(part, mapping, first)| {
                scope.spawn(move || {
                    let mut records = StakeholderMap::default();
                    let mut read_texts = BTreeMap::new();
                    read_part(
                        part,
                        mapping,
                        source,
                        &mut read_texts,
                        manifest_text,
                        &mut records,
                        first,
                    )
                    .map(|table| (part, table, records, read_texts))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(AccountError::invalid(
                        "reading an imported table failed unexpectedly",
                    ))
                })
            })
            .collect::<Vec<_>>()
    });
    // A part with no records yet (no stakeholders.toml) takes the table's vector as it
    // is: appending would copy 500,000 relations once more.
    fn add<T>(to: &mut Vec<T>, mut from: Vec<T>) {
        if to.is_empty() {
            *to = from;
        } else {
            to.append(&mut from);
        }
    }
    for result in read {
        let (part, table, records, read_texts) = result?;
        add(&mut map.people, records.people);
        add(&mut map.our_people, records.our_people);
        add(&mut map.relations, records.relations);
        add(&mut map.coverage, records.coverage);
        texts.extend(read_texts);
        origins.tables.insert(part, table);
    }
    Ok(origins)
}

/// The line of `key` in kam.toml's `section` (`[import.people]`), or of the section's
/// header when `key` is `None` or not in it; 1 when kam.toml has no such section.
pub(crate) fn mapping_line(manifest_text: &str, section: &str, key: Option<&str>) -> usize {
    let Some(start) = manifest_text.find(section) else {
        return 1;
    };
    let header = files::line_col(manifest_text, start).0;
    let Some(key) = key else { return header };
    manifest_text
        .lines()
        .enumerate()
        .skip(header)
        // The section ends at the next table header.
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        })
        .map_or(header, |(i, _)| i + 1)
}

/// Refuses a key of an `[import.*]` table's column mapping (`named`: kam field → the
/// export's column) that is none of `fields`, at its kam.toml line; `also` lists the
/// table's other keys for the message.
pub(crate) fn check_mapping_keys(
    section: &str,
    fields: &[(&'static str, bool)],
    named: &BTreeMap<String, String>,
    also: &str,
    source: &Source,
    manifest_text: &str,
) -> Result<(), FileError> {
    match named.keys().find(|k| !fields.iter().any(|(f, _)| f == k)) {
        None => Ok(()),
        Some(key) => Err(FileError::at(
            &source.display("kam.toml"),
            mapping_line(manifest_text, section, Some(key)),
            1,
            Some(key),
            format!(
                "{section} has no field {key:?}: its fields are {} (plus {also})",
                fields.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// The mapping's columns resolved against a header: kam field → 0-based index.
pub(crate) struct Columns {
    index: Vec<Option<usize>>,
    /// kam field → 1-based column, for the places of findings.
    pub(crate) numbers: BTreeMap<&'static str, usize>,
}

impl Columns {
    /// Reads `rows`' header and finds each of `fields` in it, under its `named` column or
    /// else kam's own name. A required field, or a mapped one, missing from the header
    /// is an error at the header; `from(field, mapped)` says where the name came from.
    pub(crate) fn resolve(
        fields: &[(&'static str, bool)],
        named: &BTreeMap<String, String>,
        rows: &mut Rows<'_>,
        from: impl Fn(&str, bool) -> String,
    ) -> Result<Columns, FileError> {
        let header = rows.header()?;
        let mut index = Vec::with_capacity(fields.len());
        let mut numbers = BTreeMap::new();
        for (field, required) in fields {
            let mapped = named.get(*field);
            let wanted = mapped.map_or(*field, String::as_str);
            let at = header.iter().position(|h| h.trim() == wanted);
            if at.is_none() && (*required || mapped.is_some()) {
                return Err(FileError::at(
                    &rows.file,
                    rows.header_line,
                    1,
                    Some(field),
                    format!(
                        "no column {wanted:?} in the header ({}); the columns are: {}",
                        from(field, mapped.is_some()),
                        header
                            .iter()
                            .map(|h| format!("{h:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if let Some(i) = at {
                numbers.insert(*field, i + 1);
            }
            index.push(at);
        }
        Ok(Columns { index, numbers })
    }

    /// The 0-based column of field number `field`, if the export has it.
    pub(crate) fn at(&self, field: usize) -> Option<usize> {
        self.index.get(field).copied().flatten()
    }

    /// The trimmed cell of field number `field` (empty when the export has no such column).
    pub(crate) fn get<'r>(&self, field: usize, record: &'r csv::StringRecord) -> &'r str {
        self.index
            .get(field)
            .copied()
            .flatten()
            .and_then(|i| record.get(i))
            .unwrap_or_default()
            .trim()
    }
}

fn read_part(
    part: Part,
    mapping: &TableMapping,
    source: &Source,
    texts: &mut BTreeMap<String, String>,
    manifest_text: &str,
    map: &mut StakeholderMap,
    first: usize,
) -> Result<Table, AccountError> {
    let fields = part.fields();
    let section = format!("[import.{}]", part.name());
    check_mapping_keys(
        &section,
        fields,
        &mapping.columns,
        "file, sheet, values",
        source,
        manifest_text,
    )?;
    let mut reader = Rows::open(source, &mapping.file, mapping.sheet.as_deref(), texts)?;
    let mut cols = Columns::resolve(fields, &mapping.columns, &mut reader, |_, mapped| {
        let how = if mapped {
            "mapped in"
        } else {
            "kam's own name; map it in"
        };
        format!("{how} kam.toml {section}")
    })?;
    let display = reader.file.clone();
    let mut table = Table {
        file: display.clone(),
        first,
        lines: Vec::new(),
        columns: std::mem::take(&mut cols.numbers),
        sheet: reader.sheet.clone(),
    };
    let values = Values::new(&mapping.values);
    let mut record = csv::StringRecord::new();
    while let Some(line) = reader.next(&mut record)? {
        let cx = RowCx {
            file: &display,
            line,
            cols: &cols,
            record: &record,
            fields,
            values: &values,
            sheet: reader.sheet.as_deref(),
        };
        match part {
            Part::People => map.people.push(cx.person()?),
            Part::OurPeople => map.our_people.push(OurPerson {
                id: cx.text(0)?.to_owned(),
                name: cx.text(1)?.to_owned(),
                role: cx.get(2).to_owned(),
            }),
            Part::Relations => map.relations.push(cx.relation()?),
            Part::Coverage => map.coverage.push(Coverage {
                ours: cx.text(0)?.to_owned(),
                theirs: cx.text(1)?.to_owned(),
                level: cx.value::<RelationshipLevel>(2)?,
            }),
        }
        table.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
    }
    Ok(table)
}

/// The export's words → kam's, and the normalisation of the rest.
pub(crate) struct Values<'a> {
    map: &'a BTreeMap<String, String>,
    /// The last word normalised, reused: a new `String` per enum cell was a quarter of
    /// the time spent reading 600,000 rows.
    scratch: std::cell::RefCell<String>,
}

impl<'a> Values<'a> {
    pub(crate) fn new(map: &'a BTreeMap<String, String>) -> Self {
        Values {
            map,
            scratch: std::cell::RefCell::default(),
        }
    }

    /// `"Decision Maker"` → `decision_maker`, after the mapping table.
    pub(crate) fn normalise(&self, raw: &str) -> String {
        self.with_word(raw, str::to_owned)
    }

    /// `f` of the normalised word, written into the reused buffer.
    fn with_word<R>(&self, raw: &str, f: impl FnOnce(&str) -> R) -> R {
        let mapped = self.map.get(raw).map_or(raw, String::as_str);
        let mut word = self.scratch.borrow_mut();
        word.clear();
        word.extend(mapped.trim().chars().map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        }));
        f(&word)
    }
}

/// One row of an `[import.*]` table being read: its cells by field number, and errors
/// placed at the field's cell.
pub(crate) struct RowCx<'a> {
    pub(crate) file: &'a str,
    pub(crate) line: usize,
    pub(crate) cols: &'a Columns,
    pub(crate) record: &'a csv::StringRecord,
    /// The table's (field, required), in field-number order.
    pub(crate) fields: &'static [(&'static str, bool)],
    pub(crate) values: &'a Values<'a>,
    pub(crate) sheet: Option<&'a str>,
}

impl RowCx<'_> {
    /// The trimmed cell of `field` (empty when the export has no such column).
    pub(crate) fn get(&self, field: usize) -> &str {
        self.cols.get(field, self.record)
    }

    /// `message` at `field`'s cell (with its `Sheet!C5` reference in a workbook).
    pub(crate) fn error(&self, field: usize, message: impl std::fmt::Display) -> AccountError {
        let name = self.fields.get(field).map_or("", |(f, _)| *f);
        let column = self.cols.at(field).map_or(1, |i| i + 1);
        let message = match self.sheet {
            Some(s) => format!("{s}!{}{}: {message}", column_letters(column), self.line),
            None => message.to_string(),
        };
        FileError::at(self.file, self.line, column, Some(name), message).into()
    }

    /// A required text value: empty is an error.
    pub(crate) fn text(&self, field: usize) -> Result<&str, AccountError> {
        let v = self.get(field);
        if v.is_empty() {
            return Err(self.error(field, "empty (a value is required)"));
        }
        Ok(v)
    }

    /// An enum value, through the mapping table.
    fn value<T: serde::de::DeserializeOwned>(&self, field: usize) -> Result<T, AccountError> {
        let raw = self.text(field)?;
        let parsed = self.values.with_word(raw, |word| {
            T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(
                word,
            ))
        });
        parsed.map_err(|e| {
            let expected = e.to_string();
            let expected = expected.split_once("expected").map_or("", |(_, x)| x.trim());
            self.error(
                field,
                format!("unknown value {raw:?} (expected {expected}; map the export's words in kam.toml's `values`)"),
            )
        })
    }

    fn person(&self) -> Result<Person, AccountError> {
        let last_contact = match self.get(8) {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| self.error(8, format!("{d:?} is not a date (YYYY-MM-DD)")))?,
            ),
        };
        let buying_centres = self
            .get(9)
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Person {
            id: self.text(0)?.to_owned(),
            name: self.text(1)?.to_owned(),
            title: self.get(2).to_owned(),
            region: self.text(3)?.to_owned(),
            function: self.text(4)?.to_owned(),
            buying_role: self.value::<BuyingRole>(5)?,
            power: self.value::<PoliticalPower>(6)?,
            support: self.value::<Support>(7)?,
            last_contact,
            buying_centres,
        })
    }

    fn relation(&self) -> Result<Relation, AccountError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            ReportsTo,
            Influences,
            ConflictsWith,
        }
        let kind = self.value::<Kind>(0)?;
        let from = self.text(1)?.to_owned();
        let to = self.text(2)?.to_owned();
        Ok(match kind {
            Kind::ReportsTo => Relation::ReportsTo { from, to },
            Kind::ConflictsWith => Relation::ConflictsWith { from, to },
            Kind::Influences => {
                let raw = self.get(3);
                if raw.is_empty() {
                    return Err(self.error(3, "an influences relation needs a weight in (0, 1]"));
                }
                let weight =
                    Decimal::from_str(raw).map_err(|_| self.error(3, format!("{raw:?} is not a number")))?;
                if weight <= Decimal::ZERO || weight > Decimal::ONE {
                    return Err(self.error(3, format!("weight {weight} is outside (0, 1]")));
                }
                Relation::Influences { from, to, weight }
            }
        })
    }
}

/// The rows of a CSV text or a worksheet, one at a time into a reused record.
pub(crate) struct Rows<'t> {
    pub(crate) file: String,
    pub(crate) header_line: usize,
    pub(crate) sheet: Option<String>,
    /// The header's number of fields, once read: every row must have as many.
    width: Option<usize>,
    kind: RowsKind<'t>,
}

enum RowsKind<'t> {
    Csv {
        reader: csv::Reader<&'t [u8]>,
        text: &'t str,
        /// The byte offset and 1-based line of the last record read: lines are counted
        /// from byte offsets, as the reader's own count skips comments and blank lines.
        at: (usize, usize),
    },
    Sheet {
        rows: std::vec::IntoIter<csv::StringRecord>,
        next_line: usize,
    },
}

impl<'t> Rows<'t> {
    /// The rows of an account file named by an `[import.*]` table: a workbook's sheet
    /// (`.xlsx`, `.xlsm`, `.xls`, `.ods`, read from disk; `sheet` or the first), else
    /// CSV text, kept in `texts` so the rows can borrow it.
    pub(crate) fn open(
        source: &Source,
        file: &str,
        sheet: Option<&str>,
        texts: &'t mut BTreeMap<String, String>,
    ) -> Result<Self, FileError> {
        let ext = file
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
            let path = source.path(file).ok_or_else(|| FileError::Io {
                file: source.display(file),
                message: "a workbook is read from an account directory on disk only".into(),
            })?;
            return Rows::workbook(&path, sheet);
        }
        let text = source.text(file)?;
        let text: &'t str = texts.entry(file.to_owned()).insert_entry(text).into_mut();
        Ok(Rows::csv(source.display(file), text))
    }

    pub(crate) fn csv(file: String, text: &'t str) -> Self {
        let reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            // Fields are trimmed when read (`Columns::get`), not the whole record: the
            // reader's trim rebuilds every record, a cost that showed at 500,000 rows.
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes());
        Rows {
            file,
            header_line: 1,
            sheet: None,
            width: None,
            kind: RowsKind::Csv {
                reader,
                text,
                at: (0, 1),
            },
        }
    }

    pub(crate) fn workbook(path: &std::path::Path, sheet: Option<&str>) -> Result<Self, FileError> {
        use calamine::{Data, Reader};
        let file = path.display().to_string();
        let io = |message: String| FileError::Io {
            file: file.clone(),
            message,
        };
        let mut book = calamine::open_workbook_auto(path).map_err(|e| io(e.to_string()))?;
        let name = match sheet {
            Some(s) => s.to_owned(),
            None => book
                .sheet_names()
                .first()
                .cloned()
                .ok_or_else(|| io("the workbook has no worksheet".into()))?,
        };
        let range = book
            .worksheet_range(&name)
            .map_err(|e| io(format!("worksheet {name:?}: {e}")))?;
        let cell = |d: &Data| match d {
            Data::Empty => String::new(),
            Data::String(s) => s.trim().to_owned(),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            // A date cell reads as the `YYYY-MM-DD` a CSV export would hold.
            Data::DateTime(d) if d.is_datetime() => {
                let (y, m, day, ..) = d.to_ymd_hms_milli();
                format!("{y:04}-{m:02}-{day:02}")
            }
            other => other.to_string(),
        };
        // Rows are numbered as the spreadsheet numbers them (the range may start lower).
        let first_row = range.start().map_or(1, |(r, _)| r as usize + 1);
        let width = range.width();
        let rows: Vec<csv::StringRecord> = range
            .rows()
            .map(|r| {
                let mut rec: csv::StringRecord = r.iter().map(cell).collect();
                // A sheet's rows are as wide as its used range; trailing blanks are empty.
                while rec.len() < width {
                    rec.push_field("");
                }
                rec
            })
            .collect();
        Ok(Rows {
            file: format!("{file} [{name}]"),
            header_line: first_row,
            sheet: Some(name),
            width: None,
            kind: RowsKind::Sheet {
                rows: rows.into_iter(),
                next_line: first_row,
            },
        })
    }

    /// The header row.
    pub(crate) fn header(&mut self) -> Result<csv::StringRecord, FileError> {
        let mut rec = csv::StringRecord::new();
        match self.next(&mut rec)? {
            Some(line) => {
                self.header_line = line;
                self.width = Some(rec.len());
                Ok(rec)
            }
            None => Err(FileError::at(
                &self.file,
                1,
                1,
                None,
                "empty: a header row is expected",
            )),
        }
    }

    /// The next non-blank row into `record`, with its line; `None` at the end. After the
    /// header, a row with another number of fields is an error at its first extra (or
    /// missing) field.
    pub(crate) fn next(&mut self, record: &mut csv::StringRecord) -> Result<Option<usize>, FileError> {
        let line = self.next_row(record)?;
        if let (Some(line), Some(width)) = (line, self.width)
            && record.len() != width
        {
            return Err(FileError::at(
                &self.file,
                line,
                record.len().min(width) + 1,
                None,
                format!("the row has {} fields, the header has {width}", record.len()),
            ));
        }
        Ok(line)
    }

    fn next_row(&mut self, record: &mut csv::StringRecord) -> Result<Option<usize>, FileError> {
        match &mut self.kind {
            RowsKind::Csv { reader, text, at } => loop {
                let mut line_of = |byte: usize| {
                    let (from, line) = *at;
                    let byte = byte.max(from);
                    let newlines = text
                        .as_bytes()
                        .get(from..byte)
                        .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
                    *at = (byte, line + newlines);
                    line + newlines
                };
                let more = reader.read_record(record).map_err(|e| {
                    let line = e.position().map_or(1, |p| line_of(p.byte() as usize));
                    FileError::at(&self.file, line, 1, None, e)
                })?;
                if !more {
                    return Ok(None);
                }
                if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                    continue;
                }
                // The record may be reported from the comment or blank lines before it.
                let mut byte = record.position().map_or(0, |p| p.byte() as usize);
                while let Some(rest) = text.get(byte..)
                    && (rest.starts_with('#') || rest.starts_with('\n') || rest.starts_with("\r\n"))
                {
                    byte += rest.find('\n').map_or(rest.len(), |n| n + 1);
                }
                return Ok(Some(line_of(byte)));
            },
            RowsKind::Sheet { rows, next_line } => {
                for r in rows.by_ref() {
                    let line = *next_line;
                    *next_line += 1;
                    if r.iter().all(str::is_empty) {
                        continue;
                    }
                    *record = r;
                    return Ok(Some(line));
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_columns() {
        assert_eq!(
            parse_path("relations[4].to"),
            Some((Part::Relations, 4, Some("to".to_owned())))
        );
        assert_eq!(
            parse_path("people[3].buying_centres[0]"),
            Some((Part::People, 3, Some("buying_centres".to_owned())))
        );
        assert_eq!(parse_path("relations[2]"), Some((Part::Relations, 2, None)));
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(28), "AB");
    }

    #[test]
    fn crm_words_are_normalised() {
        let table: BTreeMap<String, String> = [("Champion".to_owned(), "mentor".to_owned())].into();
        let v = Values::new(&table);
        assert_eq!(v.normalise("Decision Maker"), "decision_maker");
        assert_eq!(v.normalise("Non-supporter"), "non_supporter");
        assert_eq!(v.normalise("Champion"), "mentor");
    }
}
