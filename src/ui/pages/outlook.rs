//! The outlook home: today's standing of the user's quota meters. Rendered on the server
//! and streamed; the meters themselves are an island so their controls work in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    server_fns::outlook::get_outlook_summary,
    ui::{components::header::AppHeader, islands::outlook_board::OutlookBoard},
};

#[component]
pub fn OutlookPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();

    let summary = Resource::new(|| (), |_| get_outlook_summary());

    view! {
        <Title text="Today · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <Suspense fallback=|| view! { <p class="muted">"Loading today's outlook…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! { <OutlookBoard summary /> }.into_any(),
                        Err(e) => {
                            view! {
                                <p class="notice error" role="alert">
                                    "The outlook could not be loaded: " {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
