//! The public API of the `labthings` crate, listed from its sources and compared with the
//! reviewed listing in `tests/snapshots/public-api.txt`: a change to the API shows up as a
//! diff to review. After an intended change, regenerate the listing with
//! `SNAPSHOTS=overwrite cargo test --test public_api`.
//!
//! The listing has the public modules, the items they publish (re-exports resolved to their
//! definitions), the public fields, variants and methods of public types, and the traits they
//! implement, with those behind cargo features (`client`). Items marked `#[doc(hidden)]` (the
//! macros' `__private` support) are not API.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, UseTree, Visibility};

/// Every item of the crate, by name, with the module path it is defined in.
struct Crate {
    items: HashMap<String, Vec<(String, Item)>>,
    /// The `use` items, with the module path they are in.
    uses: Vec<(String, Item)>,
    impls: Vec<syn::ItemImpl>,
}

fn hidden(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("doc") && a.meta.to_token_stream().to_string().contains("hidden")
    }) || attrs.iter().any(|a| {
        // Items behind a cargo feature are API (listed); test-only and platform items are not.
        a.path().is_ident("cfg") && !a.meta.to_token_stream().to_string().contains("feature")
    })
}

fn public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn text(tokens: impl ToTokens) -> String {
    let s = tokens.to_token_stream().to_string();
    s.replace(" :: ", "::")
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("< ", "<")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace("' ", "'")
        .replace(" : ", ": ")
        .replace(" ;", ";")
}

fn module_file(dir: &Path, name: &str, attrs: &[Attribute]) -> PathBuf {
    for attr in attrs {
        if attr.path().is_ident("path")
            && let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(lit) = &nv.value
            && let syn::Lit::Str(s) = &lit.lit
        {
            return dir.join(s.value());
        }
    }
    let flat = dir.join(format!("{name}.rs"));
    if flat.exists() {
        flat
    } else {
        dir.join(name).join("mod.rs")
    }
}

impl Crate {
    fn load(root: &Path) -> Self {
        let mut krate = Crate {
            items: HashMap::new(),
            uses: Vec::new(),
            impls: Vec::new(),
        };
        krate.walk(root, "labthings");
        krate
    }

    fn walk(&mut self, file: &Path, module: &str) {
        let source = std::fs::read_to_string(file).unwrap();
        let parsed = syn::parse_file(&source).unwrap();
        let dir = file.parent().unwrap();
        self.items_of(parsed.items, dir, module, file);
    }

    fn items_of(&mut self, items: Vec<Item>, dir: &Path, module: &str, file: &Path) {
        for item in items {
            match &item {
                Item::Mod(m) if m.content.is_none() => {
                    let name = m.ident.to_string();
                    let child_dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") {
                        dir.to_owned()
                    } else {
                        dir.join(file.file_stem().unwrap())
                    };
                    let path = module_file(&child_dir, &name, &m.attrs);
                    self.walk(&path, &format!("{module}::{name}"));
                }
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let (_, content) = m.content.clone().unwrap();
                    self.items_of(content, dir, &format!("{module}::{name}"), file);
                }
                Item::Impl(i) => self.impls.push(i.clone()),
                Item::Use(_) => self.uses.push((module.to_owned(), item.clone())),
                _ => {}
            }
            if let Some(name) = item_name(&item) {
                self.items
                    .entry(name)
                    .or_default()
                    .push((module.to_owned(), item));
            }
        }
    }
}

fn item_name(item: &Item) -> Option<String> {
    Some(match item {
        Item::Struct(i) => i.ident.to_string(),
        Item::Enum(i) => i.ident.to_string(),
        Item::Trait(i) => i.ident.to_string(),
        Item::Fn(i) => i.sig.ident.to_string(),
        Item::Type(i) => i.ident.to_string(),
        Item::Const(i) => i.ident.to_string(),
        Item::Mod(i) => i.ident.to_string(),
        _ => return None,
    })
}

/// The public modules of the crate, and what each publishes, from `lib.rs` down.
fn published(krate: &Crate, root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let source = std::fs::read_to_string(root).unwrap();
    let lib = syn::parse_file(&source).unwrap();
    list_module(krate, &lib.items, "labthings", &mut out);
    out
}

fn list_module(krate: &Crate, items: &[Item], module: &str, out: &mut BTreeSet<String>) {
    for item in items {
        match item {
            Item::Mod(m) if public(&m.vis) && !hidden(&m.attrs) => {
                let path = format!("{module}::{}", m.ident);
                out.insert(format!("mod {path}"));
                if let Some((_, items)) = &m.content {
                    list_module(krate, items, &path, out);
                } else if let Some(defs) = krate.items.get(&m.ident.to_string()) {
                    let _ = defs;
                    let file_items = module_items(krate, &path);
                    list_module(krate, &file_items, &path, out);
                }
            }
            Item::Use(u) if public(&u.vis) && !hidden(&u.attrs) => {
                let mut names = Vec::new();
                use_names(&u.tree, "", &mut names);
                let local = match &u.tree {
                    UseTree::Path(p) => {
                        let root = p.ident.to_string();
                        ["crate", "self", "super"].contains(&root.as_str())
                            || krate.items.contains_key(&root)
                    }
                    _ => true,
                };
                for (from, name, alias) in names {
                    let path = format!("{module}::{alias}");
                    if local {
                        // The module the name comes from, as the crate's items record it.
                        let from = from.replacen("crate", "labthings", 1);
                        let from = match from.starts_with("labthings") {
                            true => from,
                            false => format!("{module}::{from}"),
                        };
                        list_definition(krate, &name, &from, &path, out);
                    } else {
                        out.insert(format!("re-export {path}"));
                    }
                }
            }
            other => {
                if let Some(name) = item_name(other)
                    && item_public(other)
                {
                    list_definition(krate, &name, module, &format!("{module}::{name}"), out);
                }
            }
        }
    }
}

/// The items of a module file, found again by its path.
fn module_items(krate: &Crate, path: &str) -> Vec<Item> {
    krate
        .items
        .values()
        .flatten()
        .chain(&krate.uses)
        .filter(|(module, _)| module == path)
        .map(|(_, item)| item.clone())
        .collect()
}

/// Whether an item is marked `#[doc(hidden)]` (macro support defined outside `__private`).
fn item_hidden(item: &Item) -> bool {
    match item {
        Item::Struct(i) => hidden(&i.attrs),
        Item::Enum(i) => hidden(&i.attrs),
        Item::Trait(i) => hidden(&i.attrs),
        Item::Fn(i) => hidden(&i.attrs),
        Item::Type(i) => hidden(&i.attrs),
        _ => false,
    }
}

fn item_public(item: &Item) -> bool {
    let (vis, attrs) = match item {
        Item::Struct(i) => (&i.vis, &i.attrs),
        Item::Enum(i) => (&i.vis, &i.attrs),
        Item::Trait(i) => (&i.vis, &i.attrs),
        Item::Fn(i) => (&i.vis, &i.attrs),
        Item::Type(i) => (&i.vis, &i.attrs),
        Item::Const(i) => (&i.vis, &i.attrs),
        _ => return false,
    };
    public(vis) && !hidden(attrs)
}

/// The names a `use` brings in: the path of the module they are taken from (relative to the
/// module of the `use`, as written), each name and its alias.
fn use_names(tree: &UseTree, path: &str, out: &mut Vec<(String, String, String)>) {
    match tree {
        UseTree::Path(p) => {
            let path = match path {
                "" => p.ident.to_string(),
                _ => format!("{path}::{}", p.ident),
            };
            use_names(&p.tree, &path, out)
        }
        UseTree::Name(n) => out.push((path.to_owned(), n.ident.to_string(), n.ident.to_string())),
        UseTree::Rename(r) => {
            out.push((path.to_owned(), r.ident.to_string(), r.rename.to_string()))
        }
        UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, path, out)),
        UseTree::Glob(_) => {}
    }
}

/// The lines of one published item, found in module `from` if it is defined there: its
/// signature and, for types, their members.
fn list_definition(krate: &Crate, name: &str, from: &str, path: &str, out: &mut BTreeSet<String>) {
    let Some(defs) = krate.items.get(name) else {
        // A crate or a macro re-exported from a dependency.
        out.insert(format!("re-export {path}"));
        return;
    };
    let (_, item) = defs
        .iter()
        .find(|(module, _)| module == from)
        .or_else(|| {
            defs.iter()
                .find(|(_, item)| item_public(item) || matches!(item, Item::Mod(_)))
        })
        .unwrap_or(&defs[0]);
    match item {
        Item::Struct(s) => {
            out.insert(format!("struct {path}{}", text(&s.generics)));
            list_derives(&s.attrs, path, out);
            for field in &s.fields {
                if public(&field.vis) {
                    let f = field
                        .ident
                        .as_ref()
                        .map(|i| i.to_string())
                        .unwrap_or_default();
                    out.insert(format!("field {path}::{f}: {}", text(&field.ty)));
                }
            }
            list_impls(krate, name, path, out);
        }
        Item::Enum(e) => {
            out.insert(format!("enum {path}{}", text(&e.generics)));
            list_derives(&e.attrs, path, out);
            for v in &e.variants {
                // Without the fields' attributes (their docs, `#[from]`).
                let mut fields = v.fields.clone();
                fields.iter_mut().for_each(|f| f.attrs.clear());
                out.insert(format!("variant {path}::{}{}", v.ident, text(&fields)));
            }
            list_impls(krate, name, path, out);
        }
        Item::Trait(t) => {
            let supertraits = text(&t.supertraits);
            let bounds = if supertraits.is_empty() {
                String::new()
            } else {
                format!(": {supertraits}")
            };
            out.insert(format!("trait {path}{}{bounds}", text(&t.generics)));
            for item in &t.items {
                match item {
                    syn::TraitItem::Fn(f) if !hidden(&f.attrs) => {
                        out.insert(format!("trait-fn {path}::{}", text(&f.sig)));
                    }
                    syn::TraitItem::Const(c) if !hidden(&c.attrs) => {
                        out.insert(format!("trait-const {path}::{}: {}", c.ident, text(&c.ty)));
                    }
                    _ => {}
                }
            }
            list_impls(krate, name, path, out);
        }
        Item::Fn(f) => {
            out.insert(format!("fn {path}: {}", text(&f.sig)));
        }
        Item::Type(t) => {
            out.insert(format!("type {path} = {}", text(&t.ty)));
        }
        Item::Const(c) => {
            out.insert(format!("const {path}: {}", text(&c.ty)));
        }
        Item::Mod(m) => {
            // A module re-exported under another path: its items, listed under that path.
            out.insert(format!("mod {path}"));
            let module = defs
                .iter()
                .find(|(module, item)| module == from && matches!(item, Item::Mod(_)))
                .map_or(from, |(module, _)| module.as_str());
            let items = module_items(krate, &format!("{module}::{}", m.ident));
            list_module(krate, &items, path, out);
        }
        _ => {}
    }
}

/// The traits a type derives.
fn list_derives(attrs: &[Attribute], path: &str, out: &mut BTreeSet<String>) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            out.insert(format!("impl {} for {path} (derived)", text(&meta.path)));
            Ok(())
        });
    }
}

/// The public methods of a type's inherent impls, and the traits it implements.
fn list_impls(krate: &Crate, name: &str, path: &str, out: &mut BTreeSet<String>) {
    for imp in &krate.impls {
        let self_ty = text(&imp.self_ty);
        let base = self_ty
            .split('<')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if base.rsplit("::").next() != Some(name) {
            continue;
        }
        match &imp.trait_ {
            Some((_, trait_path, _)) => {
                let trait_name = text(trait_path);
                let last = trait_name.rsplit("::").next().unwrap_or_default();
                let last = last.split('<').next().unwrap_or_default();
                let private = krate.items.get(last).is_some_and(|defs| {
                    defs.iter().all(|(module, item)| {
                        module.starts_with("labthings::__private") || item_hidden(item)
                    })
                });
                if !private {
                    out.insert(format!("impl {trait_name} for {path}"));
                }
            }
            None => {
                for item in &imp.items {
                    if let ImplItem::Fn(f) = item
                        && public(&f.vis)
                        && !hidden(&f.attrs)
                    {
                        out.insert(format!("method {path}::{}", text(&f.sig)));
                    }
                }
            }
        }
    }
}

#[test]
fn the_public_api_matches_its_reviewed_listing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("labthings/src/lib.rs");
    let krate = Crate::load(&root);
    let listing: String = published(&krate, &root)
        .into_iter()
        .map(|line| line + "\n")
        .collect();
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/public-api.txt");
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(&snapshot, &listing).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        expected == listing,
        "the public API changed; review it, then run `SNAPSHOTS=overwrite cargo test --test public_api`.\nnow:\n{listing}"
    );
}
