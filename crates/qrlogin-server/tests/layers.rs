//! The crate's layers (docs/contracts.md §2 "Layout of the server crate"): imports run one way,
//! model → store → domain → http → endpoints → serve, and no modules import each other in a
//! circle. Read from the source, as a newcomer would: every `crate::module` a file names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module's layer; a module may name only modules of its layer or below. A
/// submodule (`idp::wechat`) may stand in a layer of its own.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &["model", "ids", "i18n"]),
    ("store", &["store"]),
    (
        "domain",
        &[
            "server",
            "service",
            "sessions",
            "history",
            "crypto",
            "devicecode",
            "rotation",
            "tokens",
            "errors",
            "signin_guard",
            "ratelimit",
            "client_addr",
            "limits",
            "longpoll",
            "cache",
            "logo",
            "media",
            // Added by branches of the same round (issue 14 item 3, issue 15 items 5-7).
            "live",
            "idp::wechat",
        ],
    ),
    ("http", &["http"]),
    (
        "endpoints",
        &["gen", "oidc", "device", "approval", "typed_code", "idp"],
    ),
    (
        "serve",
        &[
            "routes", "conn", "serve", "cli", "fuzzing", "phone", "lib", "main",
        ],
    ),
];

/// The node a module path stands for: its first two segments when they are listed, else the
/// first.
fn node(path: &[&str]) -> String {
    if path.len() >= 2 {
        let two = format!("{}::{}", path[0], path[1]);
        if layer_of(&two).is_some() {
            return two;
        }
    }
    path[0].to_owned()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// Top-level module → the top-level modules its files name (`crate::x`, `use crate::{x, y}`).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let segments: Vec<&str> = rel
                .components()
                .map(|c| {
                    c.as_os_str()
                        .to_str()
                        .expect("utf-8")
                        .trim_end_matches(".rs")
                })
                .filter(|s| *s != "mod")
                .collect();
            let top = node(&segments);
            let text = std::fs::read_to_string(&path).expect("read file");
            let deps = g.entry(top.clone()).or_default();
            for name in named_modules(&text) {
                if name != top {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

fn named_modules(text: &str) -> BTreeSet<String> {
    // A path such as `gen::g1::router` as its segments, up to the first non-identifier.
    let ident = |s: &str| -> String {
        let path: String = s
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segments: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        if segments.is_empty() {
            String::new()
        } else {
            node(&segments)
        }
    };
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` in macros is the same crate.
        let rest = &text[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    // Names the crate root re-exports (`crate::Server`) are not modules.
    out.retain(|n| n.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    out
}

#[test]
fn every_module_is_in_a_layer() {
    let unknown: Vec<String> = graph()
        .keys()
        .filter(|m| layer_of(m).is_none())
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "modules without a layer (add them to LAYERS and docs/contracts.md §2): {unknown:?}"
    );
}

#[test]
fn imports_run_one_way() {
    let mut upward = Vec::new();
    for (m, deps) in graph() {
        let Some(own) = layer_of(&m) else { continue };
        for d in deps {
            if let Some(theirs) = layer_of(&d) {
                if theirs > own {
                    upward.push(format!(
                        "{m} ({}) imports {d} ({})",
                        LAYERS[own].0, LAYERS[theirs].0
                    ));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layers: {upward:#?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let g = graph();
    // A circle is a path from a module back to itself.
    let mut circles = Vec::new();
    for start in g.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((m, path)) = stack.pop() {
            for d in g.get(&m).into_iter().flatten() {
                if d == start {
                    circles.push(path.join(" → ") + " → " + start);
                } else if g.contains_key(d) && seen.insert(d.clone()) {
                    let mut p = path.clone();
                    p.push(d.clone());
                    stack.push((d.clone(), p));
                }
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}
