//! `/admin/tips`: the tips of the day, for admins to write and switch on and off.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    domain::outlook::tips::PLACEHOLDERS,
    dto::TipView,
    server_fns::admin::list_tips,
    ui::components::{
        field::{FieldError, shown_value},
        header::AppHeader,
    },
};

#[component]
pub fn AdminTipsPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let tips = Resource::new(|| (), |_| list_tips());
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("saved")).is_some();
    let placeholders = PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ");
    view! {
        <Title text="Tips of the day · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <h1>"Tips of the day"</h1>
            <p class="lede">
                "One active tip shows on everyone's outlook each day, in turn. A tip may use "
                {placeholders} ", filled from the reader's own first budget."
            </p>
            {move || saved().then(|| view! { <p class="notice" role="status">"Saved. Outlooks show it from their next read."</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tips.await {
                        Ok(list) => {
                            view! {
                                <TipForm tip=None />
                                {list.into_iter().map(|t| view! { <TipForm tip=Some(t) /> }).collect_view()}
                            }
                                .into_any()
                        }
                        Err(_) => {
                            view! {
                                <p class="notice error" role="alert">"This page is for administrators."</p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn TipForm(tip: Option<TipView>) -> impl IntoView {
    let form = tip
        .as_ref()
        .map_or_else(|| "tip-new".to_string(), |t| format!("tip-{}", t.id));
    let title = shown_value(
        &form,
        "title",
        tip.as_ref().map_or("", |t| t.title.as_str()),
    );
    let body = shown_value(&form, "body", tip.as_ref().map_or("", |t| t.body.as_str()));
    let id = tip.as_ref().map(|t| t.id.to_string());
    let active = tip.as_ref().is_none_or(|t| t.active);
    let heading = if tip.is_some() { "Tip" } else { "New tip" };
    view! {
        <form method="post" action="/admin/tips" class="card stack" data-testid=form.clone()>
            <h2>{heading}</h2>
            {id.map(|id| view! { <input type="hidden" name="id" value=id /> })}
            <label for=format!("{form}-title")>"Title"</label>
            <input id=format!("{form}-title") name="title" value=title required />
            <FieldError form=form.clone() name="title" />
            <label for=format!("{form}-body")>"Text"</label>
            <textarea id=format!("{form}-body") name="body" rows="3" required>{body}</textarea>
            <FieldError form=form.clone() name="body" />
            {tip.is_some().then(|| view! { <label class="choice"><input type="checkbox" name="active" value="1" checked=active />" Active"</label> })}
            <button type="submit" class="button primary">{if tip.is_some() { "Save" } else { "Add tip" }}</button>
        </form>
    }
    .into_any()
}
