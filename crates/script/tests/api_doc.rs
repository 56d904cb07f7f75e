//! The analyst API document (`docs/analyst-api.md`) against what the host registers and
//! `kam api` lists, both ways, so the two cannot drift: every call the document names
//! in its code (tables, examples, inline code) is registered, every listed function,
//! method, property and type is in the document, and every function registered into
//! Rhai is listed.
//!
//! The document is read from the repository at compile time; this test does not check
//! what the functions do (`analyst_api.rs` does).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use kam_script::ScriptHost;

const DOC: &str = include_str!("../../../docs/analyst-api.md");

/// Words in the document's code that are Rhai, not the API.
const RHAI: &[&str] = &[
    "let", "for", "in", "if", "else", "fn", "return", "print", "true", "false",
];

/// The code of the document: fenced blocks and inline spans, with `//` comments and
/// string literals removed. Inline spans that are shell commands (`kam …`) or file names
/// are skipped.
fn doc_code(doc: &str) -> Vec<String> {
    let mut code = Vec::new();
    let mut in_block = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            code.push(line.to_owned());
            continue;
        }
        // Inline spans: text between pairs of backticks.
        let mut parts = line.split('`');
        parts.next();
        while let Some(span) = parts.next() {
            let file = [".md", ".toml", ".rs", ".rhai"].iter().any(|x| span.ends_with(x));
            if !(span.starts_with("kam ") || file) {
                code.push(span.to_owned());
            }
            parts.next();
        }
    }
    code.iter().map(|l| strip(l)).collect()
}

/// `line` without its `//` comment and with string literals emptied.
fn strip(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            if c == '"' {
                in_str = false;
                out.push('"');
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Names the code uses: `name(` calls (free functions, with `free` true) and `.name`
/// accesses (methods and properties).
#[derive(Debug, Default)]
struct Used {
    free: BTreeSet<String>,
    dotted: BTreeSet<String>,
}

fn used(code: &[String]) -> Used {
    let mut u = Used::default();
    for line in code {
        let bytes: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut prev = String::new();
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_') {
                    i += 1;
                }
                let word: String = bytes[start..i].iter().collect();
                let before = start.checked_sub(1).map(|j| bytes[j]);
                if before.is_some_and(|b| b.is_ascii_digit()) {
                    continue; // `4m` in a formula
                }
                if before == Some('.') {
                    u.dotted.insert(word.clone());
                } else if bytes.get(i) == Some(&'(') && !RHAI.contains(&word.as_str()) && prev != "fn" {
                    // (`fn adjust(quote)` defines a script's entry point: not a call.)
                    u.free.insert(word.clone());
                }
                prev = word;
            } else {
                i += 1;
            }
        }
    }
    u
}

/// The listing, split by kind: free functions, methods (`x.name(`), properties
/// (`Type.name -> …`) and types (`type Name`).
#[derive(Debug, Default)]
struct Listed {
    free: BTreeSet<String>,
    methods: BTreeSet<String>,
    properties: BTreeSet<String>,
    types: BTreeSet<String>,
}

fn listed(host: &ScriptHost) -> Listed {
    let mut l = Listed::default();
    for e in host.api() {
        let sig = e.signature.as_str();
        if let Some(t) = sig.strip_prefix("type ") {
            l.types.insert(t.to_owned());
            continue;
        }
        let head = sig.split(['(', ' ']).next().unwrap_or(sig);
        match head.split_once('.') {
            Some((_, name)) if sig.contains('(') && sig.find('(') < sig.find(" ->").or(Some(usize::MAX)) => {
                l.methods.insert(name.to_owned());
            }
            Some((_, name)) => {
                l.properties.insert(name.to_owned());
            }
            None => {
                l.free.insert(head.to_owned());
            }
        }
    }
    l
}

#[test]
fn every_call_in_the_document_is_registered() {
    let host = ScriptHost::default();
    let l = listed(&host);
    let u = used(&doc_code(DOC));
    assert!(
        u.free.contains("pagerank") && u.dotted.contains("critical_path"),
        "{u:?}"
    );
    let missing: Vec<_> = u.free.iter().filter(|n| !l.free.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "functions in the document but not registered: {missing:?}"
    );
    let missing: Vec<_> = u
        .dotted
        .iter()
        .filter(|n| !l.methods.contains(*n) && !l.properties.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "methods or properties in the document but not registered: {missing:?}"
    );
}

#[test]
fn everything_listed_is_in_the_document() {
    let host = ScriptHost::default();
    let l = listed(&host);
    let u = used(&doc_code(DOC));
    let missing: Vec<_> = l.free.iter().filter(|n| !u.free.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "listed functions the document does not name: {missing:?}"
    );
    let missing: Vec<_> = l
        .methods
        .iter()
        .chain(&l.properties)
        .filter(|n| !u.dotted.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "listed methods/properties the document does not name: {missing:?}"
    );
    let missing: Vec<_> = l
        .types
        .iter()
        .filter(|t| !DOC.contains(&format!("`{t}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "listed types the document does not name: {missing:?}"
    );
    // Every section of the listing is a section of the document.
    let mut sections: Vec<&str> = host.api().iter().map(|e| e.section).collect();
    sections.dedup();
    for s in sections {
        assert!(
            DOC.contains(&format!("\n## {s}\n")),
            "section {s:?} is not in the document"
        );
    }
}

#[test]
fn every_registered_function_is_listed() {
    let host = ScriptHost::default();
    let l = listed(&host);
    let json = host.engine().gen_fn_metadata_to_json(false).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
    let functions = meta["functions"].as_array().unwrap();
    assert!(functions.len() > 50);
    for f in functions {
        let name = f["name"].as_str().unwrap();
        if let Some(prop) = name.strip_prefix("get$") {
            assert!(
                l.properties.contains(prop),
                "property {prop} is registered but not listed"
            );
            continue;
        }
        // Operators and conversions are documented with their type.
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) || ["to_string", "to_debug"].contains(&name) {
            continue;
        }
        assert!(
            l.free.contains(name) || l.methods.contains(name),
            "{name} is registered but not listed by `kam api`"
        );
    }
}

#[test]
fn the_extractor_reads_what_it_should() {
    let code = doc_code(
        "a `money(1, \"x(\")` b `q.total` and `kam run f(x)` `fn adjust(q)`\n```rhai\nlet r = p.simulate(1, 2); // Φ(z)\n```\n",
    );
    let u = used(&code);
    assert_eq!(u.free.iter().collect::<Vec<_>>(), ["money"]);
    assert_eq!(u.dotted.iter().collect::<Vec<_>>(), ["simulate", "total"]);
}
