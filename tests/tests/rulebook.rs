//! The rule table (`tests/RULES.md`) holds: every row complete, every
//! test it names real, every id unique, every section of RFC 9112 from 2
//! to 11 covered, and the counts it states true. Each failure names the
//! row (and its line in the file).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const RULES: &str = include_str!("../RULES.md");

/// The header of a rule table.
const HEADER: [&str; 6] = ["id", "role", "§", "requirement", "h1's behaviour", "test"];

/// Who a rule binds.
const ROLES: [&str; 9] = [
    "S-recv",
    "S-send",
    "C-recv",
    "C-send",
    "any-recv",
    "any-send",
    "any",
    "intermediary",
    "registry",
];

/// How a row says the rule is not the core's to enforce (its test is `—`).
const NOT_CORE: [&str; 4] = ["app:", "intermediary:", "driver:", "n/a:"];

/// Every section of RFC 9112 from 2 to 11, subsections included.
const RFC_9112_SECTIONS: [&str; 48] = [
    "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.3", "4", "5", "5.1",
    "5.2", "6", "6.1", "6.2", "6.3", "7", "7.1", "7.1.1", "7.1.2", "7.1.3", "7.2", "7.3", "7.4", "8", "9",
    "9.1", "9.2", "9.3", "9.3.1", "9.3.2", "9.4", "9.5", "9.6", "9.7", "9.8", "10", "10.1", "10.2", "11",
    "11.1", "11.2", "11.3", "11.4",
];

/// One row of a rule table.
#[derive(Debug)]
struct Row {
    /// 1-based line in RULES.md.
    line: usize,
    id: String,
    role: String,
    behaviour: String,
    test: String,
}

impl Row {
    fn rfc(&self) -> &str {
        self.id.split('-').next().unwrap_or_default()
    }

    /// The section in the id: `9112-6.3-r4` is in 6.3.
    fn section(&self) -> &str {
        self.id.split('-').nth(1).unwrap_or_default()
    }

    fn is_gap(&self) -> bool {
        self.behaviour.starts_with("GAP:")
    }

    fn is_not_core(&self) -> bool {
        self.test == "—"
    }

    fn name(&self) -> String {
        format!("row {} (RULES.md line {})", self.id, self.line)
    }
}

/// The cells of a table line, split at each `|` not escaped as `\|`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    out.push(cell.trim().to_owned());
    out
}

/// Every row of every rule table, and the problems met reading them.
fn rows() -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut in_rule_table = false;
    for (i, line) in RULES.lines().enumerate() {
        let line_no = i + 1;
        if !line.trim_start().starts_with('|') {
            in_rule_table = false;
            continue;
        }
        let cells = cells(line);
        if cells == HEADER {
            in_rule_table = true;
            continue;
        }
        if !in_rule_table || cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            continue;
        }
        if cells.len() != HEADER.len() {
            problems.push(format!(
                "RULES.md line {line_no}: {} columns, expected {} ({line})",
                cells.len(),
                HEADER.len()
            ));
            continue;
        }
        let row = Row {
            line: line_no,
            id: cells[0].clone(),
            role: cells[1].clone(),
            behaviour: cells[4].clone(),
            test: cells[5].clone(),
        };
        for (name, cell) in HEADER.iter().zip(&cells) {
            if cell.is_empty() {
                problems.push(format!("{}: the {name} column is empty", row.name()));
            }
        }
        rows.push(row);
    }
    (rows, problems)
}

/// `<rfc>-<section>-r<n>`.
fn id_is_well_formed(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    let [rfc, section, n] = parts.as_slice() else {
        return false;
    };
    ["9112", "9110", "3986"].contains(rfc)
        && !section.is_empty()
        && section
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && n.strip_prefix('r')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The tests a test cell names: each with whether it is still to be added.
/// `Err` when the cell holds anything but backquoted names, commas and
/// `to add:`.
fn named_tests(cell: &str) -> Result<Vec<(String, bool)>, String> {
    let mut out = Vec::new();
    let mut rest = cell;
    let mut to_add = false;
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("to add:") {
            to_add = true;
            rest = after;
            continue;
        }
        let Some(after) = rest.strip_prefix('`') else {
            return Err(format!("unexpected text {rest:?} in the test column"));
        };
        let Some(end) = after.find('`') else {
            return Err("an unclosed backquote in the test column".into());
        };
        out.push((after[..end].to_owned(), to_add));
        rest = &after[end + 1..];
    }
    if out.is_empty() {
        return Err("no test named".into());
    }
    Ok(out)
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The ids of the shared conformance vectors.
fn vector_ids() -> BTreeSet<String> {
    let path = tests_dir().join("../../shared/conformance/vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the conformance vectors must be there)", path.display()));
    let cases: serde_json::Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    cases
        .as_array()
        .expect("vectors.json is a list")
        .iter()
        .map(|case| case["id"].as_str().expect("each vector has an id").to_owned())
        .collect()
}

/// The file a test name points into, and the function.
fn locate(name: &str) -> Result<(PathBuf, &str), String> {
    let (file, function) = name
        .rsplit_once("::")
        .ok_or_else(|| format!("`{name}` is not file::function"))?;
    if function.is_empty() || !function.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("`{name}`: {function:?} is not a function name"));
    }
    let path = if file.starts_with("core/") && file.ends_with(".rs") {
        tests_dir().join("..").join(file)
    } else if !file.is_empty() && file.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        tests_dir().join("tests").join(format!("{file}.rs"))
    } else {
        return Err(format!(
            "`{name}`: {file:?} is neither a test file nor core/src/…rs"
        ));
    };
    if !path.is_file() {
        return Err(format!("`{name}`: there is no {}", path.display()));
    }
    Ok((path, function))
}

/// Whether `source` has `fn function` marked `#[test]` (the attributes and
/// comments right above it are searched).
fn has_test(source: &str, function: &str) -> bool {
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    lines.iter().enumerate().any(|(i, line)| {
        let Some(rest) = line.strip_prefix("fn ").and_then(|l| l.strip_prefix(function)) else {
            return false;
        };
        if !(rest.starts_with('(') || rest.starts_with('<')) {
            return false;
        }
        lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
            .any(|l| *l == "#[test]")
    })
}

/// The counts the file states: RFC name to (rows, enforced, not core, gaps).
fn stated_counts() -> BTreeMap<String, [usize; 4]> {
    let mut out = BTreeMap::new();
    for line in RULES.lines() {
        let cells = cells(line);
        if cells.len() == 5 && (cells[0].starts_with("RFC ") || cells[0] == "total") {
            let numbers: Vec<usize> = cells[1..].iter().filter_map(|c| c.parse().ok()).collect();
            if let [a, b, c, d] = numbers[..] {
                out.insert(cells[0].clone(), [a, b, c, d]);
            }
        }
    }
    out
}

#[test]
fn every_rule_row_is_complete_and_names_real_tests() {
    let (rows, mut problems) = rows();
    assert!(
        rows.len() > 200,
        "only {} rule rows found: is the table there?",
        rows.len()
    );
    let vectors = vector_ids();
    let mut sources: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for row in &rows {
        let name = row.name();
        if !id_is_well_formed(&row.id) {
            problems.push(format!("{name}: the id is not <rfc>-<section>-r<n>"));
        }
        if !ids.insert(row.id.clone()) {
            problems.push(format!("{name}: the id is used twice"));
        }
        if !ROLES.contains(&row.role.as_str()) {
            problems.push(format!("{name}: role {:?} is none of {ROLES:?}", row.role));
        }
        let says_not_core = NOT_CORE.iter().any(|p| row.behaviour.starts_with(p));
        if row.is_not_core() {
            if !says_not_core {
                problems.push(format!(
                    "{name}: the test is `—` but the behaviour does not say whose the rule is ({NOT_CORE:?})"
                ));
            }
            continue;
        }
        if says_not_core {
            problems.push(format!(
                "{name}: the behaviour says the rule is not the core's, yet the row names tests"
            ));
        }
        let named = match named_tests(&row.test) {
            Ok(named) => named,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        if row.is_gap() && !named.iter().any(|(_, to_add)| *to_add) {
            problems.push(format!(
                "{name}: a GAP row names the test to add (`to add: file::function`)"
            ));
        }
        if !row.is_gap() && named.iter().all(|(_, to_add)| *to_add) {
            problems.push(format!("{name}: no existing test named"));
        }
        for (test, to_add) in named {
            if let Some(id) = test.strip_prefix("vectors:") {
                if to_add {
                    problems.push(format!("{name}: a vector cannot be `to add`"));
                } else if !vectors.contains(id) {
                    problems.push(format!("{name}: no vector {id:?} in vectors.json"));
                }
                continue;
            }
            let (path, function) = match locate(&test) {
                Ok(found) => found,
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    continue;
                }
            };
            if to_add {
                if !row.is_gap() {
                    problems.push(format!("{name}: `to add: {test}` in a row that is no GAP"));
                }
                continue;
            }
            let source = sources
                .entry(path.clone())
                .or_insert_with(|| std::fs::read_to_string(&path).expect("readable test file"));
            if !has_test(source, function) {
                problems.push(format!("{name}: no #[test] fn {function} in {}", path.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "RULES.md: {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_section_of_rfc_9112_has_a_row() {
    let (rows, _) = rows();
    let sections: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.rfc() == "9112")
        .map(Row::section)
        .collect();
    let missing: Vec<&str> = RFC_9112_SECTIONS
        .iter()
        .copied()
        .filter(|s| {
            !sections
                .iter()
                .any(|have| have == s || have.starts_with(&format!("{s}.")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "RULES.md: no row for RFC 9112 section(s) {missing:?}"
    );
}

#[test]
fn the_stated_counts_are_true() {
    let (rows, _) = rows();
    let mut counted: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for row in &rows {
        for key in [format!("RFC {}", row.rfc()), "total".to_owned()] {
            let c = counted.entry(key).or_default();
            c[0] += 1;
            if row.is_not_core() {
                c[2] += 1;
            } else if row.is_gap() {
                c[3] += 1;
            } else {
                c[1] += 1;
            }
        }
    }
    assert_eq!(
        stated_counts(),
        counted,
        "the Counts table of RULES.md (rows, enforced, not the core's, GAP) is not what the rows say"
    );
}

/// Every GAP row is a rule h1 breaks. Ignored while some remain (see the
/// GAP rows of RULES.md); once they are fixed, this runs and keeps them
/// out.
#[test]
fn no_gaps_remain() {
    let (rows, _) = rows();
    let gaps: Vec<String> = rows
        .iter()
        .filter(|r| r.behaviour.contains("GAP"))
        .map(|r| format!("{}: {}", r.name(), r.behaviour))
        .collect();
    assert!(
        gaps.is_empty(),
        "{} rule(s) h1 breaks:\n{}",
        gaps.len(),
        gaps.join("\n")
    );
}
