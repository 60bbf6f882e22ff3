//! What makes Headroom an installable, offline-capable app: the web app manifest and the
//! service worker script.
//!
//! `/sw.js` is `http/sw.js` with its precache list and version filled in from the build's
//! own output, listed once when the server starts: the hashed files of the package folder
//! (`/pkg/…` JavaScript, WebAssembly, CSS) and the icons. The version is a hash of that
//! list and of the script itself, so every deploy with new files or a new worker gets a new
//! version, and browsers install it in the background.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::config::LeptosOptions;

use crate::server::state::AppState;

/// The worker script, with `__VERSION__` and `__PRECACHE__` to fill in.
const TEMPLATE: &str = include_str!("../sw.js");
/// The manifest, compiled in so it is served even without a built site folder.
const MANIFEST: &str = include_str!("../../../../public/manifest.webmanifest");
/// Files of the site root (outside the package folder) every page may use.
const STATIC_FILES: [&str; 2] = ["/favicon.svg", "/manifest.webmanifest"];
/// Extensions of the package folder's files that pages load.
const SHELL_EXTENSIONS: [&str; 3] = ["js", "wasm", "css"];

/// Mixed into the version by the test hook `POST /__test/sw-version`, so a test can make
/// the server look like a new deploy.
static VERSION_SALT: AtomicU64 = AtomicU64::new(0);

/// Makes `/sw.js` announce a new version (test hooks only).
pub fn bump_version() -> u64 {
    VERSION_SALT.fetch_add(1, Ordering::Relaxed) + 1
}

/// The worker's precache list, from the site folder as built: `/pkg/` files that pages
/// load (not the `.br`/`.gz` copies or type declarations), the icons, the favicon and the
/// manifest. Sorted, so the version does not depend on directory order.
pub fn precache_list(site_root: &Path, pkg_dir: &str) -> Vec<String> {
    let mut files: Vec<String> = STATIC_FILES.iter().map(|s| (*s).to_string()).collect();
    let listed = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    for name in listed(&site_root.join(pkg_dir)) {
        let ext = name.rsplit('.').next().unwrap_or_default();
        if SHELL_EXTENSIONS.contains(&ext) {
            files.push(format!("/{pkg_dir}/{name}"));
        }
    }
    for name in listed(&site_root.join("icons")) {
        if name.ends_with(".png") {
            files.push(format!("/icons/{name}"));
        }
    }
    files.sort();
    files
}

/// The service worker as served: the template with the list and a version derived from it.
pub struct ServiceWorker {
    precache: Vec<String>,
}

impl ServiceWorker {
    pub fn from_site(options: &LeptosOptions) -> Self {
        Self {
            precache: precache_list(Path::new(options.site_root.as_ref()), &options.site_pkg_dir),
        }
    }

    pub fn precache(&self) -> &[String] {
        &self.precache
    }

    /// 16 hex digits: a hash of the precache list and the worker's code (and, under test
    /// hooks, the salt).
    pub fn version(&self) -> String {
        let list = self.precache.join("\n");
        let hash = xxhash_rust::xxh3::xxh3_64_with_seed(
            format!("{list}\n{TEMPLATE}").as_bytes(),
            VERSION_SALT.load(Ordering::Relaxed),
        );
        format!("{hash:016x}")
    }

    pub fn script(&self) -> String {
        let list = serde_json::to_string(&self.precache).unwrap_or_else(|_| "[]".into());
        TEMPLATE
            .replace("__VERSION__", &self.version())
            .replace("__PRECACHE__", &list)
    }
}

fn serve_script(sw: &ServiceWorker) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            // Browsers check for a new worker on navigations; this answer must never be
            // taken from an HTTP cache.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        sw.script(),
    )
        .into_response()
}

async fn manifest() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        MANIFEST,
    )
        .into_response()
}

pub fn router(options: &LeptosOptions) -> Router<AppState> {
    let sw = Arc::new(ServiceWorker::from_site(options));
    Router::new()
        .route("/sw.js", get(move || async move { serve_script(&sw) }))
        .route("/manifest.webmanifest", get(manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precache_lists_what_pages_load_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pkg = dir.path().join("pkg");
        let icons = dir.path().join("icons");
        std::fs::create_dir_all(&pkg).expect("pkg");
        std::fs::create_dir_all(&icons).expect("icons");
        for name in [
            "headroom.abc.js",
            "headroom.abc.js.br",
            "headroom.def.wasm",
            "headroom.def.wasm.gz",
            "headroom.ghi.css",
            "headroom.d.xyz.ts",
        ] {
            std::fs::write(pkg.join(name), "x").expect("write");
        }
        std::fs::write(icons.join("icon-192.png"), "x").expect("write");
        assert_eq!(
            precache_list(dir.path(), "pkg"),
            [
                "/favicon.svg",
                "/icons/icon-192.png",
                "/manifest.webmanifest",
                "/pkg/headroom.abc.js",
                "/pkg/headroom.def.wasm",
                "/pkg/headroom.ghi.css",
            ]
        );
    }

    #[test]
    fn version_follows_the_list() {
        let a = ServiceWorker {
            precache: vec!["/pkg/a.1.js".into()],
        };
        let b = ServiceWorker {
            precache: vec!["/pkg/a.2.js".into()],
        };
        assert_ne!(a.version(), b.version());
        assert_eq!(a.version(), a.version());
        let script = a.script();
        assert!(script.contains(&format!("const VERSION = \"{}\";", a.version())));
        assert!(script.contains(r#"const PRECACHE = ["/pkg/a.1.js"];"#));
    }
}
