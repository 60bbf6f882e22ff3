//! Labelled form fields that show, after a failed submit, the value as typed and the
//! message for that field (see `dto::FormFeedback`).

use leptos::prelude::*;

use crate::dto::FormFeedback;

/// The feedback for `form`, if the page is a re-render of that form.
pub fn feedback_for(form: &str) -> Option<FormFeedback> {
    use_context::<FormFeedback>().filter(|f| f.form == form)
}

/// The value to show in `name`: as typed if the form came back, else `initial`.
pub fn shown_value(form: &str, name: &str, initial: &str) -> String {
    feedback_for(form)
        .and_then(|f| f.value(name).map(str::to_owned))
        .unwrap_or_else(|| initial.to_string())
}

/// The message under a field, linked to it for screen readers.
#[component]
pub fn FieldError(#[prop(into)] form: String, name: &'static str) -> impl IntoView {
    feedback_for(&form)
        .and_then(|f| f.error(name).map(str::to_owned))
        .map(|message| {
            view! {
                <p class="field-error" id=format!("{name}-error") role="alert">
                    {message}
                </p>
            }
        })
}

/// A text or number input with its label, hint and error.
#[component]
pub fn Field(
    #[prop(into)] form: String,
    name: &'static str,
    label: &'static str,
    #[prop(optional, into)] initial: String,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] step: Option<&'static str>,
    #[prop(optional)] list: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let has_error = feedback_for(&form).is_some_and(|f| f.error(name).is_some());
    let id = format!("{form}-{name}");
    let hint_id = hint.map(|_| format!("{name}-hint"));
    let described = match (has_error, &hint_id) {
        (true, Some(h)) => Some(format!("{name}-error {h}")),
        (true, None) => Some(format!("{name}-error")),
        (false, h) => h.clone(),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=input_type
                value=shown_value(&form, name, &initial)
                required=required
                step=step
                list=list
                autocomplete=autocomplete
                aria-invalid=has_error.then_some("true")
                aria-describedby=described
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <FieldError form name />
        </div>
    }
    .into_any()
}
