//! `/account`: everyone's own account — display name, password, and the devices signed
//! in, each of which (or all others at once) can be signed out. Plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    dto::accounts::{AccountPage, SessionView},
    server_fns::accounts::get_account,
    ui::{
        components::{
            field::{Field, FieldError},
            header::AppHeader,
        },
        format,
    },
};

#[component]
pub fn AccountPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let page = Resource::new(|| (), |_| get_account());
    let query = use_query_map();
    let notice = move || {
        query.with(|q| {
            if q.get("saved").as_deref() == Some("password") {
                let n = q.get("signed_out").unwrap_or_default();
                Some(format!("Password changed. Other sessions signed out: {n}."))
            } else if q.get("saved").is_some() {
                Some("Saved.".to_string())
            } else if q.get("joined").is_some() {
                Some("You joined the household.".to_string())
            } else {
                q.get("signed_out").map(|n| format!("Signed out: {n}."))
            }
        })
    };
    view! {
        <Title text="Your account · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <h1>"Your account"</h1>
            {move || notice().map(|n| view! { <p class="notice" role="status" data-testid="account-notice">{n}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    page.await.ok().map(|p| view! { <AccountForms page=p /> })
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn AccountForms(page: AccountPage) -> impl IntoView {
    let a = page.account;
    view! {
        <section class="card stack">
            <p>
                {a.email.clone()} " · " {a.role.as_str()}
                {a.household.clone().map(|h| format!(" · household “{h}”"))}
            </p>
        </section>
        <form method="post" action="/forms/account/name" class="card stack" data-testid="name-form">
            <h2>"Name"</h2>
            <Field form="name" name="display_name" label="Display name" initial=a.display_name.clone() required=true autocomplete="name" />
            <button type="submit" class="button">"Save name"</button>
        </form>
        <form method="post" action="/forms/account/password" class="card stack" data-testid="password-form">
            <h2>"Password"</h2>
            <p class="muted">"Changing it signs out every other device."</p>
            <div class="field">
                <label for="current-password">"Current password"</label>
                <input id="current-password" type="password" name="current_password" maxlength="1024" autocomplete="current-password" required />
                <FieldError form="password" name="current_password" />
            </div>
            <div class="field">
                <label for="new-password">"New password"</label>
                <input id="new-password" type="password" name="new_password" minlength="8" maxlength="1024" autocomplete="new-password" required />
                <FieldError form="password" name="new_password" />
            </div>
            <button type="submit" class="button primary">"Change password"</button>
        </form>
        <Sessions sessions=page.sessions />
    }
}

#[component]
fn Sessions(sessions: Vec<SessionView>) -> impl IntoView {
    let others = sessions.iter().filter(|s| !s.current).count();
    view! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Signed in"</h2>
            <ul class="token-list" data-testid="sessions">
                {sessions
                    .into_iter()
                    .map(|s| {
                        let seen = s
                            .last_seen_at
                            .as_deref()
                            .map_or_else(String::new, |t| format!(" · last seen {}", format::instant(t)));
                        view! {
                            <li>
                                <div>
                                    <strong>{s.device.clone()}</strong>
                                    {s.current.then(|| view! { <span class="badge">"this device"</span> })}
                                </div>
                                <div class="muted small">{format!("signed in {}{seen}", format::instant(&s.created_at))}</div>
                                <form method="post" action=format!("/forms/account/sessions/{}/sign-out", s.id)>
                                    <button type="submit" class="button quiet danger">"Sign out"</button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {(others > 0).then(|| view! {
                <form method="post" action="/forms/account/sessions/others/sign-out">
                    <button type="submit" class="button danger">"Sign out all other devices"</button>
                </form>
            })}
        </section>
    }
}
