//! Switches figures between compact (`612 GB`) and exact (`627 098 MB`). Purely
//! client-side: it works once the page has hydrated, and does nothing before.

use leptos::prelude::*;

use crate::domain::units::Precision;

#[component]
pub fn PrecisionToggle(precision: RwSignal<Precision>) -> impl IntoView {
    let exact = move || precision.get() == Precision::Exact;
    view! {
        <button
            type="button"
            class="button quiet"
            data-testid="precision-toggle"
            aria-pressed=move || exact().to_string()
            on:click=move |_| {
                precision
                    .update(|p| {
                        *p = if *p == Precision::Exact { Precision::Compact } else { Precision::Exact };
                    })
            }
        >
            {move || if exact() { "Show rounded" } else { "Show exact" }}
        </button>
    }
}
