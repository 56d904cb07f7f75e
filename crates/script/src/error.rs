//! Script errors that point at the analyst's line: `file:line:col`, the source line and a caret.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

/// The class of a script failure, so hosts can map it (e.g. onto
/// [`kam_core::rules::RuleErrorKind`]) without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptErrorKind {
    /// The script does not parse (or uses a disabled symbol such as `eval`).
    Syntax,
    /// A runtime error: a bad argument to an API function, an undefined variable,
    /// a type mismatch, a `throw`, arithmetic overflow.
    Runtime,
    /// The operation budget ran out (an endless loop, a very long computation).
    OperationLimit,
    /// The wall-clock limit was reached.
    Timeout,
    /// A size or depth limit: string, array or map too large, call stack too deep.
    ResourceLimit,
    /// A rule script lacks an entry point or returned a value of the wrong shape.
    Contract,
}

/// A failed compile or run, with where in the script it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScriptError {
    /// The script's name (usually its file path).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What went wrong.
    pub message: String,
    /// The class of failure.
    pub kind: ScriptErrorKind,
    /// The offending source line, when the position and source are known.
    pub source_line: Option<String>,
}

impl ScriptError {
    /// An error with no position (e.g. a missing entry point).
    pub fn new(file: impl Into<String>, kind: ScriptErrorKind, message: impl Into<String>) -> Self {
        ScriptError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            kind,
            source_line: None,
        }
    }

    /// From a Rhai parse error.
    pub fn from_parse(file: &str, source: &str, err: &ParseError) -> Self {
        let message = err.err_type().to_string();
        let message = if message.contains("eval") {
            format!("{message} (eval is disabled in kam scripts)")
        } else if message.contains("'/='") {
            format!("{message} (kam scripts divide exactly with `/`; write `x = x / y`)")
        } else {
            message
        };
        Self::at(file, source, err.position(), ScriptErrorKind::Syntax, message)
    }

    /// From a Rhai runtime error; the innermost position of a nested function call is used.
    pub fn from_eval(file: &str, source: &str, err: &EvalAltResult) -> Self {
        let mut trace = Vec::new();
        let mut inner = err;
        while let EvalAltResult::ErrorInFunctionCall(name, _, next, _) = inner {
            if !name.starts_with("anon$") {
                trace.push(name.clone());
            }
            inner = next;
        }
        let kind = match inner {
            EvalAltResult::ErrorTooManyOperations(_) => ScriptErrorKind::OperationLimit,
            EvalAltResult::ErrorTerminated(..) => ScriptErrorKind::Timeout,
            EvalAltResult::ErrorStackOverflow(_) | EvalAltResult::ErrorDataTooLarge(..) => {
                ScriptErrorKind::ResourceLimit
            }
            _ => ScriptErrorKind::Runtime,
        };
        let mut message = match inner {
            EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
            EvalAltResult::ErrorTooManyOperations(_) => {
                "operation limit reached (an endless loop or a very long computation?)".to_owned()
            }
            EvalAltResult::ErrorTerminated(..) => "wall-clock time limit reached".to_owned(),
            EvalAltResult::ErrorStackOverflow(_) => "call stack too deep (runaway recursion?)".to_owned(),
            other => strip_position(&other.to_string()),
        };
        if !trace.is_empty() {
            trace.reverse();
            message.push_str(&format!(" (in function {})", trace.join(" ← ")));
        }
        let pos = match inner.position() {
            p if p.is_none() => err.position(),
            p => p,
        };
        Self::at(file, source, pos, kind, message)
    }

    fn at(file: &str, source: &str, pos: Position, kind: ScriptErrorKind, message: String) -> Self {
        let line = pos.line();
        let column = pos.position();
        let source_line = line.and_then(|l| source.lines().nth(l.saturating_sub(1)).map(str::to_owned));
        ScriptError {
            file: file.to_owned(),
            line,
            column,
            message,
            kind,
            source_line,
        }
    }

    /// The multi-line rendering for a terminal:
    ///
    /// ```text
    /// error: cost_plus: argument markup_pct: must be a number, got string
    ///   --> pricing.rhai:3:9
    ///    |
    ///  3 | let p = cost_plus(190000, "6");
    ///    |         ^
    /// ```
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        match (self.line, self.column) {
            (Some(line), col) => {
                let col_txt = col.map(|c| format!(":{c}")).unwrap_or_default();
                let gutter = line.to_string().len();
                out.push_str(&format!("{:gutter$}--> {}:{line}{col_txt}\n", "", self.file));
                if let Some(src) = &self.source_line {
                    out.push_str(&format!("{:gutter$} |\n", ""));
                    out.push_str(&format!("{line} | {src}\n"));
                    if let Some(c) = col {
                        // Tabs in the prefix keep the caret aligned in a terminal.
                        let pad: String = src
                            .chars()
                            .take(c.saturating_sub(1))
                            .map(|ch| if ch == '\t' { '\t' } else { ' ' })
                            .collect();
                        out.push_str(&format!("{:gutter$} | {pad}^\n", ""));
                    }
                }
            }
            (None, _) => out.push_str(&format!("  --> {}\n", self.file)),
        }
        out
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Rhai appends ` (line L, position P)` to messages; the rendering shows it separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" (line ") {
        Some(i) if msg.ends_with(')') => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_column() {
        let e = ScriptError {
            file: "a.rhai".into(),
            line: Some(2),
            column: Some(9),
            message: "boom".into(),
            kind: ScriptErrorKind::Runtime,
            source_line: Some("let x = y;".into()),
        };
        let r = e.render();
        assert!(r.contains("--> a.rhai:2:9"), "{r}");
        assert!(r.contains("2 | let x = y;"), "{r}");
        assert!(r.contains("  |         ^"), "{r}");
        assert_eq!(e.to_string(), "a.rhai:2:9: boom");
    }

    #[test]
    fn strips_rhai_position_suffix() {
        assert_eq!(
            strip_position("Variable not found: y (line 2, position 9)"),
            "Variable not found: y"
        );
        assert_eq!(strip_position("plain"), "plain");
    }
}
