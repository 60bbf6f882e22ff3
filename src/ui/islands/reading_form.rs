//! The meter page's "Add a reading" form. Online it is a plain form post (and works before
//! the WebAssembly arrives); offline the reading is kept on this device and sent when the
//! browser is back online (see `ui::offline` and `islands::app_status`).

use leptos::prelude::*;

/// `children`: the form's fields and button, rendered on the server.
#[island]
pub fn ReadingForm(meter_id: i64, viewer: i64, children: Children) -> impl IntoView {
    let note = RwSignal::new(None::<String>);
    // Back online, `AppStatus` sends the queue and says so; this note is then out of date.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let handle = window_event_listener(leptos::ev::online, move |_| note.set(None));
            on_cleanup(move || handle.remove());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;

            use crate::ui::offline::{QueuedReading, browser};
            if browser::online() {
                return;
            }
            ev.prevent_default();
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Ok(data) = web_sys::FormData::new_with_form(&form) else {
                return;
            };
            let field = |name: &str| data.get(name).as_string().unwrap_or_default();
            let value = field("value").trim().to_string();
            if value.is_empty() {
                note.set(Some("Enter the value first.".into()));
                return;
            }
            browser::enqueue(QueuedReading {
                key: browser::new_key(),
                user: viewer,
                meter_id,
                value,
                timestamp: field("timestamp"),
                at: browser::now_ms() / 1000,
                action: None,
                fields: Vec::new(),
            });
            form.reset();
            let n = browser::pending(viewer);
            note.set(Some(format!(
                "You are offline: the reading is saved on this device and will be sent when you are back online ({n} waiting)."
            )));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, meter_id, viewer);
    };
    view! {
        <form
            method="post"
            action=format!("/meters/{meter_id}/readings")
            class="stack"
            data-testid="reading-form"
            on:submit=on_submit
        >
            {children()}
            <p class="notice" role="status" hidden=move || note.get().is_none() data-testid="reading-queued">
                {move || note.get()}
            </p>
        </form>
    }
}
