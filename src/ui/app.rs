//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::dto::SessionUser;
use crate::ui::islands::app_status::AppStatus;
use crate::ui::pages::{
    account::AccountPage,
    admin_tips::AdminTipsPage,
    admin_users::AdminUsersPage,
    invite::{InvitePage, ResetPage},
    login::LoginPage,
    meter_detail::MeterDetailPage,
    meter_new::NewMeterPage,
    meters::MetersPage,
    not_found::NotFound,
    notifications::NotificationsPage,
    outlook::OutlookPage,
    perf::{
        PerfCachePage, PerfOverviewPage, PerfQueriesPage, PerfRoutesPage, PerfSsrPage,
        PerfSystemPage,
    },
    setup::SetupPage,
    tokens::TokensPage,
};

/// The document around the app, rendered on the server only. Pages are server components;
/// only `ui::islands` hydrate in the browser.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="theme-color" content="#0f766e" media="(prefers-color-scheme: light)" />
                <meta name="theme-color" content="#0e1419" media="(prefers-color-scheme: dark)" />
                <meta name="description" content="Your daily outlook: what you have used, what is left, and what you can use today." />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/icons/apple-touch-icon.png" />
                <meta name="apple-mobile-web-app-capable" content="yes" />
                <meta name="mobile-web-app-capable" content="yes" />
                <meta name="apple-mobile-web-app-title" content="Headroom" />
                <meta name="apple-mobile-web-app-status-bar-style" content="default" />
                <leptos_meta::HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    // Provided per request by the server (see `server::http::forms`).
    let viewer = use_context::<SessionUser>().map(|u| u.id);

    view! {
        <Title text="Headroom" />
        <Router>
            <Routes fallback=NotFound>
                // In-order streaming: the shell and header go out at once, then each
                // Suspense's content in document order as it resolves. Unlike out-of-order
                // streaming it needs no script to put content in place, so the outlook
                // reads the same with JavaScript off or not yet loaded.
                <Route path=path!("/") view=OutlookPage ssr=SsrMode::InOrder />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/meters") view=MetersPage ssr=SsrMode::InOrder />
                <Route path=path!("/meters/new") view=NewMeterPage ssr=SsrMode::InOrder />
                // Async: the whole page waits for its data, so a missing meter can answer 404.
                <Route path=path!("/meters/:id") view=MeterDetailPage ssr=SsrMode::Async />
                <Route path=path!("/settings/tokens") view=TokensPage ssr=SsrMode::InOrder />
                <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::InOrder />
                <Route path=path!("/admin/tips") view=AdminTipsPage ssr=SsrMode::Async />
                // Accounts: first run, single-use links, everyone's own, administrators'.
                <Route path=path!("/setup") view=SetupPage />
                <Route path=path!("/invite/:secret") view=InvitePage ssr=SsrMode::Async />
                <Route path=path!("/reset/:secret") view=ResetPage ssr=SsrMode::Async />
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::InOrder />
                <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async />
                // Async, so a member's request can answer 403 before any HTML goes out.
                <Route path=path!("/admin/performance") view=PerfOverviewPage ssr=SsrMode::Async />
                <Route path=path!("/admin/performance/routes") view=PerfRoutesPage ssr=SsrMode::Async />
                <Route path=path!("/admin/performance/queries") view=PerfQueriesPage ssr=SsrMode::Async />
                <Route path=path!("/admin/performance/cache") view=PerfCachePage ssr=SsrMode::Async />
                <Route path=path!("/admin/performance/ssr") view=PerfSsrPage ssr=SsrMode::Async />
                <Route path=path!("/admin/performance/system") view=PerfSystemPage ssr=SsrMode::Async />
            </Routes>
        </Router>
        // On every page: the service worker, "update ready", the offline queue's replay.
        <AppStatus viewer />
    }
}

/// A strict Content-Security-Policy: scripts only from this origin or carrying this
/// response's nonce (Leptos puts it on the hydration script), WebAssembly allowed, no
/// inline styles, no framing.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use http::{HeaderValue, header::CONTENT_SECURITY_POLICY};

    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // `cargo leptos watch` reloads the page through a websocket on its reload port.
    let reload = if std::env::var("LEPTOS_WATCH").is_ok() {
        " ws://127.0.0.1:3001"
    } else {
        ""
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; \
         manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; object-src 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
