//! The layers of the app, and the check that keeps them (README, "Layout").
//!
//! Every top-level module of `app/src` has a place in [`MODULES`], lowest
//! first. A module may use the modules listed before it and never one
//! listed after it: so the kernel uses nothing above it, the platform only
//! the kernel, a feature the kernel, the platform and the features before
//! it, and an aggregator anything before it. With one order for all, a
//! cycle between modules needs an upward use, so there is none either.
//!
//! The test reads the source (`crate::…` paths in code, not in comments)
//! and fails on an upward use that [`KNOWN_UPWARD`] does not list, and on
//! a listed one that is gone, so that list only ever shrinks.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// Domain types, errors, formatting, entities.
    Kernel,
    /// Machinery the features share: PDF, mail, audit log, auth, view pieces.
    Platform,
    /// One concept each: its DTOs, server functions, pages, routes, service.
    Feature,
    /// Read many features, own none.
    Aggregator,
}

use Layer::*;

/// Every top-level module, lowest first.
const MODULES: &[(&str, Layer)] = &[
    ("error", Kernel),
    ("ids", Kernel),
    ("domain", Kernel),
    ("format", Kernel),
    ("entities", Kernel),
    ("net", Platform),
    ("csp", Platform),
    ("blobs", Platform),
    ("pdf", Platform),
    ("audit", Platform),
    ("state", Platform),
    ("ui", Platform),
    ("auth", Platform),
    ("mail", Platform),
    ("http", Platform),
    ("toms", Feature),
    ("orgs", Feature),
    ("subprocessors", Feature),
    ("evidence", Feature),
    ("customers", Feature),
    ("notices", Feature),
    ("sso", Feature),
    ("pledges", Feature),
    ("training", Feature),
    ("reviews", Feature),
    ("protocol", Feature),
    ("avv", Feature),
    ("annex", Aggregator),
    ("contract", Aggregator),
    ("register", Aggregator),
    ("reminders", Aggregator),
    ("portal", Aggregator),
    ("measure", Aggregator),
    ("home", Aggregator),
    ("layers", Aggregator),
];

/// Upward uses that exist today: (from, to, what would remove it). There
/// are none; one may be listed here only while it is being removed. A
/// lower module that must call into a higher one takes a function the
/// server registers (as single sign-on's `Confirmations` does).
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::*;

    /// (from, to) → where, as `file:line`.
    type Uses = BTreeMap<(String, String), BTreeSet<String>>;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The names a `use crate::{a::x, b, c::{y, z}}` group starts with.
    fn group_heads(group: &str) -> Vec<String> {
        let mut heads = Vec::new();
        let (mut depth, mut item) = (0, String::new());
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    heads.push(std::mem::take(&mut item));
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        heads.push(item);
        heads
            .iter()
            .filter_map(|h| h.split("::").next())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect()
    }

    /// Every use of one top-level module by another, from `crate::name`
    /// paths and `use crate::{…}` groups in code (comments are skipped).
    fn uses(src: &Path) -> (BTreeSet<String>, Uses) {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        let module_of = |p: &Path| {
            let rel = p.strip_prefix(src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            first.to_string_lossy().trim_end_matches(".rs").to_owned()
        };
        let modules: BTreeSet<String> = files
            .iter()
            .map(|p| module_of(p))
            .filter(|m| m != "lib")
            .collect();
        let mut found = Uses::new();
        for file in &files {
            let from = module_of(file);
            if from == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(file).unwrap();
            let code: Vec<&str> = text
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with("//") {
                        ""
                    } else {
                        l
                    }
                })
                .collect();
            let joined = code.join("\n");
            let line_of = |at: usize| joined[..at].matches('\n').count() + 1;
            let mut note = |to: String, at: usize| {
                if to != from && modules.contains(&to) {
                    let rel = file.strip_prefix(src).unwrap().display();
                    found
                        .entry((from.clone(), to))
                        .or_default()
                        .insert(format!("{rel}:{}", line_of(at)));
                }
            };
            for (at, _) in joined.match_indices("crate::") {
                let rest = &joined[at + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let mut depth = 1;
                    let end = group
                        .char_indices()
                        .find(|&(_, c)| {
                            match c {
                                '{' => depth += 1,
                                '}' => depth -= 1,
                                _ => {}
                            }
                            depth == 0
                        })
                        .map_or(group.len(), |(i, _)| i);
                    for head in group_heads(&group[..end]) {
                        note(head, at);
                    }
                } else {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    note(name, at);
                }
            }
        }
        (modules, found)
    }

    fn rank(name: &str) -> Option<usize> {
        MODULES.iter().position(|(m, _)| *m == name)
    }

    #[test]
    fn uses_point_down_the_layers() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let (modules, found) = uses(&src);

        let unplaced: Vec<_> = modules.iter().filter(|m| rank(m).is_none()).collect();
        assert!(
            unplaced.is_empty(),
            "modules without a place in layers::MODULES: {unplaced:?}"
        );
        let stale: Vec<_> = MODULES
            .iter()
            .filter(|(m, _)| !modules.contains(*m))
            .collect();
        assert!(
            stale.is_empty(),
            "layers::MODULES names no such module: {stale:?}"
        );
        let layers: Vec<Layer> = MODULES.iter().map(|(_, l)| *l).collect();
        assert!(layers.is_sorted(), "MODULES must list the layers in order");

        let upward: BTreeMap<_, _> = found
            .iter()
            .filter(|((from, to), _)| rank(to) > rank(from))
            .collect();
        let known: BTreeSet<(String, String)> = KNOWN_UPWARD
            .iter()
            .map(|(f, t, _)| ((*f).to_owned(), (*t).to_owned()))
            .collect();
        let new: Vec<String> = upward
            .iter()
            .filter(|(edge, _)| !known.contains(*edge))
            .map(|((from, to), at)| format!("{from} -> {to} at {at:?}"))
            .collect();
        assert!(
            new.is_empty(),
            "upward uses (a module may only use the modules before it in layers::MODULES; \
             move the shared part down or let an aggregator combine them):\n{}",
            new.join("\n")
        );
        let gone: Vec<_> = known
            .iter()
            .filter(|edge| !upward.contains_key(edge))
            .collect();
        assert!(
            gone.is_empty(),
            "no longer used upward, remove from layers::KNOWN_UPWARD: {gone:?}"
        );
    }

    #[test]
    fn use_groups_name_their_heads() {
        assert_eq!(
            group_heads("a::x, b, c::{y, z}, \n d::{self}"),
            ["a", "b", "c", "d"]
        );
    }
}
