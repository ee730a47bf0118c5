//! Leptos writes the children of `<textarea>`, `<title>`, `<script>`,
//! `<style>` and `<noscript>` to the HTML without escaping them (they are
//! raw text to the browser). Text from data in one of them can end the
//! element and start a script: a stored "</textarea><script>…" did. So the
//! app writes such elements in one place only (`ui::TextArea`,
//! `ui::PageTitle`), and this test reads every source file and refuses any
//! other that carries more than literal text.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read app/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The part of `source` from `open` to the matching `close`, if any.
fn element<'a>(source: &'a str, open: usize, close: &str) -> &'a str {
    match source[open..].find(close) {
        Some(end) => &source[open..open + end],
        None => &source[open..],
    }
}

/// Whether `at` stands in a `//` comment or a string literal on its line
/// (documentation and test data, not a view).
fn in_comment_or_string(source: &str, at: usize) -> bool {
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let before = &source[line_start..at];
    before.trim_start().starts_with("//")
        || before.contains("//")
        || before.matches('"').count() % 2 == 1
}

fn findings(file: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let in_ui = file.ends_with("ui/mod.rs");
    for (at, _) in source.match_indices("<textarea") {
        if in_ui {
            continue;
        }
        // Allowed: an empty textarea whose value is a property set in the
        // browser (`prop:value`), which never reaches the server's HTML.
        let el = element(source, at, "</textarea>");
        let children = el.rsplit_once('>').map_or("", |(_, c)| c);
        if !children.trim().is_empty() {
            found.push(format!(
                "{file}: a <textarea> with children; use crate::ui::TextArea"
            ));
        }
    }
    for (at, _) in source.match_indices("<Title ") {
        if in_ui || file.ends_with("src/lib.rs") {
            continue;
        }
        let el = element(source, at, "/>");
        let literal = el
            .strip_prefix("<Title text=\"")
            .is_some_and(|rest| rest.trim_end().ends_with('"') && !rest.contains('{'));
        if !literal {
            found.push(format!(
                "{file}: <Title> with text that is not a literal; use crate::ui::PageTitle"
            ));
        }
    }
    for tag in ["noscript", "script", "style"] {
        for (at, _) in source.match_indices(&format!("<{tag}>")) {
            if in_comment_or_string(source, at) {
                continue;
            }
            let el = element(source, at, &format!("</{tag}>"));
            if el.contains('{') {
                found.push(format!(
                    "{file}: <{tag}> with an expression inside; only literal text may stand there"
                ));
            }
        }
    }
    for banned in ["inner_html", "outer_html", "set_inner_html"] {
        if source.contains(banned) {
            found.push(format!(
                "{file}: {banned} writes HTML from a string; build the view instead"
            ));
        }
    }
    found
}

#[test]
fn no_raw_text_element_carries_unescaped_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut all = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).expect("read source");
        let name = path.display().to_string();
        all.extend(findings(&name, &source));
    }
    assert!(all.is_empty(), "unescaped raw text:\n{}", all.join("\n"));
}

#[test]
fn the_check_finds_what_it_guards_against() {
    let bad = r#"view! { <textarea name="d">{e.description.clone()}</textarea> <Title text=m.title /> <noscript>{x}</noscript> }"#;
    assert_eq!(findings("x/page.rs", bad).len(), 3);
    let good = r#"view! { <textarea id="t" prop:value=move || t.get()></textarea> <Title text="Start" /> <noscript><p>"Bitte JavaScript"</p></noscript> }
        // a comment about "</textarea><script>{x}</script>"
        let test_data = "<script>{alert(1)}</script>";"#;
    assert!(findings("x/page.rs", good).is_empty());
}
