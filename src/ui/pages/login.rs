//! Sign-in: a plain HTML form posted to `/login`, so it works before the WebAssembly loads.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `?error=` code. Wrong email and wrong password share one message on
/// purpose: saying which was wrong would tell an attacker which emails have accounts.
fn error_message(code: &str) -> &'static str {
    match code {
        "invalid" => "Email or password is incorrect.",
        "throttled" => "Too many failed attempts. Wait a few minutes, then try again.",
        "missing" => "Enter your email and your password.",
        "too_long" => "That email or password is too long.",
        _ => "Sign-in did not work. Please try again.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if crate::server_fns::request_user().is_some() {
        crate::server_fns::redirect_page("/");
    }
    let query = use_query_map();
    let error = move || {
        query
            .with(|q| q.get("error"))
            .map(|code| error_message(&code))
    };
    let signed_out = move || query.with(|q| q.get("signed_out")).is_some();
    let reset = move || query.with(|q| q.get("reset")).is_some();
    // A fresh install has no account to sign in to yet: point at the setup page.
    #[cfg(feature = "ssr")]
    let first_run = crate::server_fns::app_state().is_ok_and(|s| s.first_run.needed());
    #[cfg(not(feature = "ssr"))]
    let first_run = false;
    let next = move || {
        query
            .with(|q| q.get("next"))
            .unwrap_or_else(|| "/".to_string())
    };

    view! {
        <Title text="Sign in · Headroom" />
        <main class="page narrow" id="main">
            <h1 class="brand">"Headroom"</h1>
            <p class="lede">"Your daily outlook for data caps, budgets and sensors."</p>
            <form method="post" action="/login" class="card stack" aria-labelledby="signin-title">
                <h2 id="signin-title">"Sign in"</h2>
                {move || error().map(|e| view! { <p class="notice error" role="alert">{e}</p> })}
                {move || {
                    signed_out().then(|| view! { <p class="notice" role="status">"You are signed out."</p> })
                }}
                {move || {
                    reset().then(|| view! { <p class="notice" role="status">"Password set. Sign in with it."</p> })
                }}
                {first_run.then(|| view! {
                    <p class="notice" role="status">"No account exists yet: " <a href="/setup">"set up Headroom"</a> " first."</p>
                })}
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required />
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required />
                <input type="hidden" name="next" value=next />
                <button type="submit" class="button primary">"Sign in"</button>
            </form>
        </main>
    }
}
