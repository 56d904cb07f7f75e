//! Reading an account directory's files — TOML, CSV and XLSX — with errors that name the
//! file, line, column and field.
//!
//! Every reader takes the file's display name and its content, so the embedded sample
//! account and files on disk go through the same code and give the same messages.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

/// A file that could not be read or understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The content does not parse or does not match the expected records.
    #[error("{file}:{line}:{column}: {}{message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Parse {
        /// The file.
        file: String,
        /// 1-based line (for spreadsheets: the row).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field, where known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl FileError {
    /// An error at a place in a file.
    pub fn at(
        file: &str,
        line: usize,
        column: usize,
        field: Option<&str>,
        message: impl fmt::Display,
    ) -> Self {
        FileError::Parse {
            file: file.to_owned(),
            line,
            column,
            field: field.map(str::to_owned),
            message: message.to_string(),
        }
    }
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = text.get(..end).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key assigned nearest before `column` on `line` (`weight` in `{ kpi = "x", weight = "y" }`).
fn key_at(text: &str, line: usize, column: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let upto: String = l.chars().take(column.saturating_sub(1)).collect();
    let upto = if upto.trim().is_empty() {
        l.to_owned()
    } else {
        upto
    };
    let eq = upto.rfind('=')?;
    let before = upto.get(..eq)?.trim_end();
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '"'))
        .map_or(0, |i| i + 1);
    let key = before.get(start..)?.trim_matches('"');
    (!key.is_empty()).then(|| key.to_owned())
}

/// Why TOML dates fail: native dates are a TOML type of their own, not the strings that
/// kam's dates read from.
const DATE_HINT: &str = " (hint: write dates as quoted strings, e.g. due = \"2026-11-15\"; \
                         TOML's unquoted dates are not read as dates)";

/// Parses TOML text from `file` into `T`.
pub fn parse_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        let mut message = e.message().trim().to_owned();
        if message.contains("datetime") || message.contains("date string") {
            message.push_str(DATE_HINT);
        }
        let field = key_at(text, line, column);
        FileError::Parse {
            file: file.to_owned(),
            line,
            column,
            field,
            message,
        }
    })
}

/// Reads a whole file as text.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| FileError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

/// A record read from a table with the line (CSV) or row (XLSX) it came from.
#[derive(Debug, Clone)]
pub struct Row<T> {
    /// 1-based line or row, header included.
    pub line: usize,
    /// The record.
    pub record: T,
}

/// Parses CSV text with a header row into records; `#` lines are comments.
pub fn parse_csv<T: DeserializeOwned>(file: &str, text: &str) -> Result<Vec<Row<T>>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(file, &e, None))?.clone();
    let mut rows = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| csv_error(file, &e, Some(&headers)))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let value = record.deserialize(Some(&headers)).map_err(|e| {
            locate_field(
                csv_error(file, &e, Some(&headers)).with_line(line),
                &record,
                &headers,
            )
        })?;
        rows.push(Row { line, record: value });
    }
    Ok(rows)
}

impl FileError {
    fn with_line(self, new_line: usize) -> Self {
        match self {
            FileError::Parse {
                file,
                line,
                column,
                field,
                message,
            } => FileError::Parse {
                file,
                line: if line == 0 { new_line } else { line },
                column,
                field,
                message,
            },
            other => other,
        }
    }
}

/// serde's own errors (`invalid value: string "abc"`) carry no field index: find the
/// column holding the offending value.
fn locate_field(err: FileError, record: &csv::StringRecord, headers: &csv::StringRecord) -> FileError {
    match err {
        FileError::Parse {
            file,
            line,
            field: None,
            message,
            column,
        } => {
            let bad = message
                .split_once("string \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(v, _)| v.to_owned());
            let index = bad.and_then(|v| record.iter().position(|c| c == v));
            FileError::Parse {
                file,
                line,
                column: index.map_or(column, |i| i + 1),
                field: index.and_then(|i| headers.get(i)).map(str::to_owned),
                message,
            }
        }
        other => other,
    }
}

fn csv_error(file: &str, e: &csv::Error, headers: Option<&csv::StringRecord>) -> FileError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    let (field, column, message) = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let index = err.field().map(|i| i as usize);
            let name = index.and_then(|i| headers.and_then(|h| h.get(i)).map(str::to_owned));
            let message = match err.kind() {
                csv::DeserializeErrorKind::Message(m) | csv::DeserializeErrorKind::Unsupported(m) => {
                    m.clone()
                }
                other => other.to_string(),
            };
            (name, index.map_or(1, |i| i + 1), message)
        }
        _ => (None, 1, e.to_string()),
    };
    FileError::Parse {
        file: file.to_owned(),
        line,
        column,
        field,
        message,
    }
}

/// Reads the first worksheet of a workbook (its first non-blank row the header) into
/// records, cells read as the `[import.*]` tables read them (`import::Rows`): text
/// trimmed, a date cell as `YYYY-MM-DD`, lines numbered as the spreadsheet numbers them.
pub fn read_xlsx<T: DeserializeOwned>(path: &Path) -> Result<Vec<Row<T>>, FileError> {
    let mut rows = crate::import::Rows::workbook(path, None)?;
    let headers = rows.header()?;
    let mut record = csv::StringRecord::new();
    let mut out = Vec::new();
    while let Some(line) = rows.next(&mut record)? {
        let value = record.deserialize(Some(&headers)).map_err(|e: csv::Error| {
            let mut err = csv_error(&rows.file, &e, Some(&headers));
            if let FileError::Parse { line: l, .. } = &mut err {
                *l = line;
            }
            locate_field(err, &record, &headers)
        })?;
        out.push(Row { line, record: value });
    }
    Ok(out)
}

/// Reads records from a `.csv` or `.xlsx` file, by extension.
pub fn read_table<T: DeserializeOwned>(path: &Path) -> Result<Vec<Row<T>>, FileError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => read_xlsx(path),
        _ => parse_csv(&path.display().to_string(), &read_text(path)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        due: chrono::NaiveDate,
        weight: rust_decimal::Decimal,
    }

    #[test]
    fn toml_error_names_line_column_and_field() {
        let text = "name = \"a\"\ndue = \"2026-01-01\"\nweight = \"heavy\"\n";
        let e = parse_toml::<Item>("x.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("x.toml:3:"), "{e}");
        assert!(e.contains("field `weight`"), "{e}");
    }

    #[test]
    fn native_toml_date_gets_a_hint() {
        let text = "name = \"a\"\ndue = 2026-01-01\nweight = \"1\"\n";
        let e = parse_toml::<Item>("x.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("x.toml:2:"), "{e}");
        assert!(e.contains("field `due`") && e.contains("quoted strings"), "{e}");
    }

    #[test]
    fn csv_error_names_line_and_column_header() {
        let text = "name,due,weight\na,2026-01-01,1\nb,2026-01-02,abc\n";
        let e = parse_csv::<Item>("x.csv", text).unwrap_err().to_string();
        assert!(e.starts_with("x.csv:3:3: field `weight`"), "{e}");
        let ok = parse_csv::<Item>("x.csv", "# c\nname,due,weight\na,2026-01-01,1\n").unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].line, 3);
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\nçd", 5), (2, 2));
        assert_eq!(line_col("", 10), (1, 1));
    }
}
