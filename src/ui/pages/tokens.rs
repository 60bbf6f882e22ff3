//! `/settings/tokens`: API tokens that let routers, scripts and sensors send readings.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    dto::{MeterView, NewToken, TokenView},
    server_fns::{meters::list_meters, tokens::list_tokens},
    ui::{
        components::{
            field::{Field, FieldError, feedback_for},
            header::AppHeader,
        },
        format,
    },
};

#[component]
pub fn TokensPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let tokens = Resource::new(|| (), |_| list_tokens());
    let meters = Resource::new(|| (), |_| list_meters());
    // Present only on the answer to the form that created it: shown once, never stored.
    let created = use_context::<NewToken>();
    view! {
        <Title text="API tokens · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <h1>"API tokens"</h1>
            <p class="lede">
                "A token lets a router, a script or a sensor send readings to chosen meters with "
                <code>"POST /api/v1/readings"</code> " and " <code>"Authorization: Bearer …"</code> "."
            </p>
            {created.map(|t| view! { <CreatedToken token=t /> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let meters = meters.await.unwrap_or_default();
                    let tokens = tokens.await.unwrap_or_default();
                    view! {
                        <CreateTokenForm meters=meters.clone() />
                        <TokenList tokens meters />
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn CreatedToken(token: NewToken) -> impl IntoView {
    view! {
        <section class="card notice-strong" role="status" aria-labelledby="new-token-title">
            <h2 id="new-token-title">"Token “" {token.view.name.clone()} "” created"</h2>
            <p>"Copy it now: it is shown this once and cannot be shown again."</p>
            <p>
                <code class="secret" data-testid="new-token">{token.token.clone()}</code>
            </p>
        </section>
    }
}

#[component]
fn CreateTokenForm(meters: Vec<MeterView>) -> impl IntoView {
    let chosen: Vec<String> = feedback_for("token")
        .and_then(|f| {
            f.value("meter_ids")
                .map(|v| v.split(',').map(str::to_owned).collect())
        })
        .unwrap_or_default();
    let active: Vec<MeterView> = meters.into_iter().filter(|m| !m.archived).collect();
    let scope = feedback_for("token")
        .and_then(|f| f.value("scope").map(str::to_owned))
        .unwrap_or_else(|| "ingest".into());
    view! {
        <form method="post" action="/settings/tokens" class="card stack" data-testid="token-form">
            <h2>"New token"</h2>
            <Field form="token" name="name" label="Name" hint="Where it will be used, e.g. “home router”." required=true />
            <fieldset class="choices">
                <legend>"May"</legend>
                <label class="choice">
                    <input type="radio" name="scope" value="ingest" checked=scope != "read" />
                    " write readings (a router, a collector script)"
                </label>
                <label class="choice">
                    <input type="radio" name="scope" value="read" checked=scope == "read" />
                    " read only (Home Assistant, a wall tablet)"
                </label>
                <FieldError form="token" name="scope" />
            </fieldset>
            <fieldset class="choices">
                <legend>"Of these meters"</legend>
                {if active.is_empty() {
                    view! { <p class="muted">"Add a meter first."</p> }.into_any()
                } else {
                    active
                        .into_iter()
                        .map(|m| {
                            let checked = chosen.contains(&m.id.to_string());
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="meter_ids" value=m.id.to_string() checked=checked />
                                    " " {m.name.clone()}
                                </label>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
                <FieldError form="token" name="meter_ids" />
            </fieldset>
            <Field form="token" name="expires_in_days" label="Expires after (days)" input_type="number" hint="Leave empty for a token that works until you revoke it." />
            <button type="submit" class="button primary">"Create token"</button>
        </form>
    }
}

#[component]
fn TokenList(tokens: Vec<TokenView>, meters: Vec<MeterView>) -> impl IntoView {
    let name_of = move |id: i64| {
        meters
            .iter()
            .find(|m| m.id == id)
            .map_or_else(|| format!("meter {id}"), |m| m.name.clone())
    };
    view! {
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Your tokens"</h2>
            {if tokens.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="token-list">
                        {tokens
                            .into_iter()
                            .map(|t| {
                                let names = t.meter_ids.iter().map(|id| name_of(*id)).collect::<Vec<_>>().join(", ");
                                let does = match t.scope.as_str() {
                                    "read" => format!("reads {names}"),
                                    "metrics" => "reads the metrics scrape".to_string(),
                                    _ => format!("writes {names}"),
                                };
                                let ends = t
                                    .expires_at
                                    .as_deref()
                                    .map_or_else(String::new, |at| format!(" · expires {}", format::instant(at)));
                                let used = t
                                    .last_used_at
                                    .as_deref()
                                    .map_or_else(|| "never used".to_string(), |at| format!("last used {}", format::instant(at)));
                                view! {
                                    <li class:revoked=t.revoked>
                                        <div>
                                            <strong>{t.name.clone()}</strong>
                                            " " <code>{format!("{}…", t.prefix)}</code>
                                            {t.revoked.then(|| view! { <span class="badge">"revoked"</span> })}
                                        </div>
                                        <div class="muted small">{format!("{does} · created {} · {used}{ends}", format::instant(&t.created_at))}</div>
                                        {(!t.revoked)
                                            .then(|| {
                                                view! {
                                                    <form method="post" action=format!("/settings/tokens/{}/revoke", t.id)>
                                                        <button type="submit" class="button quiet danger">"Revoke"</button>
                                                    </form>
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}
