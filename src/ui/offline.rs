//! The browser's side of working offline (SPEC S9): the last-known outlook and the queue of
//! readings taken offline, both in local storage (`gloo-storage`), the service worker's
//! registration and its "update ready" signal.
//!
//! Both stores carry the id of the person they belong to and are only read for that
//! person; signing out also clears them (`Clear-Site-Data`, see `http::routes::auth`).
//! The types compile everywhere; everything that touches the browser is in [`browser`].

use serde::{Deserialize, Serialize};

use crate::dto::BoardView;

/// Local storage key of the last-known outlook.
pub const OUTLOOK_KEY: &str = "headroom.outlook";
/// Local storage key of the readings waiting to be sent.
pub const QUEUE_KEY: &str = "headroom.queue";

/// The outlook as last seen online, and when (Unix milliseconds, when the page was made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlookSnapshot {
    pub user: i64,
    pub as_of_ms: i64,
    pub board: BoardView,
}

/// A reading entered while offline. `key` is made in the browser and names the entry in
/// the queue; `at` is when it was taken (Unix seconds), sent along so the server files the
/// reading at that time, and a replay repeated after a lost answer rewrites the same
/// (meter, time) instead of adding a reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedReading {
    pub key: String,
    pub user: i64,
    pub meter_id: i64,
    pub value: String,
    pub timestamp: String,
    pub at: i64,
    /// Another form post made offline (marking notifications read): the address it posts
    /// to, with these fields and the key; `None` for a reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

impl QueuedReading {
    /// The fields of the meter page's reading form, as the replay posts them.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![("key".to_string(), self.key.clone())];
        if self.action.is_some() {
            fields.extend(self.fields.iter().cloned());
            return fields;
        }
        fields.push(("value".into(), self.value.clone()));
        if self.timestamp.is_empty() {
            fields.push(("at".into(), self.at.to_string()));
        } else {
            fields.push(("timestamp".into(), self.timestamp.clone()));
        }
        fields
    }

    /// Where the replay posts it.
    pub fn address(&self) -> String {
        self.action
            .clone()
            .unwrap_or_else(|| format!("/meters/{}/readings", self.meter_id))
    }
}

/// What the offline banner says, from the hours and minutes of the local time.
pub fn offline_label(hours: u32, minutes: u32) -> String {
    format!("Offline — as of {hours:02}:{minutes:02}")
}

#[cfg(feature = "hydrate")]
pub mod browser {
    use std::cell::{Cell, RefCell};

    use gloo_storage::{LocalStorage, Storage};
    use leptos::prelude::{RwSignal, Set};
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

    use super::{OUTLOOK_KEY, OutlookSnapshot, QUEUE_KEY, QueuedReading};

    thread_local! {
        static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
        static UPDATING: Cell<bool> = const { Cell::new(false) };
        static REPLAYING: Cell<bool> = const { Cell::new(false) };
    }

    /// What the browser believes; a page served by the service worker while the server is
    /// unreachable on a live network is not detected.
    pub fn online() -> bool {
        web_sys::window().is_none_or(|w| w.navigator().on_line())
    }

    pub fn now_ms() -> i64 {
        js_sys::Date::now() as i64
    }

    /// "Offline — as of HH:MM" in the browser's local time.
    pub fn offline_label(ms: i64) -> String {
        let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
        super::offline_label(d.get_hours(), d.get_minutes())
    }

    pub fn reload() {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    }

    pub fn load_outlook(user: i64) -> Option<OutlookSnapshot> {
        LocalStorage::get::<OutlookSnapshot>(OUTLOOK_KEY)
            .ok()
            .filter(|s| s.user == user)
    }

    pub fn save_outlook(snapshot: &OutlookSnapshot) {
        let _ = LocalStorage::set(OUTLOOK_KEY, snapshot);
    }

    pub fn forget_outlook() {
        LocalStorage::delete(OUTLOOK_KEY);
    }

    fn queue() -> Vec<QueuedReading> {
        LocalStorage::get(QUEUE_KEY).unwrap_or_default()
    }

    fn store_queue(queue: &[QueuedReading]) {
        if queue.is_empty() {
            LocalStorage::delete(QUEUE_KEY);
        } else {
            let _ = LocalStorage::set(QUEUE_KEY, queue);
        }
    }

    pub fn new_key() -> String {
        format!(
            "{:x}-{:x}",
            js_sys::Date::now() as u64,
            (js_sys::Math::random() * 1e15) as u64
        )
    }

    pub fn enqueue(reading: QueuedReading) {
        let mut queue = queue();
        if !queue.iter().any(|r| r.key == reading.key) {
            queue.push(reading);
        }
        store_queue(&queue);
    }

    pub fn pending(user: i64) -> usize {
        queue().iter().filter(|r| r.user == user).count()
    }

    fn remove(key: &str) {
        let mut queue = queue();
        queue.retain(|r| r.key != key);
        store_queue(&queue);
    }

    enum Outcome {
        Sent,
        Refused,
    }

    /// Posts one queued reading the way the form would. Sent: the form's redirect back to
    /// the meter. Refused (an invalid value, a meter gone or not ours): dropped, since a
    /// retry cannot help. Anything else — no network, signed out, a server error — is kept
    /// for the next try.
    async fn post(reading: &QueuedReading) -> Result<Outcome, JsValue> {
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let params = web_sys::UrlSearchParams::new()?;
        for (name, value) in reading.form_fields() {
            params.append(&name, &value);
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&params.into());
        init.set_credentials(web_sys::RequestCredentials::SameOrigin);
        let url = reading.address();
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&url, &init))
                .await?
                .dyn_into()?;
        let status = response.status();
        let arrived = match reading.action {
            // The form's redirect back to the notifications page.
            Some(_) => response.ok() && response.redirected(),
            None => response.redirected() && response.url().contains("saved=reading"),
        };
        if arrived {
            Ok(Outcome::Sent)
        } else if matches!(status, 400 | 403 | 404 | 409 | 422) {
            Ok(Outcome::Refused)
        } else {
            Err(JsValue::from_str("retry later"))
        }
    }

    /// Sends `user`'s queued readings, oldest first, until one fails to get through.
    /// Returns (readings sent, other posts sent, refused). One replay at a time per page.
    pub async fn replay(user: i64) -> (usize, usize, usize) {
        if REPLAYING.replace(true) {
            return (0, 0, 0);
        }
        let (mut sent, mut other, mut refused) = (0, 0, 0);
        for reading in queue().into_iter().filter(|r| r.user == user) {
            match post(&reading).await {
                Ok(Outcome::Sent) => {
                    remove(&reading.key);
                    if reading.action.is_some() {
                        other += 1;
                    } else {
                        sent += 1;
                    }
                }
                Ok(Outcome::Refused) => {
                    remove(&reading.key);
                    refused += 1;
                }
                Err(_) => break,
            }
        }
        REPLAYING.set(false);
        (sent, other, refused)
    }

    fn container() -> Option<ServiceWorkerContainer> {
        let navigator = web_sys::window()?.navigator();
        // Absent outside secure contexts (plain http on another host than localhost).
        js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker"))
            .ok()?
            .then(|| navigator.service_worker())
    }

    fn message(kind: &str) -> JsValue {
        let object = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&object, &"type".into(), &kind.into());
        object.into()
    }

    /// Tells the active worker something (a `{type}` message), when there is one.
    pub fn tell_worker(kind: &str) {
        if let Some(controller) = container().and_then(|c| c.controller()) {
            let _ = controller.post_message(&message(kind));
        }
    }

    /// Registers `/sw.js`. `update_ready` turns true when a new version has installed
    /// beside the one controlling this page; `outlook-refreshed` from the worker (a fresh
    /// outlook replaced the stale copy this page shows) reloads the page.
    pub fn register(update_ready: RwSignal<bool>) {
        let Some(workers) = container() else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let kind = js_sys::Reflect::get(&event.data(), &"type".into())
                    .ok()
                    .and_then(|v| v.as_string());
                if kind.as_deref() == Some("outlook-refreshed") && online() {
                    reload();
                }
            },
        );
        workers.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_controller = Closure::<dyn FnMut()>::new(move || {
            if UPDATING.get() {
                reload();
            }
        });
        workers.set_oncontrollerchange(Some(on_controller.as_ref().unchecked_ref()));
        on_controller.forget();

        let promise = workers.register("/sw.js");
        leptos::task::spawn_local(async move {
            let Ok(registration) = JsFuture::from(promise).await else {
                return;
            };
            let registration: ServiceWorkerRegistration = registration.unchecked_into();
            let controlled = move || container().and_then(|c| c.controller()).is_some();
            if registration.waiting().is_some() && controlled() {
                update_ready.set(true);
            }
            let watched = registration.clone();
            let on_found = Closure::<dyn FnMut()>::new(move || {
                let Some(installing) = watched.installing() else {
                    return;
                };
                let worker = installing.clone();
                let on_state = Closure::<dyn FnMut()>::new(move || {
                    if worker.state() == ServiceWorkerState::Installed && controlled() {
                        update_ready.set(true);
                    }
                });
                installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
                on_state.forget();
            });
            registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
            on_found.forget();
            REGISTRATION.with(|r| *r.borrow_mut() = Some(registration));
        });
    }

    /// The "reload" of "update ready": the waiting version takes over, and the page reloads
    /// when it controls it.
    pub fn apply_update() {
        let waiting = REGISTRATION.with(|r| r.borrow().as_ref().and_then(|r| r.waiting()));
        match waiting {
            Some(worker) => {
                UPDATING.set(true);
                let _ = worker.post_message(&message("skip-waiting"));
            }
            None => reload(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn a_replay_sends_the_time_it_was_taken_unless_one_was_typed() {
        let mut r = QueuedReading {
            key: "k1".into(),
            user: 2,
            meter_id: 3,
            value: "12.5".into(),
            timestamp: String::new(),
            at: 1_763_700_000,
            action: None,
            fields: Vec::new(),
        };
        assert_eq!(
            r.form_fields(),
            [
                pair("key", "k1"),
                pair("value", "12.5"),
                pair("at", "1763700000")
            ]
        );
        assert_eq!(r.address(), "/meters/3/readings");
        r.timestamp = "2026-11-21T07:05".into();
        assert_eq!(r.form_fields()[2], pair("timestamp", "2026-11-21T07:05"));
    }

    #[test]
    fn an_action_queued_offline_posts_its_own_fields_to_its_address() {
        // A reading queued by an older build (no `action`) still reads as a reading.
        let old: QueuedReading = serde_json::from_str(
            r#"{"key":"k","user":1,"meter_id":4,"value":"1","timestamp":"","at":5}"#,
        )
        .expect("old entry");
        assert_eq!(old.address(), "/meters/4/readings");
        let read_all = QueuedReading {
            action: Some("/notifications/read-all".into()),
            fields: vec![pair("up_to", "41")],
            ..old
        };
        assert_eq!(read_all.address(), "/notifications/read-all");
        assert_eq!(
            read_all.form_fields(),
            [pair("key", "k"), pair("up_to", "41")]
        );
    }

    #[test]
    fn banner_text() {
        assert_eq!(offline_label(7, 5), "Offline — as of 07:05");
    }
}
