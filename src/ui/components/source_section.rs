//! The meter page's "Collection" section: where readings come from, and the latest attempts.

use leptos::prelude::*;

use crate::{
    dto::{AttemptView, SourceView},
    ui::{
        components::field::{Field, FieldError, feedback_for, shown_value},
        format,
    },
};

const FORM: &str = "source";

#[component]
pub fn SourceSection(
    meter_id: i64,
    source: Option<SourceView>,
    attempts: Vec<AttemptView>,
) -> impl IntoView {
    let kind = shown_value(
        FORM,
        "source_kind",
        source.as_ref().map_or("none", |s| s.kind.as_str()),
    );
    let s = source.clone();
    let get =
        move |f: fn(&SourceView) -> Option<String>| s.as_ref().and_then(f).unwrap_or_default();
    let interval = source
        .as_ref()
        .map_or("10".to_string(), |s| (s.interval_secs / 60).to_string());
    let timeout = source
        .as_ref()
        .map_or("30".to_string(), |s| s.timeout_secs.to_string());
    let scale = source
        .as_ref()
        .map_or("1".to_string(), |s| s.scale.to_string());
    let enabled = feedback_for(FORM).map_or_else(
        || source.as_ref().is_none_or(|s| s.enabled),
        |f| f.value("enabled").is_some(),
    );
    let has_token = source.as_ref().is_some_and(|s| s.has_bearer_token);
    let status = source.as_ref().map(|s| {
        let next = s
            .next_run
            .clone()
            .map_or_else(String::new, |n| format!("Next run {n}. "));
        let failing = if s.consecutive_failures > 0 {
            format!("{} failed in a row.", s.consecutive_failures)
        } else {
            String::new()
        };
        format!("{next}{failing}")
    });
    let summary = match source.as_ref().map(|s| s.kind.as_str()) {
        Some("http") => "from an HTTP endpoint",
        Some("simulator") => "simulated",
        _ => "API and by hand only",
    };
    view! {
        <details class="card stack" id="collection" open=feedback_for(FORM).is_some()>
            <summary>"Collection" <span class="muted">{summary}</span></summary>
            {status.map(|s| view! { <p class="muted small">{s}</p> })}
            <form method="post" action=format!("/meters/{meter_id}/source") class="stack" data-testid="source-form">
                <fieldset class="choices">
                    <legend>"Readings come from"</legend>
                    <label class="choice"><input type="radio" name="source_kind" value="none" checked=kind == "none" />" Nowhere automatic (API or by hand)"</label>
                    <label class="choice"><input type="radio" name="source_kind" value="http" checked=kind == "http" />" An HTTP JSON endpoint (ISP, router)"</label>
                    <label class="choice"><input type="radio" name="source_kind" value="simulator" checked=kind == "simulator" />" A simulator (for demos)"</label>
                    <FieldError form=FORM name="source_kind" />
                </fieldset>
                <Field form=FORM name="url" label="Address" initial=get(|s| s.url.clone()) input_type="url" hint="https://… — asked with GET, JSON expected. Local and private addresses are refused unless an administrator opened them." />
                <Field form=FORM name="used_path" label="Where the answer says how much is used" initial=get(|s| s.used_path.clone()) hint="A path such as data.usage.used_mb or plans[0].used." />
                <div class="row">
                    <Field form=FORM name="remaining_path" label="… how much remains (optional)" initial=get(|s| s.remaining_path.clone()) />
                    <Field form=FORM name="quota_path" label="… the plan's quota (optional)" initial=get(|s| s.quota_path.clone()) />
                </div>
                <div class="row">
                    <Field form=FORM name="scale" label="Multiply by" initial=scale hint="e.g. 1024 when the source says GB and the meter counts MB." />
                    <Field form=FORM name="interval_minutes" label="Every (minutes)" initial=interval input_type="number" />
                    <Field form=FORM name="timeout_secs" label="Timeout (seconds)" initial=timeout input_type="number" />
                </div>
                <div class="field">
                    <label for="source-headers">"Extra request headers (one per line, Name: value)"</label>
                    <textarea id="source-headers" name="headers" rows="2">{shown_value(FORM, "headers", "")}</textarea>
                    <FieldError form=FORM name="headers" />
                </div>
                <Field
                    form=FORM
                    name="bearer_token"
                    label="Bearer token"
                    input_type="password"
                    autocomplete="off"
                    hint=if has_token { "A token is stored; leave empty to keep it." } else { "Sent as Authorization: Bearer …" }
                />
                {has_token.then(|| view! { <label class="choice"><input type="checkbox" name="clear_token" value="1" />" Remove the stored token"</label> })}
                <label class="choice"><input type="checkbox" name="enabled" value="1" checked=enabled />" Collect on schedule"</label>
                <button type="submit" class="button primary">"Save collection"</button>
            </form>
            {(!attempts.is_empty()).then(|| view! { <AttemptTable attempts /> })}
        </details>
    }
    .into_any()
}

#[component]
fn AttemptTable(attempts: Vec<AttemptView>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="attempts">
                <caption class="small muted">"Latest attempts"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {attempts
                        .into_iter()
                        .map(|a| {
                            let detail = a.error.clone().or(a.http_status.map(|s| format!("HTTP {s}"))).unwrap_or_default();
                            let retry = if a.attempt > 1 { " (retry)" } else { "" };
                            view! {
                                <tr class=format!("attempt {}", a.status)>
                                    <td>{format::instant(&a.started_at)}</td>
                                    <td>{format!("{}{retry}", a.status)}</td>
                                    <td>{a.response_ms.map(|ms| format!("{ms} ms")).unwrap_or_default()}</td>
                                    <td class="wrap">{detail}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
