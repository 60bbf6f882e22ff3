//! The top bar: the app's name, where to go, who is signed in, and the way out.

use leptos::prelude::*;

use crate::dto::SessionUser;

#[component]
pub fn AppHeader() -> impl IntoView {
    // Provided per request by the server (see `server::http::forms`).
    let user = use_context::<SessionUser>();
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
