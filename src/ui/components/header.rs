//! The top bar: the app's name, where to go, who is signed in, and the way out.

use leptos::prelude::*;

use crate::dto::SessionUser;

#[component]
pub fn AppHeader() -> impl IntoView {
    // Provided per request by the server (see `server::http::forms`).
    let user = use_context::<SessionUser>();
    // The unread badge, on every page of a signed-in user.
    let unread = user
        .is_some()
        .then(|| Resource::new(|| (), |_| crate::server_fns::notify::unread_count()));
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <a href="/" class="brand">"Headroom"</a>
            {user
                .map(|u| {
                    view! {
                        <nav aria-label="Main">
                            <a href="/">"Today"</a>
                            <a href="/meters">"Meters"</a>
                            <a href="/settings/tokens">"Tokens"</a>
                            <a href="/notifications" class="notif-link" data-testid="notifications-link">
                                "Notifications"
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        let n = match unread {
                                            Some(r) => r.await.unwrap_or(0),
                                            None => 0,
                                        };
                                        (n > 0).then(|| view! {
                                            <span class="count" data-testid="unread-badge" aria-label=format!("{n} unread")>{n.min(99)}</span>
                                        })
                                    })}
                                </Suspense>
                            </a>
                            <a href="/account">"Account"</a>
                            {(u.role == crate::dto::Role::Admin).then(|| view! { <a href="/admin/users">"Users"</a> <a href="/admin/tips">"Tips"</a> <a href="/admin/performance">"Performance"</a> })}
                        </nav>
                        <span class="who" data-testid="who">{u.display_name}</span>
                        <form method="post" action="/logout">
                            <button type="submit" class="button quiet">"Sign out"</button>
                        </form>
                    }
                })}
        </header>
    }
}
