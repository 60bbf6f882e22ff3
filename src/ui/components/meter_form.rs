//! The form that creates or edits a meter. A plain HTML form: quota fields and sensor
//! fields are both present, and the server uses the ones that fit the chosen kind.

use leptos::prelude::*;

use crate::{
    domain::period::ResetRule,
    dto::MeterView,
    ui::components::field::{Field, FieldError, shown_value},
};

const FORM: &str = "meter";

/// Every IANA timezone the server knows, for the timezone picker.
fn timezone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .filter(|n| n.contains('/') || n == "UTC")
        .collect();
    names.sort();
    names
}

/// The reset-rule fields' initial values from a stored rule.
struct RuleFields {
    kind: &'static str,
    day: String,
    weekday: String,
    every: String,
    anchor: String,
}

fn rule_fields(rule: Option<&str>) -> RuleFields {
    let mut f = RuleFields {
        kind: "monthly",
        day: "1".into(),
        weekday: "mon".into(),
        every: "30".into(),
        anchor: String::new(),
    };
    match rule.and_then(|r| r.parse::<ResetRule>().ok()) {
        Some(ResetRule::MonthlyOnDay(d)) => f.day = d.to_string(),
        Some(ResetRule::MonthlyOnLastDay) => f.day = "last".into(),
        Some(rule @ ResetRule::Weekly(_)) => {
            f.kind = "weekly";
            f.weekday = rule.to_string().trim_start_matches("weekly:").to_string();
        }
        Some(ResetRule::EveryNDays { days, anchor }) => {
            f.kind = "every";
            f.every = days.to_string();
            f.anchor = anchor.to_string();
        }
        None => {}
    }
    f
}

#[component]
fn Choice(value: String, label: String, selected: String) -> impl IntoView {
    let checked = value == selected;
    view! { <option value=value selected=checked>{label}</option> }
}

#[component]
pub fn MeterForm(
    /// The meter being edited; `None` to create one.
    meter: Option<MeterView>,
    action: String,
    submit: &'static str,
    /// The timezone a new meter starts with (the user's own).
    default_timezone: String,
) -> impl IntoView {
    let editing = meter.is_some();
    let m = meter.unwrap_or(MeterView {
        id: 0,
        kind: "quota".into(),
        name: String::new(),
        unit: String::new(),
        timezone: default_timezone,
        quota: None,
        reset_rule: None,
        range_min: None,
        range_max: None,
        archived: false,
        created_at: String::new(),
        latest: None,
        access: "owner".into(),
        shared_by: None,
    });
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let kind = shown_value(FORM, "kind", &m.kind);
    let rule = rule_fields(m.reset_rule.as_deref());
    let reset_kind = shown_value(FORM, "reset_kind", rule.kind);
    let day = shown_value(FORM, "reset_day", &rule.day);
    let weekday = shown_value(FORM, "reset_weekday", &rule.weekday);
    let timezone = shown_value(FORM, "timezone", &m.timezone);
    let days: Vec<(String, String)> = (1..=28)
        .map(|d| (d.to_string(), format!("day {d}")))
        .chain([("last".to_string(), "the last day".to_string())])
        .collect();
    let weekdays = [
        ("mon", "Monday"),
        ("tue", "Tuesday"),
        ("wed", "Wednesday"),
        ("thu", "Thursday"),
        ("fri", "Friday"),
        ("sat", "Saturday"),
        ("sun", "Sunday"),
    ];
    view! {
        <form method="post" action=action class="card stack" data-testid="meter-form">
            {(!editing)
                .then(|| {
                    view! {
                        <fieldset class="choices">
                            <legend>"What does it measure?"</legend>
                            <label class="choice">
                                <input type="radio" name="kind" value="quota" checked=kind == "quota" />
                                " A budget that resets (data cap, energy, money)"
                            </label>
                            <label class="choice">
                                <input type="radio" name="kind" value="sensor" checked=kind == "sensor" />
                                " A sensor (temperature, battery, …)"
                            </label>
                            <FieldError form=FORM name="kind" />
                        </fieldset>
                    }
                })}
            <Field form=FORM name="name" label="Name" initial=m.name.clone() required=true />
            <Field
                form=FORM
                name="unit"
                label="Unit"
                initial=m.unit.clone()
                required=true
                hint="MB, GB, kWh, EUR, °C … Data in MB is shown as GB and TB where it reads better."
            />
            <div class="field">
                <label for="meter-timezone">"Timezone"</label>
                <select id="meter-timezone" name="timezone">
                    {timezone_names()
                        .into_iter()
                        .map(|tz| {
                            let selected = tz == timezone;
                            view! { <option value=tz.clone() selected=selected>{tz.clone()}</option> }
                        })
                        .collect_view()}
                </select>
                <p class="hint">"Days, and resets, follow this timezone's midnight."</p>
                <FieldError form=FORM name="timezone" />
            </div>
            <fieldset class="group" data-kind="quota">
                <legend>"Budget (budgets only)"</legend>
                <Field
                    form=FORM
                    name="quota"
                    label="Amount per period"
                    initial=num(m.quota)
                    input_type="text"
                    hint="In the unit above, e.g. 1048576 for 1 TB in MB."
                />
                <div class="field">
                    <span class="label">"Starts again"</span>
                    <label class="choice">
                        <input type="radio" name="reset_kind" value="monthly" checked=reset_kind == "monthly" />
                        " every month on "
                        <select name="reset_day" aria-label="Day of the month">
                            {days
                                .into_iter()
                                .map(|(v, l)| view! { <Choice value=v label=l selected=day.clone() /> })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="choice">
                        <input type="radio" name="reset_kind" value="weekly" checked=reset_kind == "weekly" />
                        " every week on "
                        <select name="reset_weekday" aria-label="Day of the week">
                            {weekdays
                                .into_iter()
                                .map(|(v, l)| {
                                    view! {
                                        <Choice value=v.to_string() label=l.to_string() selected=weekday.clone() />
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="choice">
                        <input type="radio" name="reset_kind" value="every" checked=reset_kind == "every" />
                        " every N days"
                    </label>
                    <div class="row">
                        <Field form=FORM name="every_days" label="N (days)" initial=rule.every.clone() input_type="number" />
                        <Field form=FORM name="anchor" label="Counting from" initial=rule.anchor.clone() input_type="date" />
                    </div>
                    <FieldError form=FORM name="reset_rule" />
                </div>
            </fieldset>
            <fieldset class="group" data-kind="sensor">
                <legend>"Normal range (sensors only, optional)"</legend>
                <div class="row">
                    <Field form=FORM name="range_min" label="Lowest normal" initial=num(m.range_min) />
                    <Field form=FORM name="range_max" label="Highest normal" initial=num(m.range_max) />
                </div>
            </fieldset>
            <button type="submit" class="button primary">{submit}</button>
        </form>
    }
    // Erase the (very deep) view type: keeps compile times and type-depth limits sane.
    .into_any()
}
