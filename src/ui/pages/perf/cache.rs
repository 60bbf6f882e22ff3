//! `/admin/performance/cache`: the cache's tiers and strategies, and clearing by pattern.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::shared::{PerfShell, Section, figures, ms, pct, rows, table, text, with_report};

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
                let c = &r["metrics"]["cache"];
                let strategies = rows(&c["strategies"])
                    .iter()
                    .map(|s| vec![
                        text(&s["strategy"]),
                        text(&s["ttl_secs"]),
                        text(&s["hits"]),
                        text(&s["replay_hits"]),
                        text(&s["misses"]),
                        pct(&s["hit_rate"]),
                        text(&s["computations"]),
                        ms(&s["mean_compute_ms"]),
                    ])
                    .collect();
                view! {
                    <section class="card">
                        <h2>"Cache"</h2>
                        {figures(vec![
                            ("Hit rate", pct(&c["hit_rate"])),
                            ("Memory entries", text(&c["memory"]["entries"])),
                            ("Memory bytes", text(&c["memory"]["bytes"])),
                            ("Evicted", text(&c["memory"]["evicted"])),
                            ("Replay entries", text(&c["replay"]["entries"])),
                            ("Redis", text(&c["redis"]["status"])),
                            ("Invalidations", text(&c["invalidations"])),
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
