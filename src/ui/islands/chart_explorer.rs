//! The chart explorer on a meter's page. The server renders the chart of the range in the
//! address (the island's children) under plain links, which is all a browser without
//! JavaScript gets. Once hydrated, the island keeps that chart when this screen would get
//! the very same answer (see `Explorer::same_up_to`) and fetches only its data, for the
//! crosshair; otherwise it asks for the range at the chart's real width × device pixel
//! ratio and redraws. Then ranges switch, the view pans (links, swipe, arrow keys) and
//! zooms (drag to select, links, `+`/`-`) without a page load, each step kept in the
//! address (back and forward work), and a crosshair reads the time and values under the
//! pointer, a finger, or keyboard focus.

use leptos::prelude::*;

use crate::{
    domain::series::PRESETS,
    dto::series::SeriesSet,
    ui::components::series_plot::{Frame, column_at, esc, plot_html, readout},
};

/// What is on the chart: a preset ending now, or a fixed range.
#[derive(Debug, Clone, PartialEq)]
struct View {
    preset: Option<String>,
    from: i64,
    to: i64,
}

/// What the pointer is doing: the crosshair's instant, a drag selection (fractions of the
/// width) and where a press began (and whether by a finger).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Pointer {
    cross: Option<i64>,
    sel: Option<(f64, f64)>,
    press: Option<(f64, bool)>,
    /// Fingers on the chart, for a pinch.
    fingers: [Option<Finger>; 2],
}

/// One finger: its pointer id, where it touched down and where it is (0–1 across).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Finger {
    id: i32,
    from: f64,
    at: f64,
}

/// The view after a pinch from fingers at `before` to `after` (fractions of the width):
/// spreading them zooms in by the ratio of their distances, around where they began.
fn pinched(view: &View, before: (f64, f64), after: (f64, f64)) -> Option<View> {
    let d0 = (before.1 - before.0).abs();
    let d1 = (after.1 - after.0).abs();
    if d0 < 0.02 || d1 < 0.02 || (d1 / d0 - 1.0).abs() < 0.05 {
        return None;
    }
    Some(zoomed(view, d0 / d1, (before.0 + before.1) / 2.0))
}

/// The address of `view` on the meter's page (`?range=7d`, or `?from=…&to=…`).
fn query_of(view: &View, with: &[i64]) -> String {
    let mut q = match &view.preset {
        Some(p) => format!("?range={p}"),
        None => format!("?from={}&to={}", view.from, view.to),
    };
    if !with.is_empty() {
        let ids: Vec<String> = with.iter().map(i64::to_string).collect();
        q.push_str(&format!("&with={}", ids.join(",")));
    }
    q.push_str("#explorer");
    q
}

/// `view` moved by `frac` of its width (negative: back in time).
fn panned(view: &View, frac: f64) -> View {
    let shift = ((view.to - view.from) as f64 * frac) as i64;
    View {
        preset: None,
        from: view.from + shift,
        to: view.to + shift,
    }
}

/// `view` zoomed by `factor` (< 1: in) around the instant at `anchor` (0–1).
fn zoomed(view: &View, factor: f64, anchor: f64) -> View {
    let span = (view.to - view.from) as f64;
    let at = view.from as f64 + span * anchor;
    // Not narrower than ten minutes: below that one column is one reading anyway.
    let new_span = (span * factor).max(600.0).round();
    let from = (at - new_span * anchor).round() as i64;
    View {
        preset: None,
        from,
        to: from + new_span as i64,
    }
}

#[island]
pub fn ChartExplorer(
    meter_id: i64,
    preset: Option<String>,
    from: i64,
    to: i64,
    with: Vec<i64>,
    same_up_to: usize,
    children: Children,
) -> impl IntoView {
    let view = RwSignal::new(View { preset, from, to });
    let data: RwSignal<Option<SeriesSet>> = RwSignal::new(None);
    // Whether the island has drawn a chart of its own (until then the server's shows).
    let drawn = RwSignal::new(false);
    let static_ref = NodeRef::<leptos::html::Div>::new();
    let status: RwSignal<Option<String>> = RwSignal::new(None);
    // The crosshair, the drag selection and the press that started it, in one signal:
    // every signal type is code of its own in the bundle.
    let ptr = RwSignal::new(Pointer::default());
    let plot_ref = NodeRef::<leptos::html::Div>::new();
    let with = StoredValue::new(with);
    let server_chart = children();

    // The chart's width in CSS pixels and the screen's device pixel ratio.
    #[cfg(feature = "hydrate")]
    let screen = move || {
        let width = plot_ref
            .get_untracked()
            .map(|el| f64::from(el.client_width()))
            .unwrap_or(0.0);
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        (width, dpr)
    };
    // Fetches `view`'s series, at this screen's width when `draw` (then drawn in place of
    // what is shown), else at the server's default width: the answer the server drew,
    // kept for the crosshair and the keyboard.
    #[cfg(feature = "hydrate")]
    let fetch = move |next: &View, draw: bool| {
        use crate::ui::components::series_plot::{TimeStyle, fmt_time};
        let mut ids = vec![meter_id];
        ids.extend(with.get_value());
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let range = match &next.preset {
            Some(p) => format!("range={p}"),
            None => format!("from={}&to={}", next.from, next.to),
        };
        let mut url = format!("/api/v1/series?ids={}&{range}", ids.join(","));
        if draw {
            let (width, dpr) = screen();
            url.push_str(&format!("&width={width}&dpr={dpr}"));
            status.set(Some("Loading…".into()));
        }
        leptos::task::spawn_local(async move {
            match crate::ui::series_fetch::fetch(&url).await {
                // The server's chart's data, come after the island drew another: stale.
                Ok(_) if !draw && drawn.get_untracked() => {}
                Ok(set) => {
                    // Offline, the service worker answered with the copy it kept: say how
                    // old it is. (Online, a cached answer is current: writes drop it.)
                    let made = set
                        .series
                        .first()
                        .map(|s| (s.generated_at, s.timezone.clone()));
                    let offline = web_sys::window().is_some_and(|w| !w.navigator().on_line());
                    status.set(offline.then(|| {
                        let at = made
                            .as_ref()
                            .map(|(at, tz)| fmt_time(*at, tz, TimeStyle::Full))
                            .unwrap_or_default();
                        format!("Offline — as of {at}")
                    }));
                    ptr.update(|p| p.cross = None);
                    data.set(Some(set));
                    if draw && !drawn.get_untracked() {
                        // The server's chart goes for good: one chart in the box.
                        if let Some(el) = static_ref.get_untracked() {
                            el.remove();
                        }
                        drawn.set(true);
                    }
                }
                Err(_) => status.set(Some(
                    "Could not load this range (offline?). The chart shows the last one.".into(),
                )),
            }
        });
    };
    #[cfg(feature = "hydrate")]
    let load = move |next: View, push: bool| {
        if push && let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let url = query_of(&next, &with.get_value());
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
        view.set(next.clone());
        fetch(&next, true);
    };
    #[cfg(not(feature = "hydrate"))]
    let load = move |next: View, _push: bool| view.set(next);
    #[cfg(not(feature = "hydrate"))]
    let _ = same_up_to;

    #[cfg(feature = "hydrate")]
    {
        // The server drew the chart for a guessed width. Where this screen would get the
        // same answer, keep it (no redraw, no new paint) and fetch only its data;
        // otherwise ask again for this screen and redraw.
        Effect::new(move |_| {
            let (width, dpr) = screen();
            let same = crate::domain::series::columns_for(Some(width), Some(dpr)) <= same_up_to;
            if same {
                fetch(&view.get_untracked(), false);
            } else {
                load(view.get_untracked(), false);
            }
        });
        // Back and forward: the address says which range to show.
        let handle = window_event_listener(leptos::ev::popstate, move |_| {
            let search = web_sys::window()
                .and_then(|w| w.location().search().ok())
                .unwrap_or_default();
            let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
            let get = |k: &str| params.as_ref().and_then(|p| p.get(k));
            let now = (js_sys::Date::now() / 1000.0) as i64;
            let next = match (
                get("from").and_then(|f| f.parse().ok()),
                get("to").and_then(|t| t.parse().ok()),
            ) {
                (Some(from), Some(to)) => View {
                    preset: None,
                    from,
                    to,
                },
                _ => {
                    let p = get("range").unwrap_or_else(|| "24h".into());
                    let secs = crate::domain::series::preset_secs(&p).unwrap_or(86_400);
                    View {
                        preset: Some(p),
                        from: now - secs,
                        to: now,
                    }
                }
            };
            load(next, false);
        });
        on_cleanup(move || handle.remove());
    }

    let pan = move |frac: f64| load(panned(&view.get_untracked(), frac), true);
    let zoom = move |factor: f64| load(zoomed(&view.get_untracked(), factor, 0.5), true);
    // One handler for every control (`data-act` on links and buttons drawn as HTML):
    // each `on:` handler would be code of its own in the WebAssembly bundle.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(act) = act_of(&ev) else { return };
        let (kind, arg) = act.split_once(':').unwrap_or((act.as_str(), ""));
        match kind {
            "range" => {
                let Some(secs) = crate::domain::series::preset_secs(arg) else {
                    return;
                };
                let now = js_sys_now() as i64;
                load(
                    View {
                        preset: Some(arg.to_string()),
                        from: now - secs,
                        to: now,
                    },
                    true,
                );
            }
            "pan" => pan(arg.parse().unwrap_or(0.0)),
            "zoom" => zoom(arg.parse().unwrap_or(1.0)),
            _ => return,
        }
        ev.prevent_default();
    };

    // Pointer: hover or touch moves the crosshair; a mouse drag selects a range to zoom
    // to; a finger's swipe pans.
    let frame = move || data.with_untracked(|d| d.as_ref().and_then(Frame::of));
    // Where `client_x` falls across the plot, 0–1 (only a browser has a layout).
    let frac_of = move |client_x: i32| -> Option<f64> {
        #[cfg(feature = "hydrate")]
        {
            let el = plot_ref.get_untracked()?;
            let svg = el.query_selector(".plot").ok().flatten()?;
            let rect = svg.get_bounding_client_rect();
            (rect.width() > 0.0)
                .then(|| ((f64::from(client_x) - rect.left()) / rect.width()).clamp(0.0, 1.0))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (client_x, plot_ref);
            None
        }
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        let Some(x) = frac_of(ev.client_x()) else {
            return;
        };
        let touch = ev.pointer_type() == "touch";
        let id = ev.pointer_id();
        ptr.update_untracked(|p| {
            if p.press.is_none() {
                p.press = Some((x, touch));
            }
            if touch && let Some(slot) = p.fingers.iter_mut().find(|f| f.is_none()) {
                *slot = Some(Finger { id, from: x, at: x });
            }
        });
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some(x) = frac_of(ev.client_x()) else {
            return;
        };
        let id = ev.pointer_id();
        let pinching = ptr.with_untracked(|p| p.fingers.iter().flatten().count() == 2);
        ptr.update_untracked(|p| {
            for f in p.fingers.iter_mut().flatten().filter(|f| f.id == id) {
                f.at = x;
            }
        });
        if pinching {
            return;
        }
        if let Some(f) = frame() {
            ptr.update(|p| p.cross = Some(f.t_at(x)));
        }
        if let Some((x0, false)) = ptr.with_untracked(|p| p.press) {
            ptr.update(|p| p.sel = Some((x0.min(x), x0.max(x))));
        }
    };
    let on_up = move |ev: leptos::ev::PointerEvent| {
        // Two fingers: the first to lift ends a pinch, which zooms.
        if let [Some(a), Some(b)] = ptr.with_untracked(|p| p.fingers) {
            let id = ev.pointer_id();
            let x = frac_of(ev.client_x());
            let (a, b) = match x {
                Some(x) if a.id == id => (Finger { at: x, ..a }, b),
                Some(x) if b.id == id => (a, Finger { at: x, ..b }),
                _ => (a, b),
            };
            ptr.update_untracked(|p| *p = Pointer::default());
            if let Some(next) = pinched(&view.get_untracked(), (a.from, b.from), (a.at, b.at)) {
                load(next, true);
            }
            return;
        }
        ptr.update_untracked(|p| p.fingers = [None; 2]);
        let Some((x0, touch)) = ptr.with_untracked(|p| p.press) else {
            return;
        };
        ptr.update_untracked(|p| p.press = None);
        ptr.update(|p| p.sel = None);
        let Some(x) = frac_of(ev.client_x()) else {
            return;
        };
        let v = view.get_untracked();
        let span = (v.to - v.from) as f64;
        if touch && (x - x0).abs() > 0.08 {
            load(panned(&v, x0 - x), true);
        } else if !touch && (x - x0).abs() > 0.02 {
            let (a, b) = (x0.min(x), x0.max(x));
            let from = v.from + (span * a) as i64;
            let to = (v.from + (span * b) as i64).max(from + 600);
            load(
                View {
                    preset: None,
                    from,
                    to,
                },
                true,
            );
        }
    };
    let on_leave = move |ev: leptos::ev::PointerEvent| {
        if ev.pointer_type() == "mouse" || ev.type_() == "pointercancel" {
            ptr.update_untracked(|p| p.fingers = [None; 2]);
            ptr.update(|p| p.cross = None);
            ptr.update_untracked(|p| p.press = None);
            ptr.update(|p| p.sel = None);
        }
    };
    // Keyboard: arrows pan, Shift+arrows move the crosshair a column, + and - zoom.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let step_cross = |dir: i64| {
            data.with_untracked(|d| {
                let Some(s) = d.as_ref().and_then(|d| d.series.first()) else {
                    return;
                };
                let here = ptr
                    .with_untracked(|p| p.cross)
                    .unwrap_or(s.t0.last().copied().unwrap_or(0));
                if let Some(i) = column_at(s, here) {
                    let j = (i as i64 + dir).clamp(0, s.t0.len() as i64 - 1) as usize;
                    ptr.update(|p| p.cross = Some((s.t0[j] + s.t1[j]) / 2));
                }
            });
        };
        let handled = match (ev.key().as_str(), ev.shift_key()) {
            ("ArrowLeft", true) => {
                step_cross(-1);
                true
            }
            ("ArrowRight", true) => {
                step_cross(1);
                true
            }
            ("ArrowLeft", false) => {
                pan(-0.25);
                true
            }
            ("ArrowRight", false) => {
                pan(0.25);
                true
            }
            ("+" | "=", _) => {
                zoom(0.5);
                true
            }
            ("-" | "_", _) => {
                zoom(2.0);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };
    let on_focus = move |_| {
        if ptr.with_untracked(|p| p.cross).is_none() {
            data.with_untracked(|d| {
                if let Some(s) = d.as_ref().and_then(|d| d.series.first())
                    && let (Some(a), Some(b)) = (s.t0.last(), s.t1.last())
                {
                    ptr.update(|p| p.cross = Some((a + b) / 2));
                }
            });
        }
    };

    let cross_x = move || {
        let t = ptr.with(|p| p.cross)?;
        let f = data.with(|d| d.as_ref().and_then(Frame::of))?;
        let s = data.with(|d| d.as_ref().and_then(|d| d.series.first().cloned()))?;
        let i = column_at(&s, t)?;
        Some(f.x((s.t0[i] + s.t1[i]) / 2) / crate::ui::components::series_plot::W * 100.0)
    };
    let reading = move || {
        let t = ptr.with(|p| p.cross)?;
        data.with(|d| d.as_ref().and_then(|d| readout(d, t)))
    };
    let csv_href = move || {
        let v = view.get();
        format!(
            "/api/v1/meters/{meter_id}/readings?format=csv&from={}&to={}&download=1",
            v.from.max(0),
            v.to
        )
    };

    // The controls, the readout's hint and the footer render the same on the server as
    // after hydration, so hydrating them writes nothing to the page.
    let controls = move || view.with(|v| controls_html(v, &with.get_value()));
    let readout_html = move || {
        match reading() {
        Some((when, lines)) => format!("<strong>{}</strong> {}", esc(&when), esc(&lines.join(" · "))),
        None => "<span class=\"muted hint\">Point at the chart, or focus it and use Shift + arrows, to read a value.</span>".to_string(),
    }
    };
    let footer = move || {
        let note = status
            .get()
            .map(|s| format!(r#"<span class="notice" role="status">{}</span> "#, esc(&s)))
            .unwrap_or_default();
        format!(
            r#"{note}<a class="button quiet" href="{}" download="">This range as CSV</a>"#,
            esc(&csv_href())
        )
    };

    view! {
        <div class="explorer" data-hydrated=move || data.with(Option::is_some).then_some("true") on:click=on_click>
            <div inner_html=controls></div>
            <p class="readout" aria-live="polite" data-testid="readout" inner_html=readout_html></p>
            <div
                class="explorer-live"
                node_ref=plot_ref
                tabindex=move || data.with(Option::is_some).then_some("0")
                aria-label="Chart: arrows move in time, plus and minus zoom, Shift + arrows move the crosshair"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointerleave=on_leave
                on:pointercancel=on_leave
                on:keydown=on_key
                on:focus=on_focus
                on:blur=move |_| ptr.update(|p| p.cross = None)
            >
                <div class="explorer-plot" inner_html=move || if drawn.get() { data.with(|d| d.as_ref().map(plot_html).unwrap_or_default()) } else { String::new() }></div>
                <div class="explorer-static" node_ref=static_ref>{server_chart}</div>
                <div class="crosshair" class:hidden=move || cross_x().is_none() style:left=move || cross_x().map(|x| format!("calc(3.6rem + (100% - 3.6rem) * {:.4})", x / 100.0))></div>
                <div class="selection" class:hidden=move || ptr.with(|p| p.sel).is_none() style:left=move || ptr.with(|p| p.sel).map(|(a, _)| format!("calc(3.6rem + (100% - 3.6rem) * {a:.4})")) style:width=move || ptr.with(|p| p.sel).map(|(a, b)| format!("calc((100% - 3.6rem) * {:.4})", b - a))></div>
            </div>
            <p class="row small" inner_html=footer></p>
        </div>
    }
}

/// The controls as HTML: range, pan and zoom links (real links, which work without
/// JavaScript and for a middle click or a copied address), each naming its action in
/// `data-act` for the island.
fn controls_html(view: &View, with: &[i64]) -> String {
    let active = view.preset.as_deref();
    let mut out = String::from(r#"<nav class="row ranges" aria-label="Range">"#);
    for (name, _) in PRESETS {
        let on = active == Some(name);
        let href = query_of(
            &View {
                preset: Some(name.to_string()),
                from: 0,
                to: 0,
            },
            with,
        );
        out.push_str(&format!(
            r#"<a href="{href}" class="button quiet{}" data-act="range:{name}"{}>{name}</a>"#,
            if on { " active" } else { "" },
            if on { r#" aria-current="true""# } else { "" },
        ));
    }
    out.push_str(r#"<span class="spacer"></span>"#);
    for (act, label, text, to) in [
        ("pan:-0.5", "Earlier", "←", panned(view, -0.5)),
        ("zoom:2", "Zoom out", "−", zoomed(view, 2.0, 0.5)),
        ("zoom:0.5", "Zoom in", "+", zoomed(view, 0.5, 0.5)),
        ("pan:0.5", "Later", "→", panned(view, 0.5)),
    ] {
        out.push_str(&format!(
            r#"<a href="{}" class="button quiet" data-act="{act}" aria-label="{label}">{text}</a>"#,
            query_of(&to, with)
        ));
    }
    out.push_str("</nav>");
    out
}

/// The `data-act` of the control a click landed on, if any.
fn act_of(ev: &leptos::ev::MouseEvent) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
        target
            .closest("[data-act]")
            .ok()
            .flatten()?
            .get_attribute("data-act")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// Now, in Unix seconds (the browser's clock; only presets use it).
fn js_sys_now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() / 1000.0
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_and_zooming_keep_the_address_in_step() {
        let v = View {
            preset: Some("24h".into()),
            from: 0,
            to: 86_400,
        };
        assert_eq!(query_of(&v, &[]), "?range=24h#explorer");
        let left = panned(&v, -0.25);
        assert_eq!(
            (left.from, left.to, left.preset.clone()),
            (-21_600, 64_800, None)
        );
        assert_eq!(
            query_of(&left, &[7, 9]),
            "?from=-21600&to=64800&with=7,9#explorer"
        );
        let inside = zoomed(&v, 0.5, 0.5);
        assert_eq!((inside.from, inside.to), (21_600, 64_800));
        let spread = pinched(&v, (0.4, 0.6), (0.3, 0.7)).expect("a pinch");
        assert_eq!(
            (spread.from, spread.to),
            (21_600, 64_800),
            "twice as far apart: half the span"
        );
        assert_eq!(
            pinched(&v, (0.4, 0.6), (0.41, 0.6)),
            None,
            "a twitch is not a pinch"
        );
        let tiny = zoomed(
            &View {
                preset: None,
                from: 0,
                to: 900,
            },
            0.1,
            0.0,
        );
        assert_eq!(tiny.to - tiny.from, 600, "never narrower than ten minutes");
    }
}
