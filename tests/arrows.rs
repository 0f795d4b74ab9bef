//! The dependency arrows of the pipeline point one way:
//!
//! ```text
//! capture ──▶ proto ◀── dissect ◀── analysis ◀── render
//! ```
//!
//! This test reads every source file's code (comments and doc comments aside) and fails on
//! a path into a module against that flow: nothing in `proto/` uses `analysis`, `dissect`,
//! `render` or `capture`; nothing in `dissect.rs` or `context.rs` uses `analysis` or
//! `render`; nothing in `analysis/` uses `render`; nothing in `capture/` uses `dissect`,
//! `analysis` or `render`.

use std::path::{Path, PathBuf};

/// (files under this path, modules they must not use).
const RULES: &[(&str, &[&str])] = &[
    ("src/proto", &["analysis", "dissect", "render", "capture"]),
    ("src/dissect.rs", &["analysis", "render"]),
    (
        "src/context.rs",
        &["analysis", "render", "dissect", "capture"],
    ),
    (
        "src/timestamp.rs",
        &["analysis", "render", "dissect", "capture", "proto"],
    ),
    ("src/analysis", &["render"]),
    ("src/capture", &["dissect", "analysis", "render"]),
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            rust_files(&p, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The code of a line: what comes before a `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// Every module `text` names in a path `crate::module` or `super::…` that resolves to a
/// top-level module (only `crate::` paths are checked: `super` stays inside a module).
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        // Not part of a longer identifier such as `mycrate::`.
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let module: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.push(module);
    }
    // `use crate::{a, b::c}` groups.
    for (i, _) in text.match_indices("crate::{") {
        let rest = &text[i + "crate::{".len()..];
        let group = rest.split('}').next().unwrap_or("");
        for part in group.split(',') {
            let module: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !module.is_empty() {
                found.push(module);
            }
        }
    }
    found
}

#[test]
fn no_module_uses_one_downstream_of_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    let mut checked = 0;
    for (under, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&root.join(under), &mut files);
        assert!(!files.is_empty(), "no Rust files under {under}");
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            // Only the code, not the comments: a doc link to a downstream module is fine.
            let code: String = text.lines().map(|l| code(l).to_string() + "\n").collect();
            for module in crate_paths(&code) {
                if forbidden.contains(&module.as_str()) {
                    broken.push(format!(
                        "{} uses crate::{module}, against the pipeline's flow",
                        file.strip_prefix(root).unwrap_or(&file).display()
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} files checked");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_paths_and_groups() {
    assert_eq!(
        crate_paths("use crate::analysis::tcp; let x = crate::render::f();"),
        ["analysis", "render"]
    );
    assert!(crate_paths("use crate::{dissect::D, proto};").contains(&"dissect".to_string()));
    assert!(crate_paths("mycrate::render").is_empty());
    assert_eq!(code("let a = 1; // crate::render"), "let a = 1; ");
}
