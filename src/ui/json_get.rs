//! A JSON answer read in the browser without serde: `GET` through `fetch`, parsed by the
//! browser's own JSON parser, and fields read off the result one by one. Every type
//! serde deserialises adds its own code to the WebAssembly bundle that every page
//! downloads (see `series_fetch.rs`), and a server function adds the whole client side of
//! server functions; for a few fields this is smaller than either.

use js_sys::{Array, Float64Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `v[key]`, or `undefined`.
pub fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn num(v: &JsValue, key: &str) -> f64 {
    field(v, key).as_f64().unwrap_or(0.0)
}

pub fn opt_num(v: &JsValue, key: &str) -> Option<f64> {
    field(v, key).as_f64()
}

pub fn int(v: &JsValue, key: &str) -> i64 {
    num(v, key) as i64
}

pub fn text(v: &JsValue, key: &str) -> String {
    field(v, key).as_string().unwrap_or_default()
}

pub fn floats(v: &JsValue, key: &str) -> Vec<f64> {
    let a = field(v, key);
    if Array::is_array(&a) {
        Float64Array::new(&a).to_vec()
    } else {
        Vec::new()
    }
}

pub fn ints(v: &JsValue, key: &str) -> Vec<i64> {
    floats(v, key).into_iter().map(|x| x as i64).collect()
}

/// `GET url` (same origin, with the session cookie) parsed as JSON; `Err` when offline
/// with nothing kept by the service worker, or on any answer but 200.
pub async fn get(url: &str) -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    if response.status() != 200 {
        return Err(JsValue::from_str("not loaded"));
    }
    JsFuture::from(response.json()?).await
}
