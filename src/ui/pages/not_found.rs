//! The page for addresses that lead nowhere, answered with a real 404 status.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Headroom" />
        <main class="page narrow" id="main">
            <h1>"Nothing here"</h1>
            <p>"This address does not lead to a page. It may have moved, or the link was mistyped."</p>
            <p>
                <a href="/" class="button">"Go to today's outlook"</a>
            </p>
        </main>
    }
}
