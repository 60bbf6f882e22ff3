//! Reads the crate's own paths out of `src/**/*.rs` without compiling anything.
//!
//! String parsing on purpose: it must run in a second, on every toolchain, and see
//! exactly what a reviewer sees in the file. Comments, strings and char literals are
//! skipped; `use` trees (groups, `self`, `as`, globs, `pub use`) are expanded; and
//! paths written inline (`crate::server::demo::simulate_next(..)`, `super::Hit`) count
//! as much as imports do. Every path is resolved to the file that defines its module
//! (`foo.rs` or `foo/mod.rs`; inline `mod x { .. }` blocks belong to their file).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

/// One file of the crate and the module path it defines, e.g. `server::http::replay::table`
/// for `src/server/cache/replay.rs` (the crate root `src/lib.rs` is the empty path).
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the repository root, with `/` separators: what messages print.
    pub rel: String,
    pub module: Vec<String>,
    pub text: String,
}

/// A path of the crate that a file mentions.
#[derive(Debug, Clone)]
pub struct Import {
    pub line: usize,
    /// Absolute, without the leading `crate`, e.g. `server::http::cached::Shape`.
    pub path: Vec<String>,
    /// The file that defines the module the path lands in.
    pub target: String,
    /// The module of `target`, e.g. `server::http::cached`.
    pub target_module: Vec<String>,
    /// True inside `#[cfg(test)]` modules, whose imports do not ship.
    pub in_test: bool,
}

/// A path that is not the crate's (a dependency such as `tokio::spawn`).
#[derive(Debug, Clone)]
pub struct External {
    pub line: usize,
    pub krate: String,
    pub in_test: bool,
}

/// Every `.rs` file under `src/` except `main.rs`, which is a separate crate (the
/// binary) and reaches the library only as `headroom::…`.
pub fn source_files(root: &Path) -> Vec<SourceFile> {
    let src = root.join("src");
    let mut paths = Vec::new();
    walk(&src, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let rel_src = path
            .strip_prefix(&src)
            .expect("walk() stays under src/")
            .to_string_lossy()
            .replace('\\', "/");
        if rel_src == "main.rs" {
            continue;
        }
        let mut module: Vec<String> = rel_src
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
            module.pop();
        }
        let text = fs::read_to_string(&path).expect("a readable source file");
        files.push(SourceFile {
            rel: format!("src/{rel_src}"),
            module,
            text,
        });
    }
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a readable src/ folder") {
        let path = entry.expect("a readable folder entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Module path → file, for resolving paths to the file that defines them.
pub struct ModuleMap(BTreeMap<Vec<String>, String>);

impl ModuleMap {
    pub fn new(files: &[SourceFile]) -> Self {
        Self(
            files
                .iter()
                .map(|f| (f.module.clone(), f.rel.clone()))
                .collect(),
        )
    }

    /// The file of the longest module prefix of `path` (items live in their module's
    /// file; the root `lib.rs` catches paths that name nothing deeper).
    fn resolve(&self, path: &[String]) -> (Vec<String>, String) {
        (0..=path.len())
            .rev()
            .find_map(|n| {
                self.0
                    .get(&path[..n])
                    .map(|f| (path[..n].to_vec(), f.clone()))
            })
            .expect("src/lib.rs is the module of the empty path")
    }

    fn is_module(&self, path: &[String]) -> bool {
        self.0.contains_key(path)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Tokens with their line numbers; comments, strings and chars are dropped.
fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    // Advances over one char, counting lines.
    let step = |i: &mut usize, line: &mut usize| {
        if c[*i] == '\n' {
            *line += 1;
        }
        *i += 1;
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    step(&mut i, &mut line);
                }
            }
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                step(&mut i, &mut line);
            }
            i += 1;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only skip the former.
            if next == Some('\\') {
                i += 3; // the quote, the backslash and the escaped char ('\'' too)
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if ch.is_alphabetic()
            || ch == '_'
            || (ch == '$' && next.is_some_and(char::is_alphabetic))
        {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            // `$crate` in macros means this crate.
            let word: String = c[start..i]
                .iter()
                .collect::<String>()
                .replace("$crate", "crate");
            if let (true, Some(hashes)) = (
                matches!(word.as_str(), "r" | "br" | "cr"),
                raw_string_hashes(&c, i),
            ) {
                // r#"..."#: skip to the quote followed by as many hashes.
                i += hashes + 1;
                let close: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                while i < c.len() && !c[i..].starts_with(&close) {
                    step(&mut i, &mut line);
                }
                i += close.len();
            } else if !(matches!(word.as_str(), "b" | "c") && c.get(i) == Some(&'"')) {
                // (b"..." is skipped by the string branch on the next turn.)
                out.push((Tok::Ident(word), line));
            }
        } else if ch == ':' && next == Some(':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push((Tok::Punct(ch), line));
            }
            step(&mut i, &mut line);
        }
    }
    out
}

/// `Some(number of #)` when the rest of a raw string opener (`#"`, `"`) starts at `i`.
fn raw_string_hashes(c: &[char], i: usize) -> Option<usize> {
    let hashes = c.get(i..)?.iter().take_while(|&&ch| ch == '#').count();
    (c.get(i + hashes) == Some(&'"')).then_some(hashes)
}

/// The paths of the crate a file mentions, and the external crates it names.
pub fn scan(file: &SourceFile, modules: &ModuleMap) -> (Vec<Import>, Vec<External>) {
    let toks = tokens(&file.text);
    let mut imports = Vec::new();
    let mut externals = Vec::new();
    // Inline `mod name {` blocks: (name, brace depth inside, under #[cfg(test)]).
    let mut inline: Vec<(String, usize, bool)> = Vec::new();
    let mut depth = 0;
    let mut cfg_test = false;
    let mut i = 0;
    while i < toks.len() {
        let here: Vec<String> = file
            .module
            .iter()
            .cloned()
            .chain(inline.iter().map(|m| m.0.clone()))
            .collect();
        let in_test = cfg_test_file(file) || inline.iter().any(|m| m.2);
        match &toks[i].0 {
            Tok::Punct('{') => {
                depth += 1;
                cfg_test = false; // it was on a fn or impl, not on a module
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Punct('#') if is_cfg_test(&toks[i..]) => cfg_test = true,
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Punct('{'), _))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    depth += 1;
                    inline.push((name.clone(), depth, cfg_test || in_test));
                    i += 3;
                    cfg_test = false;
                    continue;
                }
                cfg_test = false;
            }
            Tok::Ident(w) if w == "use" => {
                let end = (i..toks.len())
                    .find(|&j| toks[j].0 == Tok::Punct(';'))
                    .unwrap_or(toks.len());
                let mut leaves = Vec::new();
                use_tree(&toks[i + 1..end], &mut Vec::new(), &mut leaves);
                for (path, line) in leaves {
                    push_path(
                        &here,
                        &path,
                        line,
                        in_test,
                        modules,
                        true,
                        &mut imports,
                        &mut externals,
                    );
                }
                i = end + 1;
                cfg_test = false;
                continue;
            }
            Tok::Ident(w)
                if matches!(w.as_str(), "crate" | "super" | "self")
                    && toks.get(i + 1).is_some_and(|t| t.0 == Tok::PathSep) =>
            {
                let (path, next) = inline_path(&toks, i);
                push_path(
                    &here,
                    &path,
                    toks[i].1,
                    in_test,
                    modules,
                    false,
                    &mut imports,
                    &mut externals,
                );
                i = next;
                continue;
            }
            Tok::Ident(w)
                if toks.get(i + 1).is_some_and(|t| t.0 == Tok::PathSep)
                    && (i == 0 || toks[i - 1].0 != Tok::PathSep) =>
            {
                // `tokio::spawn(..)`: the first segment of a path written inline.
                externals.push(External {
                    line: toks[i].1,
                    krate: w.clone(),
                    in_test,
                });
            }
            Tok::Punct(';') => cfg_test = false,
            _ => {}
        }
        i += 1;
    }
    (imports, externals)
}

/// `src/…/tests.rs` files are declared `#[cfg(test)] mod tests;` by their parent.
fn cfg_test_file(file: &SourceFile) -> bool {
    file.module.last().is_some_and(|m| m == "tests")
}

fn is_cfg_test(toks: &[(Tok, usize)]) -> bool {
    let want = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
    ];
    toks.len() >= want.len() && toks.iter().zip(&want).all(|(a, b)| &a.0 == b)
}

/// `crate::a::b::C` written inline: its segments and the index after it.
fn inline_path(toks: &[(Tok, usize)], mut i: usize) -> (Vec<String>, usize) {
    let mut path = Vec::new();
    while let Some((Tok::Ident(w), _)) = toks.get(i) {
        path.push(w.clone());
        i += 1;
        if toks.get(i).is_some_and(|t| t.0 == Tok::PathSep) {
            i += 1;
        } else {
            break;
        }
    }
    (path, i)
}

/// Expands a use tree into full paths (with the line of each leaf).
fn use_tree(toks: &[(Tok, usize)], prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
    let base = prefix.len();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Ident(w) if w == "as" => i += 1, // skip the alias
            Tok::Ident(w) if w == "self" && i == 0 && base > 0 => {
                out.push((prefix.clone(), toks[i].1))
            }
            Tok::Ident(w) => {
                prefix.push(w.clone());
                if toks.get(i + 1).is_none_or(|t| t.0 != Tok::PathSep) {
                    out.push((prefix.clone(), toks[i].1));
                }
            }
            Tok::Punct('*') => out.push((prefix.clone(), toks[i].1)),
            Tok::Punct('{') => {
                // Split the group at its top-level commas.
                let mut level = 0;
                let mut start = i + 1;
                let mut j = i + 1;
                while j < toks.len() {
                    match toks[j].0 {
                        Tok::Punct('{') => level += 1,
                        Tok::Punct('}') if level == 0 => break,
                        Tok::Punct('}') => level -= 1,
                        Tok::Punct(',') if level == 0 => {
                            use_tree(&toks[start..j], prefix, out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                use_tree(&toks[start..j], prefix, out);
                i = j;
            }
            _ => {} // `::`, `pub`, `(crate)` and friends
        }
        i += 1;
    }
    prefix.truncate(base);
}

/// Makes `path` absolute from module `here` and records it as an import of the crate
/// or as an external crate. `relative_children` lets `use child::X` (2018 paths)
/// resolve to a child module; inline paths are only taken when anchored.
#[allow(clippy::too_many_arguments)]
fn push_path(
    here: &[String],
    path: &[String],
    line: usize,
    in_test: bool,
    modules: &ModuleMap,
    relative_children: bool,
    imports: &mut Vec<Import>,
    externals: &mut Vec<External>,
) {
    let Some(first) = path.first() else { return };
    let mut abs: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            let mut base = here.to_vec();
            base.truncate(here.len().saturating_sub(ups));
            base.extend(path[ups..].iter().cloned());
            return record(base, line, in_test, modules, imports);
        }
        _ => {
            let child: Vec<String> = here.iter().chain([first]).cloned().collect();
            if relative_children && (modules.is_module(&child) || is_inline_child(here, first)) {
                here.to_vec()
            } else {
                externals.push(External {
                    line,
                    krate: first.clone(),
                    in_test,
                });
                return;
            }
        }
    };
    let skip = usize::from(matches!(first.as_str(), "crate" | "self"));
    abs.extend(path[skip..].iter().cloned());
    record(abs, line, in_test, modules, imports);
}

/// Inline modules are rare here (`tests`); they are never re-exported, so a relative
/// `use tests::…` is the only case worth knowing.
fn is_inline_child(_here: &[String], first: &str) -> bool {
    first == "tests"
}

fn record(
    abs: Vec<String>,
    line: usize,
    in_test: bool,
    modules: &ModuleMap,
    imports: &mut Vec<Import>,
) {
    let (target_module, target) = modules.resolve(&abs);
    imports.push(Import {
        line,
        path: abs,
        target,
        target_module,
        in_test,
    });
}

#[test]
fn reads_use_trees_inline_paths_and_skips_comments_and_strings() {
    let file = |rel: &str, module: &str, text: &str| SourceFile {
        rel: rel.into(),
        module: module
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        text: text.into(),
    };
    let files = [
        file("src/lib.rs", "", ""),
        file("src/a/mod.rs", "a", ""),
        file("src/a/b.rs", "a::b", ""),
        file("src/c.rs", "c", ""),
    ];
    let modules = ModuleMap::new(&files);
    let text = r##"
        pub use crate::{a::{self, b::{B1, B2 as Two}}, c::*};
        use super::Sibling;
        use tokio::sync;
        // use crate::c::InAComment;
        /* use crate::c::InABlock; /* nested */ */
        const S: &str = "crate::c::InAString"; const R: &str = r#"crate::c::"Raw""#;
        fn f<'a>(x: &'a str) -> char { crate::c::inline(x); '{' }
        #[cfg(test)]
        mod tests { use crate::c::OnlyInTests; }
        fn g() { super::super::c::up(); }
    "##;
    let (found, ext) = scan(&file("src/a/b.rs", "a::b", text), &modules);
    let got: Vec<(String, usize, &str, bool)> = found
        .iter()
        .map(|i| (i.path.join("::"), i.line, i.target.as_str(), i.in_test))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), 2, "src/a/mod.rs", false),
            ("a::b::B1".into(), 2, "src/a/b.rs", false),
            ("a::b::B2".into(), 2, "src/a/b.rs", false),
            ("c".into(), 2, "src/c.rs", false),
            ("a::Sibling".into(), 3, "src/a/mod.rs", false),
            ("c::inline".into(), 8, "src/c.rs", false),
            ("c::OnlyInTests".into(), 10, "src/c.rs", true),
            ("c::up".into(), 11, "src/c.rs", false),
        ]
    );
    assert!(ext.iter().any(|e| e.krate == "tokio" && e.line == 4));
}
