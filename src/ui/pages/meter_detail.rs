//! `/meters/{id}`: one meter — its history (the chart explorer), recent days, a reading by
//! hand, export, settings.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    domain::units::{Precision, format_amount},
    dto::MeterPage,
    dto::series::Explorer,
    server_fns::meters::{get_meter_page, get_meter_series},
    ui::components::{
        explorer_section::ExplorerSection,
        field::{Field, FieldError, feedback_for},
        header::AppHeader,
        import_section::ImportSection,
        meter_form::MeterForm,
        rules_section::RulesSection,
        sharing_section::SharingSection,
        source_section::SourceSection,
    },
    ui::format,
    ui::islands::reading_form::ReadingForm,
};

#[component]
pub fn MeterDetailPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let page = Resource::new(id, get_meter_page);
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("saved"));
    // The explorer's range lives in the address: `?range=7d` or `?from=…&to=…`, `&with=`.
    let explorer = Resource::new(
        move || {
            let q = query.get();
            (
                id(),
                q.get("range"),
                q.get("from"),
                q.get("to"),
                q.get("with"),
            )
        },
        |(id, range, from, to, with)| get_meter_series(id, range, from, to, with, None, None),
    );
    view! {
        <AppHeader />
        <main class="page" id="main">
            {move || {
                saved()
                    .map(|what| {
                        let text = match what.as_str() {
                            "reading" => "Reading saved.",
                            "meter" => "Meter saved.",
                            "source" => "Collection saved; it runs within a minute.",
                            "sharing" => "Sharing saved.",
                            "rules" => "Notifications saved.",
                            _ => "Saved.",
                        };
                        view! { <p class="notice" role="status">{text}</p> }
                    })
            }}
            <Suspense fallback=|| view! { <p class="muted">"Loading the meter…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => {
                            let explorer = explorer.await.ok();
                            view! { <MeterBody page=p explorer /> }.into_any()
                        }
                        Err(_) => {
                            view! {
                                <Title text="Not found · Headroom" />
                                <h1>"No such meter"</h1>
                                <p>"It may have been removed, or the address is mistyped."</p>
                                <p><a href="/meters">"All meters"</a></p>
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
fn MeterBody(page: MeterPage, explorer: Option<Explorer>) -> impl IntoView {
    let m = page.meter;
    let unit = m.unit.clone();
    let amount = move |v: f64| format_amount(v, &unit, Precision::Compact);
    let base = format!("/meters/{}", m.id);
    let is_quota = m.kind == "quota";
    // What the caller may do decides which controls exist at all: a viewer gets none.
    let may_write = !m.archived && m.access != "viewer";
    let is_owner = m.access == "owner";
    // Provided per request by the server; readings queued offline belong to this person.
    let viewer = use_context::<crate::dto::SessionUser>().map_or(0, |u| u.id);
    view! {
        <Title text=format!("{} · Headroom", m.name) />
        <div class="row spread">
            <h1>{m.name.clone()} {m.archived.then(|| view! { <span class="badge">"archived"</span> })}</h1>
            <a href="/meters" class="button quiet">"All meters"</a>
        </div>
        {m.shared_by.clone().map(|owner| {
            let can = if m.access == "editor" { "you can view it and add readings" } else { "you can view it" };
            view! { <p class="notice shared" data-access=m.access.clone()>{format!("Shared by {owner}: {can}.")}</p> }
        })}
        {explorer.map(|e| view! { <ExplorerSection meter_id=m.id explorer=e /> })}
        <section class="card" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recent days"</h2>
            {if page.recent_days.is_empty() {
                view! { <p class="muted">"No readings in the last two weeks."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="days">
                            <thead>
                                <tr>
                                    <th scope="col">"Day"</th>
                                    <th scope="col">{if is_quota { "Used" } else { "Low" }}</th>
                                    <th scope="col">{if is_quota { "Budget" } else { "High" }}</th>
                                    <th scope="col">"Last"</th>
                                    <th scope="col">"Readings"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page
                                    .recent_days
                                    .iter()
                                    .map(|d| {
                                        let (a, b) = if is_quota {
                                            (d.usage.map(amount.clone()).unwrap_or_default(), d.budget.map(amount.clone()).unwrap_or_default())
                                        } else {
                                            (amount(d.min), amount(d.max))
                                        };
                                        view! {
                                            <tr>
                                                <td>{format::day(&d.date)}</td>
                                                <td>{a}</td>
                                                <td>{b}</td>
                                                <td>{amount(d.last)}</td>
                                                <td>{d.readings}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
        {may_write
            .then(|| {
                view! {
                    <section class="card" aria-labelledby="manual-title">
                        <h2 id="manual-title">"Add a reading"</h2>
                        <ReadingForm meter_id=m.id viewer>
                            <div class="row">
                                <Field
                                    form="reading"
                                    name="value"
                                    label=if is_quota { "Used so far this period" } else { "Value" }
                                    required=true
                                />
                                <Field
                                    form="reading"
                                    name="timestamp"
                                    label="When"
                                    input_type="datetime-local"
                                    hint="Leave empty for now. In the meter's timezone."
                                />
                            </div>
                            <FieldError form="reading" name="meter_id" />
                            <button type="submit" class="button primary">"Save reading"</button>
                        </ReadingForm>
                    </section>
                }
            })}
        {(!m.archived && is_owner).then(|| view! { <SourceSection meter_id=m.id source=page.source.clone() attempts=page.attempts.clone() /> })}
        {may_write.then(|| view! { <ImportSection meter_id=m.id imports=page.imports.clone() /> })}
        {page.sharing.clone().map(|s| view! { <SharingSection meter_id=m.id sharing=s /> })}
        {page.rules.clone().map(|r| view! { <RulesSection meter_id=m.id rules=r /> })}
        <section class="card" aria-labelledby="export-title">
            <h2 id="export-title">"Export"</h2>
            <p>
                <a class="button" href=format!("/api/v1/meters/{}/readings?format=csv", m.id) download="">"All readings as CSV"</a>
                " "
                <a class="button" href=format!("/api/v1/meters/{}/readings?format=json", m.id) download="">"as JSON"</a>
            </p>
        </section>
        {(m.access != "viewer").then(|| view! {
            <details class="card" open=feedback_for("meter").is_some()>
                <summary>"Settings" <span class="muted">"name, unit, budget, timezone"</span></summary>
                <MeterForm meter=Some(m.clone()) action=base.clone() submit="Save changes" default_timezone=m.timezone.clone() />
            </details>
        })}
        {(!m.archived && is_owner)
            .then(|| {
                view! {
                    <form method="post" action=format!("{base}/archive") class="card stack">
                        <h2>"Archive"</h2>
                        <p class="muted">"Archived meters leave the outlook and take no new readings. Their history stays."</p>
                        <button type="submit" class="button danger">"Archive this meter"</button>
                    </form>
                }
            })}
    }
}
