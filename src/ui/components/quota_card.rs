//! One quota meter's day: used, remaining, and today's budget.

use leptos::prelude::*;

use crate::{
    domain::units::{Precision, format_amount, format_percent},
    dto::QuotaMeterView,
};

#[component]
pub fn QuotaCard(
    meter: QuotaMeterView,
    precision: RwSignal<Precision>,
    primary: bool,
) -> impl IntoView {
    let s = meter.snapshot;
    let unit = StoredValue::new(meter.unit.clone());
    let amount = move |v: f64| unit.with_value(|u| format_amount(v, u, precision.get()));
    let over = s.is_over_quota();
    let remaining_label = if over { "Over by" } else { "Remaining" };
    let remaining_value = s.remaining.abs();
    let today_over = s.left_today < 0.0;
    let heading_id = format!("meter-{}", meter.meter_id);
    let labelled_by = heading_id.clone();
    let days = if s.days_left == 1 {
        "last day of this period".to_string()
    } else {
        format!("{} days left, until {}", s.days_left, meter.period_last_day)
    };
    view! {
        <section
            class=if primary { "card quota primary" } else { "card quota" }
            aria-labelledby=labelled_by
            data-testid="quota-card"
        >
            <h2 id=heading_id>{meter.name.clone()}</h2>
            <div class="budget">
                <span class="label">"Today's budget"</span>
                <strong class="big" data-testid="daily-budget">{move || amount(s.daily_budget)}</strong>
                <span class=if today_over { "left over" } else { "left" } data-testid="left-today">
                    {move || {
                        if today_over {
                            format!("{} over today's budget", amount(-s.left_today))
                        } else {
                            format!("{} left today", amount(s.left_today))
                        }
                    }}
                </span>
            </div>
            <progress max="1" value=s.fraction_used.clamp(0.0, 1.0) aria-label="Share of quota used">
                {format_percent(s.fraction_used)}
            </progress>
            <dl class="figures">
                <div>
                    <dt>"Used"</dt>
                    <dd data-testid="used">{move || amount(s.used)}</dd>
                </div>
                <div>
                    <dt>{remaining_label}</dt>
                    <dd data-testid="remaining" class:over=over>{move || amount(remaining_value)}</dd>
                </div>
                <div>
                    <dt>"Used today"</dt>
                    <dd>{move || amount(s.used_today)}</dd>
                </div>
                <div>
                    <dt>"Quota"</dt>
                    <dd>{move || amount(s.quota)}</dd>
                </div>
            </dl>
            <p class="muted small">{format!("{} used · {days}", format_percent(s.fraction_used))}</p>
        </section>
    }
}
