//! Around the notifications list: "Mark read" and "Mark all read" are plain form posts
//! online (and before the WebAssembly arrives); offline the post is kept on this device,
//! the page shows the notification read, and `AppStatus` sends it once the browser is
//! online again (see `ui::offline`). One listener for all the list's forms: submit
//! events bubble.

use leptos::prelude::*;

/// `children`: the list and its forms, rendered on the server.
#[island]
pub fn InboxActions(viewer: i64, children: Children) -> impl IntoView {
    let note = RwSignal::new(None::<String>);
    // Set once this runs in the browser: from then on an offline post is kept.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;

            use crate::ui::offline::{QueuedReading, browser};
            if browser::online() {
                return;
            }
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Some(action) = form.get_attribute("action") else {
                return;
            };
            ev.prevent_default();
            let mut fields = Vec::new();
            if let Ok(Some(input)) = form.query_selector("input[name=up_to]")
                && let Some(v) = input.get_attribute("value")
            {
                fields.push(("up_to".to_string(), v));
            }
            let all = action.ends_with("/read-all");
            browser::enqueue(QueuedReading {
                key: browser::new_key(),
                user: viewer,
                meter_id: 0,
                value: String::new(),
                timestamp: String::new(),
                at: browser::now_ms() / 1000,
                action: Some(action),
                fields,
            });
            // Show it read here and now: the item (or every item) loses its mark, and
            // the form that did it goes away.
            let unmark = |el: web_sys::Element| {
                let class = el.get_attribute("class").unwrap_or_default();
                let kept: Vec<&str> = class.split(' ').filter(|c| *c != "unread").collect();
                let _ = el.set_attribute("class", &kept.join(" "));
                if let Ok(Some(f)) = el.query_selector("form") {
                    let _ = f.set_attribute("hidden", "");
                }
            };
            if all {
                if let Some(doc) = web_sys::window().and_then(|w| w.document())
                    && let Ok(items) = doc.query_selector_all(".notifications li.unread")
                {
                    for i in 0..items.length() {
                        if let Some(el) = items
                            .item(i)
                            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                        {
                            unmark(el);
                        }
                    }
                }
                let _ = form.set_attribute("hidden", "");
            } else if let Ok(Some(item)) = form.closest("li") {
                unmark(item);
            }
            note.set(Some(
                "You are offline: marked read on this device; it is sent when you are back online."
                    .into(),
            ));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, viewer);
    };
    view! {
        <div on:submit=on_submit data-testid="inbox" data-hydrated=move || hydrated.get().then_some("true")>
            {children()}
            <p class="notice" role="status" hidden=move || note.get().is_none() data-testid="inbox-queued">
                {move || note.get()}
            </p>
        </div>
    }
}
