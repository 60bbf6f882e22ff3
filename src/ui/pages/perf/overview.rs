//! `/admin/performance`: the health score and its components, key figures, the live
//! chart, open alerts (acknowledge, resolve) and recommendations.

use leptos::prelude::*;
use serde_json::Value;

use super::shared::{PerfShell, Section, figures, pct, rows, secs_as_ms, table, text, with_report};
use crate::{dto::LivePoint, ui::islands::perf_live::PerfLive};

#[component]
pub fn PerfOverviewPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Overview>
            {with_report(60, overview)}
        </PerfShell>
    }
}

fn overview(r: Value) -> AnyView {
    let s = &r["summary"];
    let a = &r["analytics"];
    let score = s["health_score"].as_u64().unwrap_or(0);
    let status = s["status"].as_str().unwrap_or("unknown").to_owned();
    let k = &s["key_metrics"];
    let components: Vec<Vec<String>> = rows(&s["components"])
        .iter()
        .map(|c| {
            vec![
                c["name"].as_str().unwrap_or("").replace('_', " "),
                text(&c["weight"]),
                text(&c["value"]),
                text(&c["threshold"]),
                text(&c["score"]),
                text(&c["points"]),
            ]
        })
        .collect();
    let alerts = rows(&a["alerts"]);
    let recs: Vec<String> = rows(&a["recommendations"])
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let trend = a["trend"]["direction"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned();
    let points: Vec<LivePoint> = rows(&a["series"])
        .into_iter()
        .filter_map(|p| serde_json::from_value(p).ok())
        .collect();
    let monitoring = s["monitoring"].as_bool().unwrap_or(true);
    view! {
        {(!monitoring).then(|| view! { <p class="notice" role="status">"Monitoring is switched off (HEADROOM_MONITORING=false): nothing is being collected."</p> })}
        <section class="card perf-score" aria-labelledby="score-h">
            <h2 id="score-h">"Health"</h2>
            <p class="perf-score-value">
                <strong data-testid="health-score" data-status=status.clone()>{score}</strong>
                <span>" / 100 · " {status} " · trend: " <span data-testid="trend">{trend}</span></span>
            </p>
            {table(&["Component", "Weight", "Value", "Threshold", "Score", "Points"], components, "components")}
        </section>
        <section class="card" aria-labelledby="key-h">
            <h2 id="key-h">"Key figures (last minute)"</h2>
            {figures(vec![
                ("Requests / s", text(&k["requests_per_second"])),
                ("Mean response", secs_as_ms(&k["avg_response_time"])),
                ("p95 response", secs_as_ms(&k["p95_response_time"])),
                ("Error rate", pct(&k["error_rate"])),
                ("Cache hit rate", pct(&k["cache_hit_rate"])),
                ("Memory", k["memory_usage_mb"].as_f64().map_or("—".into(), |m| format!("{m:.0} MB"))),
                ("DB connections", text(&k["db_connections"])),
            ])}
        </section>
        <section class="card" aria-labelledby="live-h">
            <h2 id="live-h">"Live"</h2>
            <PerfLive points=points />
        </section>
        <section class="card" aria-labelledby="alerts-h">
            <h2 id="alerts-h">"Open alerts"</h2>
            {if alerts.is_empty() {
                view! { <p class="muted" data-testid="no-alerts">"No open alerts."</p> }.into_any()
            } else {
                view! {
                    <ul class="perf-alerts" data-testid="alerts">
                        {alerts
                            .into_iter()
                            .map(|al| {
                                let id = al["id"].as_i64().unwrap_or(0);
                                let sev = al["severity"].as_str().unwrap_or("low").to_owned();
                                let acked = al["acknowledged"].as_bool().unwrap_or(false);
                                view! {
                                    <li class=format!("alert sev-{sev}")>
                                        <span class="badge">{sev.clone()}</span>
                                        " " {al["message"].as_str().unwrap_or("").to_owned()}
                                        " · since " {al["timestamp"].as_str().unwrap_or("").to_owned()}
                                        {acked.then_some(" · acknowledged")}
                                        <form method="post" action=format!("/admin/performance/alerts/{id}") class="inline">
                                            {(!acked).then(|| view! { <button type="submit" name="action" value="acknowledge" class="button quiet">"Acknowledge"</button> })}
                                            <button type="submit" name="action" value="resolve" class="button quiet">"Resolve"</button>
                                        </form>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <section class="card" aria-labelledby="recs-h">
            <h2 id="recs-h">"Recommendations"</h2>
            <ul data-testid="recommendations">{recs.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
        </section>
    }
    .into_any()
}
