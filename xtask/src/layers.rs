//! The check that xtask's modules form layers: each file is a node, each `crate::` path in it
//! (a `use` or a path in code, comments and strings aside) an edge to the file of the module it
//! names, a name `lib.rs` re-exports counting as its module's; the graph must have no cycle.
//! `lib.rs`'s own items (`project_root`, `cargo`, `all`) are the floor, below every module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn xtask_modules_form_layers_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    assert!(graph.contains_key("table") && graph.contains_key("bench::environment"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "xtask's modules import each other in a cycle: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_only_a_cycle() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
            graph.entry(to.to_string()).or_default();
        }
        graph
    };
    let layered = graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("d", "a")]);
    assert_eq!(find_cycle(&layered), None);
    let looped = graph(&[("a", "b"), ("b", "c"), ("c", "d"), ("d", "b"), ("e", "a")]);
    assert_eq!(find_cycle(&looped).unwrap(), ["b", "c", "d", "b"]);
    assert_eq!(find_cycle(&graph(&[("a", "a")])).unwrap(), ["a", "a"]);
}

#[test]
fn crate_paths_are_read_from_uses_and_code_but_not_comments_or_strings() {
    let source = r#"
        use crate::{a::{b, c::D}, e};
        // crate::in_a_comment
        /* crate::in_a_block_comment */
        let s = "crate::in_a_string"; let c = '"'; let l: &'static str = "";
        crate::f::g(crate::h);
        let r = r"crate::in_a_raw_string";
    "#;
    let paths: Vec<String> = crate_paths(source).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::b", "a::c::D", "e", "f::g", "h"]);
}

/// Every file under `src` but `lib.rs` and `main.rs` (another crate), with its edges.
fn module_graph(src: &Path) -> Graph {
    let mut files = BTreeMap::new();
    for file in crate::fingerprint::source_files(src, &[]).expect("xtask/src can be listed") {
        let Some(node) = file.strip_suffix(".rs") else {
            continue;
        };
        if node != "lib" && node != "main" {
            let text = std::fs::read_to_string(src.join(&file)).expect("a source reads");
            files.insert(node.replace('/', "::"), text);
        }
    }
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("xtask has a lib.rs");
    let nodes: BTreeSet<String> = files.keys().cloned().collect();
    // What lib.rs re-exports, by name: `pub use build::{build_all, ...}`.
    let mut reexports = BTreeMap::new();
    let code = strip(&lib);
    for statement in code.split(';') {
        if let Some(tree) = statement.trim().strip_prefix("pub use ") {
            for path in use_tree(tree) {
                if let Some(node) = resolve(&nodes, &path) {
                    reexports.insert(path.last().unwrap().clone(), node);
                }
            }
        }
    }
    let lib_items = lib_items(&code);
    let mut graph = Graph::new();
    for (node, text) in &files {
        let edges = graph.entry(node.clone()).or_default();
        for path in crate_paths(text) {
            let to = resolve(&nodes, &path).or_else(|| reexports.get(&path[0]).cloned());
            match to {
                Some(to) if to != *node => {
                    edges.insert(to);
                }
                Some(_) => {}
                None => assert!(
                    lib_items.contains(&path[0]),
                    "{node}: `crate::{}` names no module, re-export or item of lib.rs",
                    path.join("::")
                ),
            }
        }
    }
    graph
}

/// The names lib.rs defines itself: `fn`, `struct`, `const`... after `pub`.
fn lib_items(code: &str) -> BTreeSet<String> {
    let words: Vec<&str> = code
        .split(|c: char| !is_ident(c))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .filter(|pair| {
            ["fn", "struct", "enum", "const", "static", "type", "mod"].contains(&pair[0])
        })
        .map(|pair| pair[1].to_owned())
        .collect()
}

/// The file a path names: the longest prefix of it that is a file's module.
fn resolve(nodes: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|prefix| nodes.contains(prefix))
}

/// Every `crate::...` path in `source`, a use tree split into its paths.
fn crate_paths(source: &str) -> Vec<Vec<String>> {
    let code = strip(source);
    let mut paths = Vec::new();
    let mut at = 0;
    while let Some(found) = code[at..].find("crate::") {
        let start = at + found;
        at = start + "crate::".len();
        if code[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let (tree, _) = parse_tree(&code[at..]);
        paths.extend(tree);
    }
    paths
}

fn use_tree(text: &str) -> Vec<Vec<String>> {
    parse_tree(text).0
}

/// Parses a use tree (`a::b`, `a::{b, c::d}`, `a::*`) at the start of `text`; returns its paths
/// and the bytes it took.
fn parse_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut at = 0;
    loop {
        at += text[at..].len() - text[at..].trim_start().len();
        let rest = &text[at..];
        if rest.starts_with('{') {
            at += 1;
            let mut paths = Vec::new();
            loop {
                at += text[at..].len() - text[at..].trim_start().len();
                if text[at..].starts_with('}') {
                    at += 1;
                    break;
                }
                if text[at..].starts_with(',') {
                    at += 1;
                    continue;
                }
                let (inner, took) = parse_tree(&text[at..]);
                assert!(took > 0, "cannot read a use tree at {:?}", &text[at..]);
                at += took;
                for path in inner {
                    paths.push(prefix.iter().cloned().chain(path).collect());
                }
            }
            return (paths, at);
        }
        let ident: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if ident.is_empty() {
            // `*`, or the end of the path.
            let paths = if prefix.is_empty() {
                vec![]
            } else {
                vec![prefix]
            };
            return (paths, at + usize::from(rest.starts_with('*')));
        }
        at += ident.len();
        prefix.push(ident);
        if text[at..].starts_with("::") {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `source` with comments, string and character literals blanked, so that only code remains.
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if chars[i] == 'r'
            && (at(i + 1, "\"") || at(i + 1, "#"))
            && !(i > 0 && is_ident(chars[i - 1]))
        {
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            i += 2 + hashes;
            while i < chars.len() && !at(i, &close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if chars[i] == '\'' && (at(i + 2, "'") || at(i + 1, "\\")) {
            // A character literal; a lifetime (`'static`) has no closing quote there.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A cycle of `graph` as the nodes along it, the first repeated at the end; `None` if it has
/// none. Depth first, in name order, so the answer is the same every run.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Open,
        Done,
    }
    fn visit(
        graph: &Graph,
        node: &str,
        state: &mut BTreeMap<String, State>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(State::Done) => return None,
            Some(State::Open) => {
                let from = stack
                    .iter()
                    .position(|n| n == node)
                    .expect("an open node is on the stack");
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node.to_owned(), State::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.to_owned(), State::Done);
        None
    }
    let mut state = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut state, &mut Vec::new()))
}
