//! `/notifications`: what the rules told, newest first, marked read one by one or all at
//! once; quiet hours; the webhook (its secret shown once, a test button); the devices
//! notified by Web Push; every delivery attempt and the dead letters, with a button to
//! send one again. Plain forms: it works without JavaScript. What JavaScript adds here
//! (marking read offline, subscribing this device to Web Push) is `/notifications.js`,
//! loaded by this page alone rather than carried in every page's WebAssembly.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    dto::notify::{
        Deliveries, NewWebhook, Notification, NotifySettings, PushDevice, Webhook, WebhookTest,
    },
    server_fns::notify::notifications_page,
    ui::{
        components::{field::Field, header::AppHeader},
        format,
    },
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let query = use_query_map();
    let before = move || query.with(|q| q.get("before").and_then(|b| b.parse::<i64>().ok()));
    let page = Resource::new(before, notifications_page);
    // Present only on the answer to the form that set it: the secret is shown once.
    let created = use_context::<NewWebhook>();
    let tested = use_context::<WebhookTest>();
    view! {
        <Title text="Notifications · Headroom" />
        <AppHeader />
        <main class="page" id="main">
            <h1>"Notifications"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let (created, tested) = (created.clone(), tested.clone());
                    Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! {
                            <NotificationList items=p.list.items unread=p.list.unread next_before=p.list.next_before />
                            <QuietHoursForm settings=p.settings />
                            <WebhookSection webhook=p.webhook created tested />
                            <PushSection key=p.push_key devices=p.push_devices />
                            <DeliveryLog deliveries=p.deliveries />
                        }
                        .into_any(),
                        Err(_) => view! { <p class="muted">"Your notifications could not be loaded."</p> }.into_any(),
                    }
                    })
                }}
            </Suspense>
            <script type="module" src="/notifications.js"></script>
        </main>
    }
}

#[component]
fn NotificationList(
    items: Vec<Notification>,
    unread: i64,
    next_before: Option<i64>,
) -> impl IntoView {
    let newest = items.first().map(|n| n.id);
    let viewer = use_context::<crate::dto::SessionUser>().map_or(0, |u| u.id);
    view! {
        <section class="card" aria-labelledby="inbox-title">
            <div data-testid="inbox" data-viewer=viewer>
            <div class="row spread">
                <h2 id="inbox-title">
                    {if unread > 0 { format!("{unread} unread") } else { "All read".to_string() }}
                </h2>
                {(unread > 0).then(|| view! {
                    <form method="post" action="/notifications/read-all" class="inline" data-testid="read-all">
                        <input type="hidden" name="up_to" value=newest.map(|n| n.to_string()).unwrap_or_default() />
                        <button type="submit" class="button quiet">"Mark all read"</button>
                    </form>
                })}
            </div>
            {if items.is_empty() {
                view! {
                    <p class="muted">
                        "Nothing yet. You are told when a quota reaches 80, 90 and 100 %, when today's budget is used up, "
                        "when a quota would run out before its period ends, when a sensor leaves its normal range "
                        "and when a collector keeps failing. Each meter's page lets its owner change that."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="notifications" data-testid="notifications">
                        {items
                            .into_iter()
                            .map(|n| {
                                let unread = n.read_at.is_none();
                                view! {
                                    <li class:unread=unread class:urgent=n.urgent data-rule=n.rule.clone()>
                                        <div class="stack-tight">
                                            <strong>{n.title.clone()}</strong>
                                            <span>{n.body.clone()}</span>
                                            <span class="muted small">
                                                {format::datetime(n.created_at)}
                                                {n.meter_id.map(|m| view! { " · " <a href=format!("/meters/{m}")>"Open the meter"</a> })}
                                            </span>
                                        </div>
                                        {unread.then(|| view! {
                                            <form method="post" action=format!("/notifications/{}/read", n.id) class="inline">
                                                <button type="submit" class="button quiet">"Mark read"</button>
                                            </form>
                                        })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            {next_before.map(|b| view! { <p><a href=format!("/notifications?before={b}")>"Older"</a></p> })}
            <p class="notice" role="status" hidden data-testid="inbox-queued"></p>
            </div>
        </section>
    }
}

#[component]
fn QuietHoursForm(settings: NotifySettings) -> impl IntoView {
    view! {
        <form method="post" action="/notifications/settings" class="card stack" data-testid="quiet-hours">
            <h2>"Quiet hours"</h2>
            <p class="muted">
                "Between these times (" {settings.timezone.clone()} ") nothing is sent to your webhook or devices; what comes up is sent "
                "as one digest when they end. Leave both empty for none."
            </p>
            <div class="row">
                <Field form="quiet" name="quiet_start" label="From" input_type="time" initial=settings.quiet_start.clone().unwrap_or_default() />
                <Field form="quiet" name="quiet_end" label="Until" input_type="time" initial=settings.quiet_end.clone().unwrap_or_default() />
            </div>
            <label class="choice">
                <input type="checkbox" name="urgent_through" value="true" checked=settings.urgent_through />
                " Send urgent ones anyway (a quota used up, or running out before the period ends)"
            </label>
            <button type="submit" class="button">"Save quiet hours"</button>
        </form>
    }
}

#[component]
fn WebhookSection(
    webhook: Option<Webhook>,
    created: Option<NewWebhook>,
    tested: Option<WebhookTest>,
) -> impl IntoView {
    view! {
        <section class="card stack" aria-labelledby="webhook-title">
            <h2 id="webhook-title">"Webhook"</h2>
            <p class="muted">
                "Each notification is posted as JSON, signed: " <code>"Headroom-Signature: sha256=…"</code>
                " is HMAC-SHA256 with your secret over " <code>"<Headroom-Timestamp>:<body>"</code>
                ". A retry carries the same " <code>"Idempotency-Key"</code>
                "; failures are retried for a day, then listed below as dead letters."
            </p>
            {created.map(|c| view! {
                <div class="notice-strong" role="status">
                    <p>"Webhook saved. Copy its secret now: it is shown this once."</p>
                    <p><code class="secret" data-testid="webhook-secret">{c.secret}</code></p>
                </div>
            })}
            {tested.map(|t| {
                let text = match (t.outcome.as_str(), t.http_status) {
                    ("sent", Some(code)) => format!("Test sent: answered {code} in {} ms.", t.latency_ms),
                    (_, _) => format!("Test not delivered: {}.", t.error.unwrap_or_else(|| t.outcome.clone())),
                };
                view! { <p class="notice" role="status" data-testid="webhook-test">{text}</p> }
            })}
            <form method="post" action="/notifications/webhook" class="stack">
                <Field form="webhook" name="url" label="Address" input_type="url" initial=webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default() hint="https://… Saving makes a new secret." />
                <button type="submit" class="button primary">"Save webhook"</button>
            </form>
            {webhook.map(|_| view! {
                <div class="row">
                    <form method="post" action="/notifications/webhook/test" class="inline">
                        <button type="submit" class="button">"Send a test"</button>
                    </form>
                    <form method="post" action="/notifications/webhook/delete" class="inline">
                        <button type="submit" class="button quiet">"Remove webhook"</button>
                    </form>
                </div>
            })}
        </section>
    }
}

#[component]
fn PushSection(key: String, devices: Vec<PushDevice>) -> impl IntoView {
    view! {
        <section class="card stack" aria-labelledby="push-title">
            <h2 id="push-title">"This phone or computer"</h2>
            <p class="muted">
                "Notifications can also pop up on your devices, even when Headroom is closed. "
                "A device that was offline gets each meter's latest news, not a backlog; quiet hours apply."
            </p>
            // Shown by /notifications.js where the browser can take push messages.
            <div class="stack-tight" data-testid="push-subscribe" data-key=key hidden>
                <button type="button" class="button">"Notify this device"</button>
                <p class="notice" role="status" hidden></p>
            </div>
            {(!devices.is_empty()).then(|| view! {
                <ul class="plain" data-testid="push-devices">
                    {devices.into_iter().map(|d| view! {
                        <li class="row spread">
                            <span>{format!("Via {}, since ", d.service)}{format::datetime(d.created_at)}</span>
                            <form method="post" action=format!("/notifications/devices/{}/delete", d.id) class="inline">
                                <button type="submit" class="button quiet">"Stop notifying"</button>
                            </form>
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn DeliveryLog(deliveries: Deliveries) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="log-title">
            <h2 id="log-title">"Deliveries"</h2>
            {(!deliveries.dead_letters.is_empty()).then(|| view! {
                <h3>"Dead letters"</h3>
                <ul class="plain" data-testid="dead-letters">
                    {deliveries.dead_letters.into_iter().map(|d| view! {
                        <li class="row spread">
                            <span>
                                {format!("{} notification(s), {} attempt(s), first due ", d.notifications, d.attempts)}
                                {format::datetime(d.first_due)}
                            </span>
                            <form method="post" action=format!("/notifications/deliveries/{}/resend", d.id) class="inline">
                                <button type="submit" class="button">"Send again"</button>
                            </form>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {if deliveries.attempts.is_empty() {
                view! { <p class="muted">"No deliveries yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col">"HTTP"</th>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Next try"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {deliveries.attempts.into_iter().map(|a| view! {
                                    <tr>
                                        <td>{format::datetime(a.at)}</td>
                                        <td>{a.error.map_or(a.outcome.clone(), |e| format!("{}: {e}", a.outcome))}</td>
                                        <td>{a.http_status.map(|s| s.to_string()).unwrap_or_default()}</td>
                                        <td>{a.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
                                        <td>{a.next_at.map(format::datetime).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}
