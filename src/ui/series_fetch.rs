//! The explorer's data in the browser: `GET /api/v1/series` read into a [`SeriesSet`] by
//! hand (`ui::json_get`). `serde_json` would do it in one line, but its code for these two
//! dozen fields cost the WebAssembly bundle ~40 KB uncompressed, and the bundle's budget
//! is shared by every page. A GET under `/api/`, so the service worker keeps the last
//! answers for offline viewing.

use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::{
    dto::series::{NormalBand, QuotaOverlay, Series, SeriesSet},
    ui::json_get::{field, floats, get, int, ints, num, opt_num, text},
};

fn series_of(v: &JsValue) -> Series {
    let band = field(v, "normal_range");
    let quota = field(v, "quota");
    Series {
        meter_id: int(v, "meter_id"),
        name: text(v, "name"),
        unit: text(v, "unit"),
        kind: text(v, "kind"),
        timezone: text(v, "timezone"),
        utc_offset: int(v, "utc_offset") as i32,
        read_from: int(v, "read_from"),
        read_to: int(v, "read_to"),
        tier: text(v, "tier"),
        method: text(v, "method"),
        column_secs: int(v, "column_secs"),
        raw_count: num(v, "raw_count") as u64,
        drawn_count: num(v, "drawn_count") as usize,
        generated_at: int(v, "generated_at"),
        t0: ints(v, "t0"),
        t1: ints(v, "t1"),
        min: floats(v, "min"),
        max: floats(v, "max"),
        mean: floats(v, "mean"),
        first: floats(v, "first"),
        last: floats(v, "last"),
        count: floats(v, "count").into_iter().map(|x| x as u32).collect(),
        gaps: floats(v, "gaps").into_iter().map(|x| x as usize).collect(),
        normal_range: band.is_object().then(|| NormalBand {
            min: opt_num(&band, "min"),
            max: opt_num(&band, "max"),
        }),
        quota: quota.is_object().then(|| QuotaOverlay {
            quota: num(&quota, "quota"),
            period_start: int(&quota, "period_start"),
            period_end: int(&quota, "period_end"),
            boundaries: ints(&quota, "boundaries"),
            used: num(&quota, "used"),
            now: int(&quota, "now"),
            projected: num(&quota, "projected"),
            projected_low: num(&quota, "projected_low"),
            projected_high: num(&quota, "projected_high"),
            run_out: field(&quota, "run_out").as_string(),
        }),
    }
}

/// `GET url` (a `/api/v1/series?…` address) as a [`SeriesSet`]; `Err` when offline with
/// nothing kept, or on any answer but 200.
pub async fn fetch(url: &str) -> Result<SeriesSet, JsValue> {
    let body = get(url).await?;
    let list = field(&body, "series");
    let series = if Array::is_array(&list) {
        Array::from(&list).iter().map(|v| series_of(&v)).collect()
    } else {
        Vec::new()
    };
    Ok(SeriesSet { series })
}
