//! One quota meter's day: today's budget first, then where the period is heading, and
//! what the numbers suggest.

use leptos::prelude::*;

use crate::{
    domain::units::{Precision, format_amount, format_percent},
    dto::MeterCardView,
};

#[component]
pub fn QuotaCard(
    meter: MeterCardView,
    precision: RwSignal<Precision>,
    primary: bool,
) -> impl IntoView {
    let m = StoredValue::new(meter.clone());
    let amount = move |v: f64| m.with_value(|m| format_amount(v, &m.unit, precision.get()));
    let over = meter.remaining < 0.0;
    let today_over = meter.left_today < 0.0;
    let heading_over = meter.projected_excess > 0.0;
    let heading_id = format!("meter-{}", meter.meter_id);
    let labelled_by = heading_id.clone();
    let (budget, left, used, remaining, used_today, average, projected, quota) = (
        meter.daily_budget,
        meter.left_today,
        meter.used,
        meter.remaining,
        meter.used_today,
        meter.average,
        meter.projected,
        meter.quota,
    );
    view! {
        <section
            class=if primary { "card quota primary" } else { "card quota" }
            aria-labelledby=labelled_by
            data-testid="quota-card"
        >
            <div class="row spread">
                <h2 id=heading_id>
                    {meter.name.clone()}
                    {meter.shared_by.clone().map(|owner| view! { <span class="badge shared" data-testid="shared-by">{format!("shared by {owner}")}</span> })}
                </h2>
                <span class=format!("badge status {}", meter.status)>{meter.status.clone()}</span>
            </div>
            <div class="budget">
                <span class="label">"Today's budget"</span>
                <strong class="big" data-testid="daily-budget">{move || amount(budget)}</strong>
                <span class=if today_over { "left over" } else { "left" } data-testid="left-today">
                    {move || {
                        if today_over {
                            format!("{} over today's budget", amount(-left))
                        } else {
                            format!("{} left today", amount(left))
                        }
                    }}
                </span>
            </div>
            <progress max="1" value=meter.fraction_used.clamp(0.0, 1.0) aria-label="Share of quota used">
                {format_percent(meter.fraction_used)}
            </progress>
            <dl class="figures">
                <div>
                    <dt>"Used"</dt>
                    <dd data-testid="used">{move || amount(used)}</dd>
                </div>
                <div>
                    <dt>{if over { "Over by" } else { "Remaining" }}</dt>
                    <dd data-testid="remaining" class:over=over>{move || amount(remaining.abs())}</dd>
                </div>
                <div>
                    <dt>"Used today"</dt>
                    <dd>{move || amount(used_today)}</dd>
                </div>
                <div>
                    <dt>{meter.average_label.clone()}</dt>
                    <dd data-testid="average">{move || amount(average)}</dd>
                </div>
                <div>
                    <dt>"Projected"</dt>
                    <dd data-testid="projected" class:over=heading_over>{move || amount(projected)}</dd>
                </div>
                <div>
                    <dt>"Safe days"</dt>
                    <dd data-testid="safe-days">{format!("{:.0}", meter.safe_days.floor())}</dd>
                </div>
                <div>
                    <dt title="Quota divided by projected use, at most 100 %">"Pace score"</dt>
                    <dd data-testid="pace">{format_percent(meter.pace)}</dd>
                </div>
                <div>
                    <dt>"Quota"</dt>
                    <dd>{move || amount(quota)}</dd>
                </div>
            </dl>
            {meter
                .run_out_label
                .clone()
                .map(|d| view! { <p class="notice warn" data-testid="run-out">"Runs out on " {d} " at this pace."</p> })}
            <ul class="advice">{meter.advice.clone().into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
            <p class="muted small">
                {format!("{} used · {}", format_percent(meter.fraction_used), meter.days_label)}
                " · "
                <a href=format!("/meters/{}", meter.meter_id)>"Details"</a>
            </p>
        </section>
    }
    .into_any()
}
