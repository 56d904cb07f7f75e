//! Text from untrusted rules made safe for where kam writes it: a terminal, or a
//! spreadsheet cell. One function for each, used by every writer, so a plugin or script
//! label is treated the same in a table, a log line, an error, a CSV file and an XLSX
//! sheet. (HTML is escaped by the report's template engine, not here.)
//!
//! It is **not** a sanitizer of meaning: the text keeps every printable character; only
//! what a terminal or a spreadsheet would *act on* is written out visibly.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a terminal would act on `c` instead of showing it: C0 controls (ESC starts
/// an escape sequence; BEL, BS, CR rewrite the line), DEL, the C1 controls (U+0080–
/// U+009F, where U+009B is a one-character CSI), and the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder the text around
/// them (the "Trojan Source" trick).
fn acted_on(c: char, keep_newline_and_tab: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newline_and_tab,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escape(text: &str, keep_newline_and_tab: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| acted_on(c, keep_newline_and_tab)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acted_on(c, keep_newline_and_tab) {
            // `\u001b`: visible, and a valid JSON string escape of the same character,
            // so escaping JSON output changes its text but never its value (every
            // character escaped here is below U+10000: four hex digits suffice).
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for a terminal, one line: every control character (newline and tab too) and
/// bidi control written as a visible escape (`\u001b`, `\u202e`), so text from a rule
/// cannot move the cursor, retitle or clear the terminal, or forge a table row. The
/// escape is JSON's, so JSON text passed through here keeps its value.
///
/// ```
/// use kam_core::text::for_terminal_line;
/// assert_eq!(for_terminal_line("rebate\x1b[2J\nforged"), "rebate\\u001b[2J\\u000aforged");
/// assert_eq!(for_terminal_line("\u{202e}cba"), "\\u202ecba");
/// assert_eq!(for_terminal_line("plain – text"), "plain – text");
/// ```
pub fn for_terminal_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` for a terminal, keeping its newlines and tabs (an error message with a source
/// excerpt); every other control character and bidi control is escaped as in
/// [`for_terminal_line`].
///
/// ```
/// use kam_core::text::for_terminal;
/// assert_eq!(for_terminal("line 1\n\x1b]0;title\x07"), "line 1\n\\u001b]0;title\\u0007");
/// ```
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// `text` for a CSV or spreadsheet cell: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return would make a spreadsheet read the cell as a formula (formula injection:
/// `=HYPERLINK(…)`, `=cmd|…`), so such a cell gets a leading `'`, which spreadsheets
/// show as text. Numbers kam writes as numbers are not text and are not passed here.
///
/// ```
/// use kam_core::text::for_cell;
/// assert_eq!(for_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(for_cell("-5% rebate"), "'-5% rebate");
/// assert_eq!(for_cell("Volume rebate"), "Volume rebate");
/// ```
pub fn for_cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}
