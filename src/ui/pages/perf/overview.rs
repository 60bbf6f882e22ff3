//! `/admin/performance`: the health score and its components, key figures, the live
//! chart, open alerts (acknowledge, resolve) and recommendations.

use leptos::prelude::*;

use super::shared::{
    PerfShell, Section, decimal, figures, or_nothing, pct, secs_as_ms, table, with_report,
};
use crate::{
    dto::perf::{LivePoint, PerfReport},
    ui::islands::perf_live::PerfLive,
};

#[component]
pub fn PerfOverviewPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Overview>
            {with_report(60, overview)}
        </PerfShell>
    }
}

fn overview(r: PerfReport) -> AnyView {
    let PerfReport {
        summary: s,
        analytics: a,
        ..
    } = r;
    let score = s.health_score;
    let status = s.status;
    let k = s.key_metrics;
    let components: Vec<Vec<String>> = s
        .components
        .iter()
        .map(|c| {
            vec![
                c.name.replace('_', " "),
                c.weight.to_string(),
                or_nothing(c.value, decimal),
                decimal(c.threshold),
                decimal(c.score),
                decimal(c.points),
            ]
        })
        .collect();
    let alerts = a.alerts;
    let recs = a.recommendations;
    let trend = a.trend.direction;
    let points: Vec<LivePoint> = a.series.iter().map(LivePoint::from).collect();
    let monitoring = s.monitoring;
    let outbox = s.outbox;
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
                ("Requests / s", decimal(k.requests_per_second)),
                ("Mean response", secs_as_ms(k.avg_response_time)),
                ("p95 response", secs_as_ms(k.p95_response_time)),
                ("Error rate", pct(k.error_rate)),
                ("Cache hit rate", pct(k.cache_hit_rate)),
                ("Memory", or_nothing(k.memory_usage_mb, |m| format!("{m:.0} MB"))),
                ("DB connections", k.db_connections.to_string()),
            ])}
        </section>
        {outbox.map(|o| view! {
            <section class="card" aria-labelledby="outbox-h" data-testid="outbox">
                <h2 id="outbox-h">"Notifications outbox"</h2>
                {figures(vec![
                    ("Waiting", o.pending.to_string()),
                    ("Oldest due", if o.oldest_due_secs > 0 { format!("{} s", o.oldest_due_secs) } else { "none".into() }),
                    ("Failed attempts (1 h)", o.failures_last_hour.to_string()),
                    ("Dead letters", o.dead.to_string()),
                ])}
            </section>
        })}
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
                                let id = al.id;
                                let sev = al.severity;
                                let acked = al.acknowledged;
                                view! {
                                    <li class=format!("alert sev-{sev}")>
                                        <span class="badge">{sev.clone()}</span>
                                        " " {al.message}
                                        " · since " {al.timestamp}
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
