//! A fast reader for `stakeholders.toml` in the plain shape kam's docs and generators
//! write: `[[people]]`, `[[our_people]]`, `[[relations]]` and `[[coverage]]` tables of
//! `key = "string"` and `key = ["string", …]` lines, with comments and blank lines.
//!
//! Why: the `toml` crate builds the whole document as a tree of spanned values before
//! deserializing it; for a 100,000-person map (55 MB) that tree took 1.7 GB and two
//! seconds. This reader goes line by line straight into the records.
//!
//! It is not a TOML parser. On anything outside that shape — another table, an inline
//! table, a number, a literal string, an escape other than `\"` and `\\`, an unknown or
//! repeated key, a value that does not parse — it returns `None` and the caller parses
//! the file with the `toml` crate, which gives the same records or the error at its
//! line, column and field. So the fast path never changes what a file means; the
//! property test in kam-account's tests compares the two on generated maps.

use std::borrow::Cow;

use chrono::NaiveDate;
use kam_core::stakeholders::{Coverage, OurPerson, Person, Relation, StakeholderMap};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::value::{Error as ValueError, StrDeserializer};

/// One `key = value` of a record.
enum Value<'t> {
    Str(Cow<'t, str>),
    List(Vec<Cow<'t, str>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    People,
    Ours,
    Relations,
    Coverage,
}

/// Reads `text` if it has the plain shape; `None` means "parse it with the toml crate".
pub fn parse(text: &str) -> Option<StakeholderMap> {
    let mut map = StakeholderMap::default();
    let mut part: Option<Part> = None;
    let mut fields: Vec<(&str, Value<'_>)> = Vec::with_capacity(12);
    for raw in text.split('\n') {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            if let Some(p) = part {
                finish(p, &mut fields, &mut map)?;
            }
            let header = strip_comment(line)?;
            part = Some(match header {
                "[[people]]" => Part::People,
                "[[our_people]]" => Part::Ours,
                "[[relations]]" => Part::Relations,
                "[[coverage]]" => Part::Coverage,
                _ => return None,
            });
            continue;
        }
        part?;
        let (key, rest) = line.split_once('=')?;
        let key = key.trim_end();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        if fields.iter().any(|(k, _)| *k == key) {
            return None;
        }
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('[') {
            let mut items = Vec::new();
            let mut body = body.trim_start();
            loop {
                if let Some(after) = body.strip_prefix(']') {
                    strip_comment_tail(after)?;
                    break;
                }
                let (s, after) = string(body)?;
                items.push(s);
                let after = after.trim_start();
                body = match after.strip_prefix(',') {
                    Some(a) => a.trim_start(),
                    None if after.starts_with(']') => after,
                    None => return None,
                };
            }
            Value::List(items)
        } else {
            let (s, after) = string(rest)?;
            strip_comment_tail(after)?;
            Value::Str(s)
        };
        fields.push((key, value));
    }
    if let Some(p) = part {
        finish(p, &mut fields, &mut map)?;
    }
    Some(map)
}

/// A header line without a trailing comment.
fn strip_comment(line: &str) -> Option<&str> {
    match line.split_once('#') {
        Some((h, _)) => Some(h.trim_end()),
        None => Some(line),
    }
}

/// What follows a value: nothing, or a comment.
fn strip_comment_tail(after: &str) -> Option<()> {
    let after = after.trim_start();
    (after.is_empty() || after.starts_with('#')).then_some(())
}

/// A basic string at the start of `s`, and the text after it.
fn string(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = s.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes.get(i)? {
            b'"' => break,
            b'\\' => {
                if !matches!(bytes.get(i + 1)?, b'"' | b'\\') {
                    return None;
                }
                escaped = true;
                i += 2;
            }
            // Control characters are errors in TOML: let the toml crate say so.
            b if (*b < 0x20 && *b != b'\t') || *b == 0x7f => return None,
            _ => i += 1,
        }
    }
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let inner = body.get(..i)?;
    let rest = body.get(i + 1..)?;
    let value = if escaped {
        Cow::Owned(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
    } else {
        Cow::Borrowed(inner)
    };
    Some((value, rest))
}

/// An enum, date or decimal read from a string the way serde reads it from TOML.
fn de<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    T::deserialize(StrDeserializer::<ValueError>::new(s)).ok()
}

/// Removes `key`'s value from the record's fields.
fn take<'t>(fields: &mut Vec<(&str, Value<'t>)>, key: &str) -> Option<Value<'t>> {
    let i = fields.iter().position(|(k, _)| *k == key)?;
    Some(fields.swap_remove(i).1)
}

/// `key`'s string: `Some(None)` when absent, `None` when it is a list.
fn text(fields: &mut Vec<(&str, Value<'_>)>, key: &str) -> Option<Option<String>> {
    match take(fields, key) {
        None => Some(None),
        Some(Value::Str(s)) => Some(Some(s.into_owned())),
        Some(Value::List(_)) => None,
    }
}

/// `key`'s list: `Some(None)` when absent, `None` when it is a string.
fn list(fields: &mut Vec<(&str, Value<'_>)>, key: &str) -> Option<Option<Vec<String>>> {
    match take(fields, key) {
        None => Some(None),
        Some(Value::List(items)) => Some(Some(items.into_iter().map(Cow::into_owned).collect())),
        Some(Value::Str(_)) => None,
    }
}

/// Turns the collected fields into a record of `part`; `None` on any key the plain
/// shape does not know, a missing required key, or a value that does not parse.
fn finish(part: Part, f: &mut Vec<(&str, Value<'_>)>, map: &mut StakeholderMap) -> Option<()> {
    match part {
        Part::People => {
            let person = Person {
                id: text(f, "id")??,
                name: text(f, "name")??,
                title: text(f, "title")?.unwrap_or_default(),
                region: text(f, "region")??,
                function: text(f, "function")??,
                buying_role: de(&text(f, "buying_role")??)?,
                power: de(&text(f, "power")??)?,
                support: de(&text(f, "support")??)?,
                last_contact: match text(f, "last_contact")? {
                    Some(d) => Some(de::<NaiveDate>(&d)?),
                    None => None,
                },
                buying_centres: list(f, "buying_centres")?.unwrap_or_default(),
            };
            map.people.push(person);
        }
        Part::Ours => {
            let ours = OurPerson {
                id: text(f, "id")??,
                name: text(f, "name")??,
                role: text(f, "role")?.unwrap_or_default(),
            };
            map.our_people.push(ours);
        }
        Part::Relations => {
            let kind = text(f, "kind")??;
            let from = text(f, "from")??;
            let to = text(f, "to")??;
            let relation = match kind.as_str() {
                "reports_to" => Relation::ReportsTo { from, to },
                "conflicts_with" => Relation::ConflictsWith { from, to },
                "influences" => Relation::Influences {
                    from,
                    to,
                    weight: de::<Decimal>(&text(f, "weight")??)?,
                },
                _ => return None,
            };
            map.relations.push(relation);
        }
        Part::Coverage => {
            let coverage = Coverage {
                ours: text(f, "ours")??,
                theirs: text(f, "theirs")??,
                level: de(&text(f, "level")??)?,
            };
            map.coverage.push(coverage);
        }
    }
    // A key left over is one the plain shape does not know: let serde decide.
    let done = f.is_empty();
    f.clear();
    done.then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_shape_is_read_and_the_rest_falls_back() {
        let text = "# map\n[[people]]\nid = \"a\" # first\nname = \"A \\\"x\\\"\"\nregion = \"emea\"\n\
                    function = \"f\"\nbuying_role = \"approver\"\npower = \"high\"\nsupport = \"mentor\"\n\
                    buying_centres = [\"bc1\", \"bc2\"]\n\n[[relations]]\nkind = \"influences\"\n\
                    from = \"a\"\nto = \"b\"\nweight = \"0.5\"\n";
        let fast = parse(text);
        let slow: Option<StakeholderMap> = toml::from_str(text).ok();
        assert!(fast.is_some());
        assert_eq!(fast, slow);
        for other in [
            "[[people]]\nid = 'a'\n",
            "title = \"x\"\n",
            "[[relations]]\nkind = \"influences\"\nfrom = \"a\"\nto = \"b\"\nweight = 0.5\n",
            "[[people]]\nid = \"a\"\nid = \"b\"\n",
            "[people]\n",
        ] {
            assert!(parse(other).is_none(), "{other}");
        }
    }
}
