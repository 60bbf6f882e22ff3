//! The explorer's chart, drawn as SVG from a [`SeriesSet`]: for each series a min–max band
//! with its mean line (or the readings themselves when each column is one), broken at
//! gaps; for quota meters the budget line, cap, projection with its band, period starts
//! and today; for sensors the normal range and the stretches outside it. The same
//! component renders on the server (readable without JavaScript) and in the explorer
//! island. Labels are HTML around the SVG, so they stay legible however it is scaled.

use leptos::prelude::*;

use crate::{
    domain::units::{Precision, format_amount},
    dto::series::{Series, SeriesSet},
};

/// The plot's coordinate box; the SVG stretches it to the element's size.
pub const W: f64 = 1000.0;
pub const H: f64 = 300.0;

/// Time and value ranges mapped onto the box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub from: i64,
    pub to: i64,
    pub lo: f64,
    pub hi: f64,
}

impl Frame {
    /// The frame that shows every column of `set` and the overlays that fall in its
    /// range; `None` when there is nothing to show.
    pub fn of(set: &SeriesSet) -> Option<Frame> {
        let first = set.series.first()?;
        let (from, to) = (first.read_from, first.read_to);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for s in &set.series {
            lo = s.min.iter().copied().fold(lo, f64::min);
            hi = s.max.iter().copied().fold(hi, f64::max);
            if let Some(band) = s.normal_range {
                for v in [band.min, band.max].into_iter().flatten() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            if let Some(q) = &s.quota
                && q.period_end > from
                && q.period_start < to
            {
                lo = lo.min(0.0);
                hi = hi.max(q.quota).max(q.projected_high.min(q.quota * 1.5));
            }
        }
        if !lo.is_finite() || !hi.is_finite() {
            return None;
        }
        let pad = ((hi - lo) * 0.06).max(if hi == lo { 1.0 } else { 0.0 });
        Some(Frame {
            from,
            to: to.max(from + 1),
            lo: lo - pad,
            hi: hi + pad,
        })
    }

    pub fn x(&self, t: i64) -> f64 {
        (t - self.from) as f64 / (self.to - self.from) as f64 * W
    }

    pub fn y(&self, v: f64) -> f64 {
        H - (v - self.lo) / (self.hi - self.lo) * H
    }

    /// The instant at `frac` (0–1) of the width.
    pub fn t_at(&self, frac: f64) -> i64 {
        self.from + ((self.to - self.from) as f64 * frac.clamp(0.0, 1.0)) as i64
    }
}

fn mid(s: &Series, i: usize) -> i64 {
    (s.t0[i] + s.t1[i]) / 2
}

/// Index ranges of the runs between gaps.
fn runs(s: &Series) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for &g in &s.gaps {
        if g > start && g <= s.t0.len() {
            out.push(start..g);
            start = g;
        }
    }
    if start < s.t0.len() {
        out.push(start..s.t0.len());
    }
    out
}

/// The min–max envelope, one closed shape per run.
pub fn band_path(s: &Series, f: &Frame) -> String {
    let mut d = String::new();
    for run in runs(s) {
        for (k, i) in run.clone().enumerate() {
            let cmd = if k == 0 { 'M' } else { 'L' };
            d.push_str(&format!("{cmd}{:.1} {:.1}", f.x(mid(s, i)), f.y(s.max[i])));
        }
        for i in run.rev() {
            d.push_str(&format!("L{:.1} {:.1}", f.x(mid(s, i)), f.y(s.min[i])));
        }
        d.push('Z');
    }
    d
}

/// The mean line (the readings themselves when a column is one reading), broken at gaps.
pub fn mean_path(s: &Series, f: &Frame) -> String {
    let mut d = String::new();
    for run in runs(s) {
        for (k, i) in run.enumerate() {
            let cmd = if k == 0 { 'M' } else { 'L' };
            d.push_str(&format!("{cmd}{:.1} {:.1}", f.x(mid(s, i)), f.y(s.mean[i])));
        }
    }
    d
}

/// Stretches `[t0, t1)` where a sensor left its normal range, adjacent columns merged.
pub fn out_of_range(s: &Series) -> Vec<(i64, i64)> {
    let Some(band) = s.normal_range else {
        return Vec::new();
    };
    let mut out: Vec<(i64, i64)> = Vec::new();
    for i in 0..s.t0.len() {
        let outside =
            band.max.is_some_and(|m| s.max[i] > m) || band.min.is_some_and(|m| s.min[i] < m);
        if !outside {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 >= s.t0[i] => last.1 = s.t1[i],
            _ => out.push((s.t0[i], s.t1[i])),
        }
    }
    out
}

/// The column of `s` under instant `t`: the one containing it, else the nearest.
pub fn column_at(s: &Series, t: i64) -> Option<usize> {
    if s.t0.is_empty() {
        return None;
    }
    let i = s.t0.partition_point(|a| *a <= t);
    let candidates = [i.checked_sub(1), (i < s.t0.len()).then_some(i)];
    candidates.into_iter().flatten().min_by_key(|&k| {
        if s.t0[k] <= t && t < s.t1[k] {
            0
        } else {
            (mid(s, k) - t).abs()
        }
    })
}

/// How a time is written on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    Clock,
    DayMonth,
    MonthYear,
    Full,
}

/// `ts` in the meter's timezone. On the server with the tz database; in the browser with
/// the browser's own (`Intl`), which the WebAssembly bundle does not have to carry.
pub fn fmt_time(ts: i64, tz: &str, style: TimeStyle) -> String {
    #[cfg(not(feature = "hydrate"))]
    {
        let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
        let Ok(t) = jiff::Timestamp::from_second(ts) else {
            return String::new();
        };
        let z = t.to_zoned(zone);
        let pattern = match style {
            TimeStyle::Clock => "%H:%M",
            TimeStyle::DayMonth => "%-d %b",
            TimeStyle::MonthYear => "%b %Y",
            TimeStyle::Full => "%a %-d %b %Y, %H:%M",
        };
        z.strftime(pattern).to_string()
    }
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let opts = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&opts, &JsValue::from_str(k), &JsValue::from_str(v));
        };
        set("timeZone", tz);
        match style {
            TimeStyle::Clock => {
                set("hour", "2-digit");
                set("minute", "2-digit");
                set("hourCycle", "h23");
            }
            TimeStyle::DayMonth => {
                set("day", "numeric");
                set("month", "short");
            }
            TimeStyle::MonthYear => {
                set("month", "short");
                set("year", "numeric");
            }
            TimeStyle::Full => {
                set("weekday", "short");
                set("day", "numeric");
                set("month", "short");
                set("year", "numeric");
                set("hour", "2-digit");
                set("minute", "2-digit");
                set("hourCycle", "h23");
            }
        }
        let date = js_sys::Date::new(&JsValue::from_f64(ts as f64 * 1000.0));
        String::from(date.to_locale_string("en-GB", &opts))
    }
}

/// `2026-12-12` → `12 Dec`, by hand: a date library's formatter would cost the browser
/// bundle tens of kilobytes for this one label.
fn short_date(iso: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = iso.split('-').skip(1);
    let month = parts.next().and_then(|m| m.parse::<usize>().ok());
    let day = parts.next().and_then(|d| d.parse::<u32>().ok());
    match (month, day) {
        (Some(m @ 1..=12), Some(d)) => format!("{d} {}", MONTHS[m - 1]),
        _ => iso.to_string(),
    }
}

/// Tick steps, in seconds: round local times.
const TICK_STEPS: [i64; 15] = [
    60, 300, 900, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600,
    2_592_000, 7_776_000, 31_536_000,
];

/// Up to six time ticks on round local times: (position 0–100 %, label).
pub fn x_ticks(s: &Series, f: &Frame) -> Vec<(f64, String)> {
    let span = f.to - f.from;
    let step = TICK_STEPS
        .iter()
        .copied()
        .find(|st| span / st <= 6)
        .unwrap_or(31_536_000);
    let style = if step < 86_400 {
        TimeStyle::Clock
    } else if step < 2_592_000 {
        TimeStyle::DayMonth
    } else {
        TimeStyle::MonthYear
    };
    let off = i64::from(s.utc_offset);
    let first = (f.from + off).div_euclid(step) * step + step - off;
    (0..8)
        .map(|k| first + k * step)
        .filter(|t| *t < f.to)
        .map(|t| (f.x(t) / W * 100.0, fmt_time(t, &s.timezone, style)))
        .collect()
}

/// Lowest, middle and highest value ticks: (position from the top 0–100 %, label).
pub fn y_ticks(f: &Frame, unit: &str) -> Vec<(f64, String)> {
    [f.hi, (f.hi + f.lo) / 2.0, f.lo]
        .into_iter()
        .map(|v| {
            (
                f.y(v) / H * 100.0,
                format_amount(v, unit, Precision::Compact),
            )
        })
        .collect()
}

/// The chart's resolution note: tier, method and counts.
pub fn resolution_note(s: &Series) -> String {
    let tier = match s.tier.as_str() {
        "raw" => "readings",
        "quarter_hour" => "15-minute rollups",
        "hour" => "hourly rollups",
        "day" => "daily rollups",
        _ => "weekly rollups",
    };
    let how = if s.method == "raw" {
        "every reading drawn".to_string()
    } else {
        "exact low and high per column".to_string()
    };
    format!(
        "{} columns from {} readings · {tier} · {how}",
        group(s.drawn_count as u64),
        group(s.raw_count),
    )
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the crosshair reads at instant `t`: the time and each series' value there.
pub fn readout(set: &SeriesSet, t: i64) -> Option<(String, Vec<String>)> {
    let first = set.series.first()?;
    let i = column_at(first, t)?;
    let when = fmt_time(
        first.t0[i].max(first.read_from),
        &first.timezone,
        TimeStyle::Full,
    );
    let lines = set
        .series
        .iter()
        .filter_map(|s| {
            let k = column_at(s, t)?;
            let a = |v: f64| format_amount(v, &s.unit, Precision::Exact);
            Some(if s.count[k] <= 1 || s.min[k] == s.max[k] {
                format!("{}: {}", s.name, a(s.mean[k]))
            } else {
                format!(
                    "{}: {} (low {}, high {})",
                    s.name,
                    a(s.mean[k]),
                    a(s.min[k]),
                    a(s.max[k])
                )
            })
        })
        .collect();
    Some((when, lines))
}

/// Text for HTML, escaped (meter names are the users').
pub fn esc(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn line(class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> String {
    format!(r#"<line class="{class}" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}"/>"#)
}

/// The chart as HTML: plot, value and time labels, legend and resolution note.
///
/// Written as one string rather than as `view!` trees: the island redraws it on every
/// range, and each distinct view tree is its own generic code in the WebAssembly bundle
/// (this chart as views cost ~60 KB compressed); a string costs a few.
pub fn plot_html(set: &SeriesSet) -> String {
    let (Some(f), Some(first)) = (Frame::of(set), set.series.first()) else {
        return r#"<p class="muted explorer-empty">No readings in this range.</p>"#.to_string();
    };
    let mut svg = String::new();
    if let Some(b) = first.normal_range {
        let top = f.y(b.max.unwrap_or(f.hi)).clamp(0.0, H);
        let bottom = f.y(b.min.unwrap_or(f.lo)).clamp(0.0, H);
        svg.push_str(&format!(
            r#"<rect class="normal" x="0" y="{top:.1}" width="{W}" height="{:.1}"/>"#,
            (bottom - top).max(0.0)
        ));
        for (a, z) in out_of_range(first) {
            let (x0, x1) = (f.x(a), f.x(z));
            svg.push_str(&format!(
                r#"<rect class="outside" x="{x0:.1}" y="0" width="{:.1}" height="{H}"/>"#,
                (x1 - x0).max(1.5)
            ));
        }
    }
    if let Some(q) = &first.quota {
        for b in &q.boundaries {
            let x = f.x(*b);
            svg.push_str(&line("period", (x, 0.0), (x, H)));
        }
        let (ps, pe, cap, now, used) = (
            f.x(q.period_start),
            f.x(q.period_end),
            f.y(q.quota),
            f.x(q.now),
            f.y(q.used),
        );
        svg.push_str(&line("cap", (0.0, cap), (W, cap)));
        svg.push_str(&line("budget", (ps, f.y(0.0)), (pe, cap)));
        svg.push_str(&format!(
            r#"<path class="projection-band" d="M{now:.1} {used:.1}L{pe:.1} {:.1}L{pe:.1} {:.1}Z"/>"#,
            f.y(q.projected_low),
            f.y(q.projected_high)
        ));
        svg.push_str(&line("projection", (now, used), (pe, f.y(q.projected))));
        svg.push_str(&line("today", (now, 0.0), (now, H)));
    }
    for (k, s) in set.series.iter().enumerate() {
        svg.push_str(&format!(r#"<g class="series s{k}">"#));
        if s.method != "raw" {
            svg.push_str(&format!(r#"<path class="band" d="{}"/>"#, band_path(s, &f)));
        }
        svg.push_str(&format!(
            r#"<path class="line" d="{}"/></g>"#,
            mean_path(s, &f)
        ));
    }
    let title = if set.series.len() > 1 {
        format!("{} and {} more", first.name, set.series.len() - 1)
    } else {
        first.name.clone()
    };
    let note = resolution_note(first);
    let summary = format!(
        "{title}: from {} to {}, {note}",
        fmt_time(f.from, &first.timezone, TimeStyle::Full),
        fmt_time(f.to, &first.timezone, TimeStyle::Full),
    );
    // Positions are classes, not `style` attributes, which the Content-Security-Policy
    // refuses: the value ticks sit at the top, middle and bottom (CSS), the time ticks at
    // the nearest whole percent (`.at-0` … `.at-100`).
    let y_labels: String = y_ticks(&f, &first.unit)
        .into_iter()
        .map(|(_, label)| format!(r#"<span class="tick">{}</span>"#, esc(&label)))
        .collect();
    let x_labels: String = x_ticks(first, &f)
        .into_iter()
        .map(|(pct, label)| {
            format!(
                r#"<span class="tick at-{}">{}</span>"#,
                pct.round().clamp(0.0, 100.0) as u32,
                esc(&label)
            )
        })
        .collect();
    let mut legend: String = set
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            format!(
                r#"<li class="s{k}"><span class="swatch"></span>{}</li>"#,
                esc(&s.name)
            )
        })
        .collect();
    if let Some(q) = &first.quota {
        let a = |v: f64| esc(&format_amount(v, &first.unit, Precision::Compact));
        let run_out = q
            .run_out
            .as_ref()
            .map(|d| format!(" · runs out {}", short_date(d)))
            .unwrap_or_default();
        legend.push_str(&format!(
            r#"<li class="budget-key"><span class="swatch"></span>budget line</li><li class="cap-key"><span class="swatch"></span>quota {}</li><li class="projection-key"><span class="swatch"></span>projected {}{run_out}</li>"#,
            a(q.quota),
            a(q.projected)
        ));
    }
    if first.normal_range.is_some() {
        legend.push_str(r#"<li class="normal-key"><span class="swatch"></span>normal range</li><li class="outside-key"><span class="swatch"></span>outside it</li>"#);
    }
    format!(
        r#"<figure class="explorer-chart" data-tier="{tier}" data-drawn="{drawn}"><div class="plot-area"><div class="y-ticks" aria-hidden="true">{y_labels}</div><svg class="plot" viewBox="0 0 {W} {H}" preserveAspectRatio="none" role="img" aria-label="{label}">{svg}</svg></div><div class="x-ticks" aria-hidden="true">{x_labels}</div><figcaption><ul class="legend">{legend}</ul><p class="muted small resolution" data-testid="resolution">{note}</p></figcaption></figure>"#,
        tier = esc(&first.tier),
        drawn = first.drawn_count,
        label = esc(&summary),
        note = esc(&note),
    )
}

/// The chart, for pages: [`plot_html`] in a box.
#[component]
pub fn SeriesPlot(set: SeriesSet) -> impl IntoView {
    view! { <div class="explorer-plot" inner_html=plot_html(&set)></div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(t0: Vec<i64>, values: Vec<f64>, gaps: Vec<usize>) -> Series {
        let t1 = t0.iter().map(|t| t + 60).collect();
        Series {
            meter_id: 1,
            name: "Room".into(),
            unit: "°C".into(),
            kind: "sensor".into(),
            timezone: "UTC".into(),
            utc_offset: 0,
            read_from: 0,
            read_to: 600,
            tier: "raw".into(),
            method: "raw".into(),
            column_secs: 60,
            raw_count: values.len() as u64,
            drawn_count: values.len(),
            generated_at: 0,
            t0,
            t1,
            min: values.clone(),
            max: values.clone(),
            mean: values.clone(),
            first: values.clone(),
            last: values,
            count: vec![1; 4],
            gaps,
            normal_range: Some(crate::dto::series::NormalBand {
                min: Some(0.0),
                max: Some(10.0),
            }),
            quota: None,
        }
    }

    #[test]
    fn lines_break_at_gaps_and_the_crosshair_finds_its_column() {
        let s = series(vec![0, 60, 300, 360], vec![1.0, 2.0, 30.0, 4.0], vec![2]);
        let f = Frame::of(&SeriesSet {
            series: vec![s.clone()],
        })
        .expect("a frame");
        let d = mean_path(&s, &f);
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(column_at(&s, 70), Some(1));
        assert_eq!(column_at(&s, 200), Some(1), "nearest when between columns");
        assert_eq!(column_at(&s, 10_000), Some(3));
        assert_eq!(out_of_range(&s), vec![(300, 360)]);
        let (_, lines) = readout(&SeriesSet { series: vec![s] }, 330).expect("a readout");
        assert_eq!(lines, vec!["Room: 30.0 °C".to_string()]);
    }

    #[test]
    fn dates_are_short() {
        assert_eq!(short_date("2026-12-05"), "5 Dec");
        assert_eq!(short_date("soon"), "soon");
    }

    #[test]
    fn ticks_sit_on_round_local_times() {
        let mut s = series(vec![0], vec![1.0], vec![]);
        s.timezone = "Europe/Berlin".into();
        s.utc_offset = 3_600;
        let f = Frame {
            from: 1_795_248_000,
            to: 1_795_248_000 + 86_400,
            lo: 0.0,
            hi: 1.0,
        };
        let labels: Vec<String> = x_ticks(&s, &f).into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, vec!["12:00", "18:00", "00:00", "06:00"]);
    }
}
