//! The outlook home, streamed in order as its parts are ready: the balance score and
//! today's budgets first, then what to do now, then trends and the comparison with peers.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    dto::BoardView,
    server_fns::outlook::{get_outlook, get_peer_comparison},
    ui::{
        components::{
            day_notes::DayNotes, header::AppHeader, peers_card::PeersCard, trends::TrendChart,
        },
        islands::outlook_board::OutlookBoard,
    },
};

#[component]
pub fn OutlookPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();

    // Whose outlook, and when the page was made: the island keeps it for offline use.
    let viewer = use_context::<crate::dto::SessionUser>().map_or(0, |u| u.id);
    #[cfg(feature = "ssr")]
    #[allow(
        clippy::disallowed_methods,
        reason = "when the page was rendered, not a business rule; ui cannot reach server::clock"
    )]
    let as_of = jiff::Timestamp::now().as_millisecond();
    #[cfg(not(feature = "ssr"))]
    let as_of = 0;
    let outlook = Resource::new(|| (), |_| get_outlook());
    let peers = Resource::new(|| (), |_| get_peer_comparison());

    view! {
        <Title text="Today · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <Suspense fallback=|| view! { <p class="muted">"Loading today's outlook…"</p> }>
                {move || Suspend::new(async move {
                    match outlook.await {
                        Ok(outlook) => view! { <OutlookBoard board=BoardView::of(&outlook) viewer as_of /> }.into_any(),
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
            <Suspense>
                {move || Suspend::new(async move { outlook.await.ok().map(|outlook| view! { <DayNotes outlook /> }) })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    let trends = outlook.await.map(|o| o.trends).unwrap_or_default();
                    let peers = peers.await.ok();
                    view! {
                        {(!trends.is_empty())
                            .then(|| {
                                view! {
                                    <section class="card" aria-labelledby="trends-title">
                                        <h2 id="trends-title">"Last 7 days"</h2>
                                        <div class="trends">
                                            {trends.into_iter().map(|trend| view! { <TrendChart trend /> }).collect_view()}
                                        </div>
                                    </section>
                                }
                            })}
                        {peers.map(|peers| view! { <PeersCard peers /> })}
                    }
                })}
            </Suspense>
        </main>
    }
}
