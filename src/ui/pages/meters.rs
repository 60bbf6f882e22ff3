//! `/meters`: the user's meters at a glance.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    domain::units::{Precision, format_amount},
    dto::MeterView,
    server_fns::meters::list_meters,
    ui::components::header::AppHeader,
};

#[component]
pub fn MetersPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let meters = Resource::new(|| (), |_| list_meters());
    let query = use_query_map();
    let archived = move || query.with(|q| q.get("archived")).is_some();
    view! {
        <Title text="Meters · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <div class="row spread">
                <h1>"Meters"</h1>
                <a class="button primary" href="/meters/new">"Add a meter"</a>
            </div>
            {move || archived().then(|| view! { <p class="notice" role="status">"The meter is archived. Its history is kept."</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading meters…"</p> }>
                {move || Suspend::new(async move {
                    match meters.await {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <section class="card">
                                    <h2>"No meters yet"</h2>
                                    <p>"Add a budget such as your internet data cap, or a sensor, to start your daily outlook."</p>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <ul class="meter-list">{list.into_iter().map(|m| view! { <MeterItem meter=m /> }).collect_view()}</ul> }.into_any(),
                        Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn MeterItem(meter: MeterView) -> impl IntoView {
    let what = match (
        meter.kind.as_str(),
        meter.quota,
        meter.reset_rule.as_deref(),
    ) {
        ("quota", Some(q), Some(rule)) => format!(
            "Budget of {} · resets {rule}",
            format_amount(q, &meter.unit, Precision::Compact)
        ),
        _ => format!("Sensor in {}", meter.unit),
    };
    let latest = meter.latest.as_ref().map_or_else(
        || "no readings yet".to_string(),
        |l| {
            format!(
                "latest {} at {}",
                format_amount(l.value, &meter.unit, Precision::Compact),
                l.at
            )
        },
    );
    view! {
        <li class="card meter-item" class:archived=meter.archived>
            <h2>
                <a href=format!("/meters/{}", meter.id)>{meter.name.clone()}</a>
                {meter.archived.then(|| view! { <span class="badge">"archived"</span> })}
                {meter.shared_by.clone().map(|owner| view! { <span class="badge shared" title=format!("Shared by {owner}")>{format!("shared by {owner}")}</span> })}
            </h2>
            <p class="muted small">{what}</p>
            <p class="small">{latest}</p>
        </li>
    }
}
