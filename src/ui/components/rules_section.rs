//! The meter page's "Notifications" card: the meter's rules, for its owner to change.

use leptos::prelude::*;

use crate::{dto::notify::MeterRules, ui::components::field::Field};

#[component]
pub fn RulesSection(meter_id: i64, rules: MeterRules) -> impl IntoView {
    let s = rules.settings;
    let levels = s
        .quota_levels
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let quota = rules.kind == "quota";
    view! {
        <details class="card" id="rules">
            <summary>"Notifications" <span class="muted">"when this meter tells you and your household"</span></summary>
            <form method="post" action=format!("/meters/{meter_id}/rules") class="stack" data-testid="rules-form">
                <label class="choice">
                    <input type="checkbox" name="enabled" value="true" checked=s.enabled />
                    " Notify about this meter"
                </label>
                {if quota {
                    view! {
                        <Field form="rules" name="quota_levels" label="Levels of the quota used (%)" initial=levels hint="Comma-separated, e.g. 80, 90, 100." />
                        <label class="choice">
                            <input type="checkbox" name="over_today" value="true" checked=s.over_today />
                            " When today's budget is used up"
                        </label>
                        <label class="choice">
                            <input type="checkbox" name="run_out" value="true" checked=s.run_out />
                            " When the quota would run out before the period ends"
                        </label>
                        <input type="hidden" name="range_minutes" value=s.range_minutes.to_string() />
                    }
                        .into_any()
                } else {
                    view! {
                        <Field form="rules" name="range_minutes" label="Minutes out of the normal range before telling" input_type="number" initial=s.range_minutes.to_string() />
                        <input type="hidden" name="quota_levels" value=levels />
                    }
                        .into_any()
                }}
                <Field form="rules" name="collector_failures" label="Failed collections in a row before telling" input_type="number" initial=s.collector_failures.to_string() />
                <button type="submit" class="button">"Save notifications"</button>
            </form>
        </details>
    }
}
