//! The module rules of docs/ARCHITECTURE.md ("Modules and the direction of
//! dependencies"), checked on every `cargo test`:
//!
//!     cargo test --features ssr --test architecture
//!
//! The check reads `src/**/*.rs` as text (see `imports`), so it needs no feature; `ssr`
//! only lets it share the library build with the other tests.
//! Both lists of known problems below are ratchets: what they name is tolerated, but
//! every entry must still be found, so fixing a violation or a cycle fails the test
//! until its entry is deleted. The lists can only shrink.

mod graph;
mod imports;

use std::path::Path;

use graph::{Graph, cyclic_components, describe_cycle};
use imports::{Import, SourceFile};

/// One row of the rules: what the files of `module` may import from the crate.
/// A module may always import from itself; the row of the longest matching prefix wins.
struct Rule {
    module: &'static str,
    /// `Some(list)`: only these (plus `SHARED` for server modules). `None`: anything
    /// that `never` does not exclude.
    may: Option<&'static [&'static str]>,
    never: &'static [&'static str],
    /// The sentence of ARCHITECTURE.md the row encodes, printed with each violation.
    why: &'static str,
}

/// Leaves every server module may use: they depend on no other module.
const SHARED: &[&str] = &["domain", "server::config", "server::clock", "server::hex"];

const RULES: &[Rule] = &[
    Rule {
        module: "domain",
        may: Some(&[]),
        never: &[],
        why: "domain is rules with no I/O; it depends on no other module",
    },
    Rule {
        module: "dto",
        may: Some(&["domain"]),
        never: &[],
        why: "dto → domain",
    },
    Rule {
        module: "ui",
        may: Some(&["dto", "domain", "server_fns"]),
        never: &[],
        why: "ui → dto, domain, server_fns (it also compiles for the browser)",
    },
    Rule {
        module: "server_fns",
        may: Some(&["dto", "domain", "server"]),
        never: &["server::storage", "server::cache", "server::http"],
        why: "server functions are thin adapters over service (no storage, cache or http)",
    },
    Rule {
        module: "server::http",
        may: None,
        never: &["server::storage", "server::jobs", "server_fns"],
        why: "handlers are thin adapters over service (no storage, jobs or server_fns)",
    },
    Rule {
        module: "server::service",
        may: Some(&[
            "dto",
            "server::storage",
            "server::cache",
            "server::auth",
            "server::state",
            "server::outbound",
        ]),
        never: &[],
        why: "service → domain, dto, storage, cache, auth, state, outbound",
    },
    Rule {
        module: "server::storage",
        may: Some(&[]),
        never: &[],
        why: "storage → domain (and never http or ui)",
    },
    Rule {
        module: "server::cache",
        may: Some(&[]),
        never: &["server::config"],
        why: "cache reads no configuration (config makes its CacheOptions) and never imports http or ui",
    },
    Rule {
        module: "server::jobs",
        may: Some(&[
            "server::service",
            "server::storage",
            "server::state",
            "server::outbound",
            "server::simulation",
        ]),
        never: &[],
        why: "jobs → service, storage, state, outbound, simulation",
    },
    Rule {
        module: "server::perf",
        may: Some(&["server::storage", "server::cache", "server::state", "dto"]),
        never: &[],
        why: "perf → storage, cache, state, dto (its report is a wire type)",
    },
    Rule {
        module: "server::state",
        may: Some(&[
            "server::storage",
            "server::cache",
            "server::auth",
            "server::perf",
        ]),
        never: &[],
        why: "state holds db, cache, settings, clock, throttle, perf: nothing above them",
    },
    Rule {
        module: "server::config",
        may: Some(&["server::cache"]),
        never: &[],
        why: "config → cache (the cache's option types, made from the settings), nothing else",
    },
    Rule {
        module: "server::outbound",
        may: Some(&[]),
        never: &[],
        why: "outbound is the fetch policy: it depends on the settings alone",
    },
    Rule {
        module: "server::simulation",
        may: Some(&["server::storage", "server::service"]),
        never: &[],
        why: "simulation → storage (the meter), service (its timezone)",
    },
    Rule {
        module: "server::clock",
        may: Some(&[]),
        never: &[],
        why: "clock is a leaf",
    },
    Rule {
        module: "server::hex",
        may: Some(&[]),
        never: &[],
        why: "hex is a leaf",
    },
];

/// Today's violations: (file, imported path without `crate::`). Being removed; do not
/// add to this list — fix the import instead.
const KNOWN_VIOLATIONS: &[(&str, &str)] = &[
    // Found by this check: ApiError maps storage errors itself instead of through
    // ServiceError, and the test hooks route truncates tables with the pool.
    ("src/server/http/error.rs", "server::storage::StoreError"),
    (
        "src/server/http/routes/test_hooks.rs",
        "server::storage::Pool",
    ),
];

/// Today's import cycles between files, each as the sorted set of files of one
/// strongly connected component. Same ratchet: every entry must still be a cycle,
/// exactly; when a fix shrinks one, replace it by what remains.
const KNOWN_CYCLES: &[&[&str]] = &[];

/// Crates the domain must not name: "knows nothing of tokio, sqlx, axum, leptos or redis".
const NOT_IN_DOMAIN: &[&str] = &[
    "tokio",
    "sqlx",
    "axum",
    "leptos",
    "leptos_axum",
    "leptos_meta",
    "leptos_router",
    "redis",
];

fn under(module: &str, prefix: &str) -> bool {
    module == prefix
        || module
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

fn rule_for(module: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .filter(|r| under(module, r.module))
        .max_by_key(|r| r.module.len())
}

/// `Some(why)` when the file of `from` may not import the module `to`.
fn broken_rule(from: &str, to: &str) -> Option<&'static str> {
    let rule = rule_for(from)?;
    if to.is_empty() || under(to, rule.module) {
        return None; // the crate root, or the module itself
    }
    if rule.never.iter().any(|p| under(to, p)) {
        return Some(rule.why);
    }
    let shared = under(from, "server") && SHARED.iter().any(|p| under(to, p));
    match rule.may {
        Some(may) if !shared && !may.iter().any(|p| under(to, p)) => Some(rule.why),
        _ => None,
    }
}

struct Crate {
    files: Vec<SourceFile>,
    /// Per file, the imports of code that ships (`#[cfg(test)]` code is left out: a
    /// test may reach wherever it needs to, and it never runs in the server).
    imports: Vec<Vec<Import>>,
    externals: Vec<Vec<imports::External>>,
}

fn read_crate() -> Crate {
    let files = imports::source_files(Path::new(env!("CARGO_MANIFEST_DIR")));
    let modules = imports::ModuleMap::new(&files);
    let (mut all, mut externals) = (Vec::new(), Vec::new());
    for file in &files {
        let (found, ext) = imports::scan(file, &modules);
        all.push(
            found
                .into_iter()
                .filter(|i| !i.in_test && i.target != file.rel)
                .collect(),
        );
        externals.push(ext.into_iter().filter(|e| !e.in_test).collect());
    }
    Crate {
        files,
        imports: all,
        externals,
    }
}

#[test]
fn modules_import_only_what_architecture_md_allows() {
    let krate = read_crate();
    let mut errors = Vec::new();
    let mut seen = vec![false; KNOWN_VIOLATIONS.len()];
    for (file, imports) in krate.files.iter().zip(&krate.imports) {
        let from = file.module.join("::");
        for import in imports {
            let Some(why) = broken_rule(&from, &import.target_module.join("::")) else {
                continue;
            };
            let path = import.path.join("::");
            match KNOWN_VIOLATIONS
                .iter()
                .position(|&(f, p)| f == file.rel && p == path)
            {
                Some(k) => seen[k] = true,
                None => errors.push(format!(
                    "{}:{}: imports crate::{path} — rule: {why}",
                    file.rel, import.line
                )),
            }
        }
    }
    for (k, &(file, path)) in KNOWN_VIOLATIONS.iter().enumerate() {
        if !seen[k] {
            errors.push(format!(
                "{file}: no longer imports crate::{path} — delete it from KNOWN_VIOLATIONS"
            ));
        }
    }
    assert!(
        errors.is_empty(),
        "module rules of docs/ARCHITECTURE.md broken:\n  {}\n",
        errors.join("\n  ")
    );
}

#[test]
fn domain_knows_nothing_of_the_runtime() {
    let krate = read_crate();
    let mut errors = Vec::new();
    for (file, externals) in krate.files.iter().zip(&krate.externals) {
        if !under(&file.module.join("::"), "domain") {
            continue;
        }
        for e in externals
            .iter()
            .filter(|e| NOT_IN_DOMAIN.contains(&e.krate.as_str()))
        {
            errors.push(format!(
                "{}:{}: names the crate {} — domain knows nothing of {}",
                file.rel,
                e.line,
                e.krate,
                NOT_IN_DOMAIN.join(", ")
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn file_graph(krate: &Crate) -> Graph {
    let mut graph = Graph::new();
    for (file, imports) in krate.files.iter().zip(&krate.imports) {
        let edges = graph.entry(file.rel.clone()).or_default();
        for import in imports {
            edges.entry(import.target.clone()).or_insert(import.line);
        }
    }
    graph
}

#[test]
fn no_new_import_cycles_between_files() {
    let graph = file_graph(&read_crate());
    let cycles = cyclic_components(&graph);
    let mut errors = Vec::new();
    for component in &cycles {
        if !KNOWN_CYCLES.iter().any(|k| k.iter().eq(component.iter())) {
            errors.push(format!(
                "import cycle among {:?}, e.g. {}",
                component,
                describe_cycle(&graph, component, |f| {
                    KNOWN_CYCLES.iter().any(|k| k.contains(&f))
                })
            ));
        }
    }
    for known in KNOWN_CYCLES {
        if !cycles.iter().any(|c| known.iter().eq(c.iter())) {
            errors.push(format!(
                "{known:?} is no longer a cycle as listed — update KNOWN_CYCLES to what remains"
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
