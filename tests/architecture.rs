//! The architecture of the runtime crate, checked from its sources: its layers import only
//! the layers below them, and its rooms stay small (no source file over 500 lines, no
//! function over 80, in both crates).
//!
//! The layers of `labthings/src`, from the bottom up: `problem`, `sync` (leaves); `broker`;
//! `model` (what a Thing is); `runtime` (running Things); `interaction` (the one interface
//! of every binding); `tokens`, `pem`; `client` (which the server's directory registration
//! uses); `server` (the bindings, the builder, serving); `config`, `cli`. `__private` (the
//! macros' support) and `internals` (the fuzzing and benchmark entry points) may use any of
//! them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::visit::Visit;

/// What each layer may import (`crate::X` paths), besides itself.
const LAYERS: &[(&str, &[&str])] = &[
    ("problem", &[]),
    ("sync", &[]),
    ("broker", &["sync"]),
    ("model", &["problem", "sync", "broker"]),
    ("transport", &["problem", "sync"]),
    ("runtime", &["problem", "sync", "broker", "model"]),
    (
        "interaction",
        &["problem", "sync", "broker", "model", "runtime"],
    ),
    ("tokens", &["interaction"]),
    ("pem", &[]),
    (
        "server",
        &[
            "problem",
            "sync",
            "broker",
            "model",
            "runtime",
            "interaction",
            "tokens",
            "pem",
            "client",
        ],
    ),
    (
        "config",
        &[
            "problem",
            "model",
            "runtime",
            "interaction",
            "tokens",
            "server",
        ],
    ),
    (
        "cli",
        &[
            "problem",
            "model",
            "runtime",
            "interaction",
            "server",
            "config",
        ],
    ),
    ("client", &["problem", "sync", "model", "pem"]),
];

/// Modules that support generated or test code, and may use any layer.
const ANYWHERE: &[&str] = &["private", "internals"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level module a source file of `labthings/src` belongs to.
fn layer_of(file: &Path) -> Option<String> {
    let src = root().join("labthings/src");
    let relative = file.strip_prefix(&src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_owned())
}

/// Every `crate::X` path of a source, with its line.
struct CratePaths(Vec<(String, usize)>);

impl<'ast> Visit<'ast> for CratePaths {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next())
            && first.ident == "crate"
        {
            let line = second.ident.span().start().line;
            self.0.push((second.ident.to_string(), line));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        if let syn::UseTree::Path(path) = tree
            && path.ident == "crate"
        {
            let mut firsts = Vec::new();
            match &*path.tree {
                syn::UseTree::Path(next) => firsts.push(&next.ident),
                syn::UseTree::Name(name) => firsts.push(&name.ident),
                syn::UseTree::Group(group) => {
                    for item in &group.items {
                        match item {
                            syn::UseTree::Path(next) => firsts.push(&next.ident),
                            syn::UseTree::Name(name) => firsts.push(&name.ident),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            for ident in firsts {
                self.0.push((ident.to_string(), ident.span().start().line));
            }
            return;
        }
        syn::visit::visit_use_tree(self, tree);
    }
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let mut files = Vec::new();
    sources(&root().join("labthings/src"), &mut files);
    let layers: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(layer) = layer_of(file) else {
            continue;
        };
        if ANYWHERE.contains(&layer.as_str()) {
            continue;
        }
        let allowed = layers
            .get(layer.as_str())
            .unwrap_or_else(|| panic!("{}: module `{layer}` is in no layer", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        let syntax = syn::parse_file(&text).unwrap();
        let mut paths = CratePaths(Vec::new());
        paths.visit_file(&syntax);
        for (target, line) in paths.0 {
            // A name re-exported at the root hides its layer: the layers name modules.
            let is_module = target.chars().next().is_some_and(|c| c.is_lowercase());
            let ok = target == layer
                || (is_module && allowed.contains(&target.as_str()))
                || target.starts_with("__labthings");
            if !ok {
                wrong.push(format!(
                    "{}:{line}: `{layer}` uses `crate::{target}`",
                    file.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not point down the layers:\n{}",
        wrong.join("\n")
    );
}

/// Functions longer than `limit` lines.
struct Long {
    limit: usize,
    found: Vec<(String, usize, usize)>,
}

impl Long {
    fn check(&mut self, name: &syn::Ident, block: &syn::Block) {
        let (start, end) = (block.span().start().line, block.span().end().line);
        let lines = end.saturating_sub(start) + 1;
        if lines > self.limit {
            self.found.push((name.to_string(), start, lines));
        }
    }
}

impl<'ast> Visit<'ast> for Long {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig.ident, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig.ident, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

#[test]
fn source_files_and_functions_stay_small() {
    let mut files = Vec::new();
    sources(&root().join("labthings/src"), &mut files);
    sources(&root().join("labthings-macros/src"), &mut files);
    let mut large = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > 500 {
            large.push(format!("{}: {lines} lines (at most 500)", file.display()));
        }
        let mut long = Long {
            limit: 80,
            found: Vec::new(),
        };
        long.visit_file(&syn::parse_file(&text).unwrap());
        for (name, line, lines) in long.found {
            large.push(format!(
                "{}:{line}: `{name}` has {lines} lines (at most 80)",
                file.display()
            ));
        }
    }
    assert!(large.is_empty(), "rooms too large:\n{}", large.join("\n"));
}
