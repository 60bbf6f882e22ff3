//! Below the meters: what to do now, the streak, the tip of the day, and the sensors.

use leptos::prelude::*;

use crate::{
    domain::{
        outlook::{Outlook, sensor::SensorLine},
        units::{Precision, format_amount},
    },
    ui::format,
};

#[component]
pub fn DayNotes(outlook: Outlook) -> impl IntoView {
    view! {
        {(!outlook.quick_actions.is_empty())
            .then(|| {
                view! {
                    <section class="card" aria-labelledby="actions-title" data-testid="quick-actions">
                        <h2 id="actions-title">"Now"</h2>
                        <ul class="actions">
                            {outlook
                                .quick_actions
                                .iter()
                                .map(|a| view! { <li><a class="button" href=a.href.clone()>{a.label.clone()}</a></li> })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })}
        {outlook.encouragement.clone().map(|e| view! { <p class="card encouragement" data-testid="encouragement">{e}</p> })}
        {outlook
            .tip
            .clone()
            .map(|t| {
                view! {
                    <section class="card tip" aria-labelledby="tip-title" data-testid="tip">
                        <h2 id="tip-title">"Tip of the day: " {t.title}</h2>
                        <p>{t.text}</p>
                    </section>
                }
            })}
        {(!outlook.sensors.is_empty())
            .then(|| {
                view! {
                    <section class="card" aria-labelledby="sensors-title">
                        <h2 id="sensors-title">"Sensors"</h2>
                        <ul class="sensors">
                            {outlook.sensors.iter().map(|s| view! { <SensorItem sensor=s.clone() /> }).collect_view()}
                        </ul>
                    </section>
                }
            })}
    }
    .into_any()
}

#[component]
fn SensorItem(sensor: SensorLine) -> impl IntoView {
    let a = |v: f64| format_amount(v, &sensor.unit, Precision::Compact);
    let now = sensor
        .latest
        .map_or_else(|| "no readings yet".to_string(), a);
    let when = sensor.latest_at.map(|t| {
        let rfc = jiff::Timestamp::from_second(t)
            .map(|t| t.to_string())
            .unwrap_or_default();
        format!(" at {}", format::instant(&rfc))
    });
    let today = sensor
        .today_min
        .zip(sensor.today_max)
        .map(|(lo, hi)| format!("today {} – {}", a(lo), a(hi)));
    view! {
        <li class:alert=sensor.out_of_range data-testid="sensor">
            <a href=format!("/meters/{}", sensor.meter_id)><strong>{sensor.name.clone()}</strong></a>
            " " {now} {when}
            {today.map(|t| view! { <span class="muted small">" · " {t}</span> })}
            {sensor.out_of_range.then(|| view! { <span class="badge status concern">"out of range"</span> })}
            {sensor.shared_by.clone().map(|owner| view! { <span class="badge shared">{format!("shared by {owner}")}</span> })}
        </li>
    }
}
