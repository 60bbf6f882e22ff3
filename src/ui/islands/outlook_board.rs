//! The top of the outlook: the balance score with the day's primary insight, and each
//! quota meter's card, with the control that switches figures between compact and exact.
//! An island: the server renders it, the browser hydrates it.
//!
//! It also keeps the outlook for offline use (SPEC S9): online, the board is saved in local
//! storage with when it was made and for whom; offline (the page then comes from the
//! service worker's cache), it shows the newest copy it has for this person under an
//! "Offline — as of HH:MM" banner, and reloads itself when the browser is back online.

use leptos::prelude::*;

use crate::{
    domain::units::Precision,
    dto::BoardView,
    ui::components::{
        balance_card::BalanceCard, precision_toggle::PrecisionToggle, quota_card::QuotaCard,
    },
};

/// `viewer`: whose outlook it is; `as_of`: when the server made the page (Unix ms).
#[island]
pub fn OutlookBoard(board: BoardView, viewer: i64, as_of: i64) -> impl IntoView {
    let precision = RwSignal::new(Precision::Compact);
    // Effects run only in the browser, after hydration: the attribute tells the
    // end-to-end tests (and the curious) that the controls are live.
    let hydrated = RwSignal::new(false);
    // The board on screen and when it was made; `offline` shows the banner.
    let shown = RwSignal::new((board, as_of));
    let offline = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        {
            use crate::ui::offline::{OutlookSnapshot, browser};
            let stored = browser::load_outlook(viewer).filter(|s| s.as_of_ms > as_of);
            match stored {
                Some(s) if !browser::online() => shown.set((s.board, s.as_of_ms)),
                Some(_) => {}
                None => shown.with_untracked(|(board, as_of_ms)| {
                    browser::save_outlook(&OutlookSnapshot {
                        user: viewer,
                        as_of_ms: *as_of_ms,
                        board: board.clone(),
                    })
                }),
            }
            offline.set(!browser::online());
            let _ = window_event_listener(leptos::ev::offline, move |_| offline.set(true));
            let _ = window_event_listener(leptos::ev::online, move |_| {
                // The worker must not answer the reload with the copy it has.
                browser::tell_worker("outlook-dirty");
                browser::reload();
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (viewer, offline);
    });

    view! {
        <div class="board" data-hydrated=move || hydrated.get().then_some("true")>
            {move || {
                offline
                    .get()
                    .then(|| {
                        view! {
                            <p class="notice offline" role="status" data-testid="offline-banner">
                                {banner(shown.with(|(_, as_of_ms)| *as_of_ms))}
                            </p>
                        }
                    })
            }}
            {move || {
                let (board, _) = shown.get();
                view! { <Board board precision /> }
            }}
        </div>
    }
}

#[component]
fn Board(board: BoardView, precision: RwSignal<Precision>) -> impl IntoView {
    let date = board.date_label.clone();
    let meters = board.meters.clone();
    view! {
        <div class="row spread">
            <h1>"Today" <span class="muted small">" · " {date}</span></h1>
            <PrecisionToggle precision />
        </div>
        <BalanceCard score=board.balance_score status=board.status.clone() insight=board.insight.clone() />
        {if meters.is_empty() {
            view! {
                <section class="card">
                    <h2>"No quota meter yet"</h2>
                    <p>"Add a quota meter to see your daily budget here."</p>
                    <p><a class="button primary" href="/meters/new">"Add a meter"</a></p>
                </section>
            }
                .into_any()
        } else {
            meters
                .into_iter()
                .enumerate()
                .map(|(i, meter)| view! { <QuotaCard meter precision primary=i == 0 /> })
                .collect_view()
                .into_any()
        }}
    }
}

/// "Offline — as of HH:MM", in the browser's time zone.
#[cfg(feature = "hydrate")]
fn banner(as_of_ms: i64) -> String {
    crate::ui::offline::browser::offline_label(as_of_ms)
}

/// The server never renders the banner (it is shown only when the browser is offline).
#[cfg(not(feature = "hydrate"))]
fn banner(_as_of_ms: i64) -> String {
    String::new()
}
