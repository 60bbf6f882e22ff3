//! The outlook's meters, with the control that switches figures between compact and
//! exact. An island: the server renders it, the browser hydrates it.

use leptos::prelude::*;

use crate::{
    domain::units::Precision,
    dto::OutlookSummary,
    ui::components::{precision_toggle::PrecisionToggle, quota_card::QuotaCard},
};

#[island]
pub fn OutlookBoard(summary: OutlookSummary) -> impl IntoView {
    let precision = RwSignal::new(Precision::Compact);
    // Effects run only in the browser, after hydration: the attribute tells users of
    // assistive tech tooling and the end-to-end tests that the controls are live.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let date = summary.date.clone();
    let others = summary.others.clone();
    view! {
        <div class="board" data-hydrated=move || hydrated.get().then_some("true")>
            <div class="row spread">
                <h1>"Today" <span class="muted small">" · " {date}</span></h1>
                <PrecisionToggle precision />
            </div>
            {match summary.primary {
                Some(primary) => view! { <QuotaCard meter=primary precision primary=true /> }.into_any(),
                None => {
                    view! {
                        <section class="card">
                            <h2>"No quota meter yet"</h2>
                            <p>"Add a quota meter to see your daily budget here."</p>
                        </section>
                    }
                        .into_any()
                }
            }}
            {others
                .into_iter()
                .map(|meter| view! { <QuotaCard meter precision primary=false /> })
                .collect_view()}
        </div>
    }
}
