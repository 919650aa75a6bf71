//! House rules over the source tree: no new import loop between the modules of a crate.
//!
//! Each library module's non-test code is read for `crate::…` and `super::…` paths; a loop is a
//! set of modules that reach each other. None stands; a new one fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Loops that stand, per crate: none since session 10 (issue 17).
const KNOWN: &[(&str, &[&str])] = &[];

fn modules(src: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            modules(src, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Test modules may use anything.
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            out.insert(parts.join("::"), code);
        }
    }
}

/// The modules each module uses (by the longest module path its `crate::`/`super::` paths name).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut code = BTreeMap::new();
    modules(src, src, &mut code);
    let names: BTreeSet<String> = code.keys().cloned().collect();
    let mut g = BTreeMap::new();
    for (name, text) in &code {
        let mut uses = BTreeSet::new();
        let own: Vec<&str> = name.split("::").filter(|s| !s.is_empty()).collect();
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", own[..own.len().saturating_sub(1)].to_vec()),
        ] {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + prefix.len()..];
                let path: Vec<&str> = rest
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or("")
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                let full: Vec<&str> = base.iter().copied().chain(path).collect();
                for k in (1..=full.len()).rev() {
                    let cand = full[..k].join("::");
                    if names.contains(&cand) {
                        let inside = name.starts_with(&format!("{cand}::"))
                            || cand.starts_with(&format!("{name}::"))
                            || cand == *name;
                        if !inside && !name.is_empty() {
                            uses.insert(cand);
                        }
                        break;
                    }
                }
            }
        }
        g.insert(name.clone(), uses);
    }
    g
}

/// Sets of two or more modules that reach each other.
fn loops(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(v) = todo.pop() {
            for w in g.get(&v).into_iter().flatten() {
                if seen.insert(w.clone()) {
                    todo.push(w.clone());
                }
            }
        }
        seen
    };
    let all: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|k| (k, reach(k))).collect();
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    for (v, r) in &all {
        let mut comp: Vec<String> = r
            .iter()
            .filter(|w| all.get(w).is_some_and(|rw| rw.contains(*v)))
            .cloned()
            .collect();
        if !comp.is_empty() {
            comp.sort();
            out.insert(comp);
        }
    }
    out.into_iter().filter(|c| c.len() > 1).collect()
}

#[test]
fn no_new_import_loop_inside_a_crate() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for e in std::fs::read_dir(&crates).unwrap() {
        let dir = e.unwrap().path();
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let krate = dir.file_name().unwrap().to_string_lossy().to_string();
        for l in loops(&graph(&src)) {
            found.push((krate.clone(), l));
        }
    }
    found.sort();
    let known: Vec<(String, Vec<String>)> = KNOWN
        .iter()
        .map(|(c, l)| (c.to_string(), l.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(
        found, known,
        "import loops between modules (new ones are not allowed)"
    );
}

#[test]
fn the_loop_finder_finds_a_loop() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::X;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::Y;\n#[cfg(test)]\nmod t { use crate::c; }\n",
    )
    .unwrap();
    std::fs::write(src.join("c.rs"), "use super::a;\n").unwrap();
    assert_eq!(
        loops(&graph(src)),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}
