//! The facade stays readable: no function in `src/` (the root crate) is longer than
//! [`MAX_LINES`] lines, from its `fn` line to its closing brace (rustfmt layout).

use std::path::{Path, PathBuf};

/// The longest function allowed in the facade.
const MAX_LINES: usize = 60;

/// The `fn` name when `line` starts a function item (any visibility and qualifiers).
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "unsafe ",
            "async ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        if rest == before {
            break;
        }
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// `(lines, name, first line)` of every function with a body in `text`.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = &line[..line.len() - line.trim_start().len()];
        let close = format!("{indent}}}");
        let one_line = line.contains('{') && line.trim_end().ends_with('}');
        // The signature ends at the first `{` (a body) or `;` (a declaration).
        let opens = lines[i..]
            .iter()
            .find(|l| l.contains('{') || l.trim_end().ends_with(';'))
            .is_some_and(|l| l.contains('{'));
        let end = if one_line {
            Some(i)
        } else if opens {
            lines[i..].iter().position(|l| *l == close).map(|n| i + n)
        } else {
            None
        };
        if let Some(end) = end {
            out.push((end - i + 1, name.to_string(), i + 1));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn the_counter_counts_bodies_and_skips_declarations() {
    let text =
        "pub(crate) fn a() {\n    x();\n}\n\ntrait T {\n    fn b(&self);\n    fn c(&self) {}\n}\n";
    let found = functions(text);
    assert_eq!(
        found,
        [(3, "a".to_string(), 1), (1, "c".to_string(), 7)],
        "{found:?}"
    );
}

#[test]
fn no_facade_function_is_longer_than_sixty_lines() -> std::io::Result<()> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    )?;
    assert!(files.len() > 10, "found the facade's sources: {files:?}");
    let mut long = Vec::new();
    let mut counted = 0;
    for file in &files {
        for (n, name, at) in functions(&std::fs::read_to_string(file)?) {
            counted += 1;
            if n > MAX_LINES {
                long.push(format!("{}:{at} {name}: {n} lines", file.display()));
            }
        }
    }
    assert!(counted > 100, "counted {counted} functions");
    assert!(
        long.is_empty(),
        "functions over {MAX_LINES} lines (split them):\n{}",
        long.join("\n")
    );
    Ok(())
}
