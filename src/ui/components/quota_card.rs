//! One quota meter's day: today's budget first, then where the period is heading, and
//! what the numbers suggest.

use leptos::prelude::*;

use crate::domain::{
    outlook::meter::{AverageBasis, QuotaOutlook},
    units::{Precision, format_amount, format_percent},
};

fn day(d: &jiff::civil::Date) -> String {
    d.strftime("%a %-d %b").to_string()
}

#[component]
pub fn QuotaCard(
    meter: QuotaOutlook,
    precision: RwSignal<Precision>,
    primary: bool,
) -> impl IntoView {
    let s = meter.snapshot;
    let unit = StoredValue::new(meter.unit.clone());
    let amount = move |v: f64| unit.with_value(|u| format_amount(v, u, precision.get()));
    let over = s.remaining < 0.0;
    let today_over = s.left_today < 0.0;
    let heading_id = format!("meter-{}", meter.meter_id);
    let labelled_by = heading_id.clone();
    let days = if s.days_left == 1 {
        "last day of this period".to_string()
    } else {
        format!(
            "{} days left, until {}",
            s.days_left,
            day(&meter.period_last_day)
        )
    };
    let average_label = match meter.average_basis {
        AverageBasis::LastSevenDays => "7-day average",
        AverageBasis::PeriodSoFar => "Average so far",
    };
    let (projected, excess, safe_days, run_out) = (
        meter.projected_total,
        meter.projected_excess,
        meter.safe_days,
        meter.run_out,
    );
    let average = meter.average;
    let heading_over = excess > 0.0;
    let advice: Vec<String> = meter.advice.iter().map(|a| a.text(&meter.unit)).collect();
    view! {
        <section
            class=if primary { "card quota primary" } else { "card quota" }
            aria-labelledby=labelled_by
            data-testid="quota-card"
        >
            <div class="row spread">
                <h2 id=heading_id>{meter.name.clone()}</h2>
                <span class=format!("badge status {}", meter.status.as_str())>{meter.status.as_str()}</span>
            </div>
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
                    <dt>{if over { "Over by" } else { "Remaining" }}</dt>
                    <dd data-testid="remaining" class:over=over>{move || amount(s.remaining.abs())}</dd>
                </div>
                <div>
                    <dt>"Used today"</dt>
                    <dd>{move || amount(s.used_today)}</dd>
                </div>
                <div>
                    <dt>{average_label}</dt>
                    <dd data-testid="average">{move || amount(average)}</dd>
                </div>
                <div>
                    <dt>"Projected"</dt>
                    <dd data-testid="projected" class:over=heading_over>{move || amount(projected)}</dd>
                </div>
                <div>
                    <dt>"Safe days"</dt>
                    <dd data-testid="safe-days">{format!("{:.0}", safe_days.floor())}</dd>
                </div>
                <div>
                    <dt>"Pace"</dt>
                    <dd data-testid="pace">{format_percent(meter.pace)}</dd>
                </div>
                <div>
                    <dt>"Quota"</dt>
                    <dd>{move || amount(s.quota)}</dd>
                </div>
            </dl>
            {run_out.map(|d| view! { <p class="notice warn" data-testid="run-out">"Runs out on " {day(&d)} " at this pace."</p> })}
            <ul class="advice">{advice.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
            <p class="muted small">
                {format!("{} used · {days}", format_percent(s.fraction_used))}
                " · "
                <a href=format!("/meters/{}", meter.meter_id)>"Details"</a>
            </p>
        </section>
    }
    .into_any()
}
