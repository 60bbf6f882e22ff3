//! On every page: registers the service worker, offers "update ready — reload" when a new
//! version has installed, and sends the readings queued offline once the browser is online
//! again. Renders nothing until there is something to say.

use leptos::prelude::*;

/// `viewer`: the signed-in person's id, or none on the sign-in page (which forgets the
/// last person's offline outlook).
#[island]
pub fn AppStatus(viewer: Option<i64>) -> impl IntoView {
    let update_ready = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use crate::ui::offline::browser;
            browser::register(update_ready);
            match viewer {
                None => browser::forget_outlook(),
                Some(user) => {
                    let send = move || {
                        if !browser::online() || browser::pending(user) == 0 {
                            return;
                        }
                        leptos::task::spawn_local(async move {
                            let (sent, other, refused) = browser::replay(user).await;
                            let plural = |n: usize| if n == 1 { "reading" } else { "readings" };
                            let mut parts = Vec::new();
                            if sent > 0 {
                                parts.push(format!("Sent {sent} {} saved offline.", plural(sent)));
                            }
                            if other > 0 {
                                parts.push(format!("Sent {other} change(s) made offline."));
                            }
                            if refused > 0 {
                                parts.push(format!(
                                    "{refused} {} saved offline could not be accepted.",
                                    plural(refused)
                                ));
                            }
                            if !parts.is_empty() {
                                note.set(Some(parts.join(" ")));
                                set_timeout(
                                    move || note.set(None),
                                    std::time::Duration::from_secs(8),
                                );
                            }
                        });
                    };
                    send();
                    let handle = window_event_listener(leptos::ev::online, move |_| send());
                    on_cleanup(move || handle.remove());
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (viewer, note);
    });

    let reload = move |_| {
        #[cfg(feature = "hydrate")]
        crate::ui::offline::browser::apply_update();
    };

    view! {
        <div class="app-status" role="status" aria-live="polite" data-testid="app-status">
            <Show when=move || update_ready.get()>
                <p class="toast" data-testid="update-ready">
                    "Update ready — "
                    <button type="button" class="button primary" on:click=reload>"Reload"</button>
                </p>
            </Show>
            {move || note.get().map(|text| view! { <p class="toast" data-testid="replayed">{text}</p> })}
        </div>
    }
}
