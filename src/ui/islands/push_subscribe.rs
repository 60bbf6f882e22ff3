//! "Notify this device": asks the browser for permission to show notifications,
//! subscribes its push manager (through the service worker) with the server's VAPID key,
//! and posts the subscription to `/api/v1/push/subscriptions`. Web Push needs JavaScript
//! and a service worker, so the button appears only once this island runs.

use leptos::prelude::*;

/// `key`: the server's VAPID public key, base64url (`/api/v1/push/key`).
#[island]
pub fn PushSubscribe(key: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let busy = RwSignal::new(false);
    let note = RwSignal::new(None::<&'static str>);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let key = key.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let said = match browser::subscribe(&key).await {
                    Ok(()) => "This device will be notified. Reload to see it listed.",
                    Err(why) => why,
                };
                note.set(Some(said));
                busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &key;
    };
    view! {
        <div class="stack-tight" data-testid="push-subscribe" hidden=move || !hydrated.get()>
            <button type="button" class="button" on:click=on_click disabled=move || busy.get()>
                "Notify this device"
            </button>
            <p class="notice" role="status" hidden=move || note.get().is_none()>{move || note.get()}</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// base64url (no padding) to bytes; `None` on any other character.
    fn unbase64url(s: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in s.trim_end_matches('=').bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        Some(out)
    }

    async fn wait(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
        JsFuture::from(promise?).await
    }

    pub async fn subscribe(key: &str) -> Result<(), &'static str> {
        const UNSUPPORTED: &str = "This browser cannot receive push messages (on iPhone and iPad: add Headroom to the home screen first).";
        let window = web_sys::window().ok_or(UNSUPPORTED)?;
        let permission = wait(web_sys::Notification::request_permission())
            .await
            .map_err(|_| UNSUPPORTED)?;
        if permission.as_string().as_deref() != Some("granted") {
            return Err(
                "Notifications are blocked for this site: allow them in the browser's site settings.",
            );
        }
        let registration: web_sys::ServiceWorkerRegistration =
            wait(window.navigator().service_worker().ready())
                .await
                .and_then(|r| r.dyn_into())
                .map_err(|_| UNSUPPORTED)?;
        let manager = registration.push_manager().map_err(|_| UNSUPPORTED)?;
        let key = unbase64url(key).ok_or("The server's key is unreadable.")?;
        let options = web_sys::PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key(&js_sys::Uint8Array::from(key.as_slice()).into());
        let subscription = wait(manager.subscribe_with_options(&options))
            .await
            .map_err(|_| "The browser's push service refused to subscribe this device.")?;
        let json = js_sys::JSON::stringify(&subscription)
            .ok()
            .and_then(|j| j.as_string())
            .ok_or(UNSUPPORTED)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&json));
        init.set_credentials(web_sys::RequestCredentials::SameOrigin);
        let headers = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&headers, &"content-type".into(), &"application/json".into());
        init.set_headers(&headers);
        let response: web_sys::Response = wait(Ok(
            window.fetch_with_str_and_init("/api/v1/push/subscriptions", &init)
        ))
        .await
        .and_then(|r| r.dyn_into())
        .map_err(|_| "Headroom could not be reached: try again when online.")?;
        if response.status() == 201 {
            Ok(())
        } else {
            Err("Headroom refused this subscription.")
        }
    }
}
