//! The top of the outlook: the balance score with the day's primary insight, and each
//! quota meter's card, with the control that switches figures between compact and exact.
//! An island: the server renders it, the browser hydrates it.

use leptos::prelude::*;

use crate::{
    domain::units::Precision,
    dto::BoardView,
    ui::components::{
        balance_card::BalanceCard, precision_toggle::PrecisionToggle, quota_card::QuotaCard,
    },
};

#[island]
pub fn OutlookBoard(board: BoardView) -> impl IntoView {
    let precision = RwSignal::new(Precision::Compact);
    // Effects run only in the browser, after hydration: the attribute tells the
    // end-to-end tests (and the curious) that the controls are live.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let date = board.date_label.clone();
    let meters = board.meters.clone();
    view! {
        <div class="board" data-hydrated=move || hydrated.get().then_some("true")>
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
        </div>
    }
}
