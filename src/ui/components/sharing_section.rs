//! The meter page's "Sharing" section, for the meter's owner: the whole household as
//! viewers or editors, or chosen members. Without a household there is no one to share
//! with, and the section says how to get one.

use leptos::prelude::*;

use crate::{
    dto::MeterSharing,
    ui::components::field::{FieldError, shown_value},
};

const FORM: &str = "sharing";

fn role_select(name: String, label: String, current: String) -> impl IntoView {
    let id = format!("sharing-{name}");
    let chosen = shown_value(FORM, &name, &current);
    let option = move |value: &'static str, text: &'static str| {
        view! { <option value=value selected=chosen == value>{text}</option> }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name>
                {option("none", "Not shared")}
                {option("viewer", "Can view")}
                {option("editor", "Can view and add readings")}
            </select>
        </div>
    }
}

#[component]
pub fn SharingSection(meter_id: i64, sharing: MeterSharing) -> impl IntoView {
    let shared =
        sharing.household_role.is_some() || sharing.members.iter().any(|m| m.role.is_some());
    let summary = if sharing.household_id.is_none() {
        "not in a household"
    } else if shared {
        "shared"
    } else {
        "only you"
    };
    view! {
        <details class="card" id="sharing">
            <summary>"Sharing" <span class="muted">{summary}</span></summary>
            {if sharing.household_id.is_none() {
                view! {
                    <p class="muted">
                        "You are not in a household yet. An administrator can add you to one; then you can share this meter with its members."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <form method="post" action=format!("/meters/{meter_id}/sharing") class="stack">
                        {role_select(
                            "household_role".into(),
                            "Everyone in your household".into(),
                            sharing.household_role.clone().unwrap_or_else(|| "none".into()),
                        )}
                        <FieldError form=FORM name="household_role" />
                        {sharing
                            .members
                            .iter()
                            .map(|m| {
                                role_select(
                                    format!("member_{}", m.user_id),
                                    m.display_name.clone(),
                                    m.role.clone().unwrap_or_else(|| "none".into()),
                                )
                            })
                            .collect_view()}
                        <FieldError form=FORM name="members" />
                        <p class="muted">"Whoever can view sees this meter in their outlook, charts and exports, marked as yours. Only you can archive it, share it or set up its collection."</p>
                        <button type="submit" class="button">"Save sharing"</button>
                    </form>
                }
                    .into_any()
            }}
        </details>
    }
}
