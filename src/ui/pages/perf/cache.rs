//! `/admin/performance/cache`: the cache's tiers and strategies, and clearing by pattern.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::shared::{PerfShell, Section, figures, ms, pct, table, with_report};

#[component]
pub fn PerfCachePage() -> impl IntoView {
    let query = use_query_map();
    let cleared = move || query.with(|q| q.get("cleared"));
    let invalid = move || query.with(|q| q.get("invalid")).is_some();
    view! {
        <PerfShell section=Section::Cache>
            {move || cleared().map(|n| view! { <p class="notice" role="status">{format!("Cleared {n} entries from this instance's memory tier (and Redis, when configured).")}</p> })}
            {move || invalid().then(|| view! { <p class="notice error" role="alert">"A pattern is a key, or a prefix ending in a single * (like outlook:*)."</p> })}
            {with_report(5, |r| {
                let c = &r.metrics.cache;
                let strategies = c
                    .strategies
                    .iter()
                    .map(|s| vec![
                        s.strategy.clone(),
                        s.ttl_secs.to_string(),
                        s.hits.to_string(),
                        s.replay_hits.to_string(),
                        s.misses.to_string(),
                        pct(s.hit_rate),
                        s.computations.to_string(),
                        ms(s.mean_compute_ms),
                    ])
                    .collect();
                view! {
                    <section class="card">
                        <h2>"Cache"</h2>
                        {figures(vec![
                            ("Hit rate", pct(c.hit_rate)),
                            ("Memory entries", c.memory.entries.to_string()),
                            ("Memory bytes", c.memory.bytes.to_string()),
                            ("Evicted", c.memory.evicted.to_string()),
                            ("Replay entries", c.replay.entries.to_string()),
                            ("Redis", c.redis.status.clone()),
                            ("Invalidations", c.invalidations.to_string()),
                        ])}
                        <p class="muted small">"Hits include replays: requests answered again from the replay table, without the handler."</p>
                        {table(&["Strategy", "TTL s", "Hits", "Replayed", "Misses", "Hit rate", "Computed", "Mean compute"], strategies, "cache-strategies")}
                    </section>
                }
                    .into_any()
            })}
            <section class="card">
                <h2>"Clear by pattern"</h2>
                <form method="post" action="/admin/performance/cache/clear" class="stack">
                    <label for="pattern">"Key or prefix*"</label>
                    <input id="pattern" name="pattern" placeholder="outlook:*" required />
                    <button type="submit" class="button">"Clear"</button>
                </form>
            </section>
        </PerfShell>
    }
}
