//! The chart explorer's data: a meter's history over any range, read from the tier the
//! range calls for and reduced to the chart's columns by `domain::series` (exact min/max
//! per column). Answers are cached per meter, tier, column width and snapped range, and
//! dropped with the meter's tag on every write.

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    domain::{
        DomainError,
        access::MeterAction,
        period::{ResetRule, day_number},
        rollup::Stats,
        series::{self, Column, Grid, Tier},
    },
    dto::series::{NormalBand, QuotaOverlay, Series, SeriesSet},
    server::{
        auth::CurrentUser,
        cache::{self, Hit, Strategy},
        service::{ServiceError, ServiceResult, access, freshness, outlook},
        state::AppState,
        storage::{
            blocks::{SECS_PER_DAY, utc_day},
            meters::MeterRow,
        },
    },
};

/// Meters one chart may compare.
pub const MAX_SERIES: usize = 4;
/// Latest a range may end: a year ahead (a projection's end, never data).
const MAX_FUTURE_SECS: i64 = 366 * 86_400;

/// A range as the query string gives it: a preset (`range=7d`), or `from`/`to` as Unix
/// seconds or RFC 3339; with the chart's CSS width and device pixel ratio.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RangeQuery {
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub width: Option<f64>,
    pub dpr: Option<f64>,
}

/// A checked range: `[from, to)` and the columns to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub columns: usize,
}

/// An instant from the query: Unix seconds, RFC 3339, or a local date or date and time
/// (`2026-11-20`, `2026-11-20T08:00`, what date inputs send) in `tz`. A bare date as the
/// end of a range means the end of that day.
fn instant(field: &'static str, raw: &str, tz: &TimeZone, end: bool) -> Result<i64, DomainError> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t.as_second());
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        let day = if end { d.tomorrow().unwrap_or(d) } else { d };
        return Ok(crate::domain::period::local_midnight(day, tz).as_second());
    }
    raw.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp().as_second())
        .ok_or_else(|| {
            DomainError::new(
                field,
                "must be Unix seconds, a time like 2026-11-21T08:00:00Z or a date like 2026-11-21",
            )
        })
}

/// Checks a range query against the clock: every field bounded, each error naming it.
/// Local dates and times are read in `tz` (the meter's on its page; UTC in the API).
pub fn window(now: i64, q: &RangeQuery, tz: &TimeZone) -> ServiceResult<Window> {
    let mut errors = Vec::new();
    if q.width
        .is_some_and(|w| !w.is_finite() || !(0.0..=100_000.0).contains(&w))
    {
        errors.push(DomainError::new(
            "width",
            "must be from 0 to 100000 CSS pixels",
        ));
    }
    if q.dpr
        .is_some_and(|d| !d.is_finite() || !(0.0..=10.0).contains(&d))
    {
        errors.push(DomainError::new("dpr", "must be from 0 to 10"));
    }
    let explicit = q.from.as_deref().is_some_and(|s| !s.is_empty())
        || q.to.as_deref().is_some_and(|s| !s.is_empty());
    let (from, to) = if explicit {
        let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => instant("to", raw, tz, true)
                .map_err(|e| errors.push(e))
                .unwrap_or(now),
            None => now,
        };
        let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => instant("from", raw, tz, false)
                .map_err(|e| errors.push(e))
                .unwrap_or(to - 86_400),
            None => to - 86_400,
        };
        (from, to)
    } else {
        let name = q
            .range
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("24h");
        match series::preset_secs(name) {
            Some(secs) => (now - secs, now),
            None => {
                errors.push(DomainError::new(
                    "range",
                    "must be one of 6h, 24h, 7d, 30d, 1y",
                ));
                (now - 86_400, now)
            }
        }
    };
    if errors.is_empty() {
        if from < 0 {
            errors.push(DomainError::new("from", "must not be before 1970"));
        } else if to <= from {
            errors.push(DomainError::new("to", "must be after from"));
        } else if to - from > series::MAX_SPAN_SECS {
            errors.push(DomainError::new(
                "from",
                "the range may span at most 20 years",
            ));
        } else if to > now + MAX_FUTURE_SECS {
            errors.push(DomainError::new("to", "must be at most a year from now"));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    Ok(Window {
        from,
        to,
        columns: series::columns_for(q.width, q.dpr),
    })
}

/// One meter's series as cached JSON bytes (ETag and 304 come with them).
pub async fn one(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    w: Window,
) -> ServiceResult<Hit> {
    // Standing first: nothing is read, computed or cached for a caller who has none.
    let a = access::meter(state, user, meter_id, MeterAction::Read).await?;
    let m = a.meter;
    let tz = outlook::timezone(&m.timezone);
    let tier = Tier::for_span(w.to - w.from);
    let grid = Grid::new(tier, w.from, w.to, w.columns, &tz);
    let (read_from, read_to) = grid.snap(w.from, w.to, &tz);
    let key = cache::key(
        Strategy::Series,
        format_args!(
            "m{}:{}:{}:{read_from}:{read_to}",
            m.id,
            tier.as_str(),
            grid.column_secs()
        ),
    );
    let tags = [freshness::meter_tag(m.id)];
    let hit = state
        .cache
        .get_or_compute_json(Strategy::Series, &key, &tags, || async move {
            build(state, &m, &tz, tier, &grid, (read_from, read_to)).await
        })
        .await?;
    Ok(hit)
}

/// Up to [`MAX_SERIES`] meters of one unit over one range.
pub async fn several(
    state: &AppState,
    user: &CurrentUser,
    ids: &[i64],
    w: Window,
) -> ServiceResult<SeriesSet> {
    if ids.is_empty() || ids.len() > MAX_SERIES {
        return Err(DomainError::new("ids", format!("give 1 to {MAX_SERIES} meter ids")).into());
    }
    let mut out: Vec<Series> = Vec::with_capacity(ids.len());
    for id in ids {
        let hit = one(state, user, *id, w).await?;
        let s: Series = hit
            .json()
            .ok_or_else(|| anyhow::anyhow!("a cached series does not decode"))?;
        if out.first().is_some_and(|f| f.unit != s.unit) {
            return Err(DomainError::new("ids", "the meters must share one unit").into());
        }
        out.push(s);
    }
    Ok(SeriesSet { series: out })
}

/// Reads the tier's buckets over `[from, to)` and reduces them to columns.
async fn build(
    state: &AppState,
    m: &MeterRow,
    tz: &TimeZone,
    tier: Tier,
    grid: &Grid,
    (from, to): (i64, i64),
) -> ServiceResult<Series> {
    let buckets: Vec<(i64, Stats)> = match tier {
        Tier::Raw => state
            .db
            .reading_blocks(m.id, utc_day(from), utc_day(to - 1))
            .await?
            .into_values()
            .flatten()
            .filter(|r| r.ts >= from && r.ts < to)
            .filter_map(|r| Stats::of_sorted(&[r]).map(|s| (r.ts, s)))
            .collect(),
        Tier::QuarterHour | Tier::Hour => {
            let secs = tier.bucket_secs();
            let blocks = state
                .db
                .rollup_blocks(m.id, utc_day(from), utc_day(to - 1))
                .await?;
            blocks
                .into_iter()
                .flat_map(|(day, b)| {
                    let slots = if tier == Tier::Hour {
                        b.hour
                    } else {
                        b.quarter
                    };
                    slots.into_iter().enumerate().filter_map(move |(i, s)| {
                        let start = day * SECS_PER_DAY + i as i64 * secs;
                        s.map(|s| (start, s))
                    })
                })
                .filter(|(start, _)| *start >= from && *start < to)
                .collect()
        }
        Tier::Day => {
            let (first, last) = (local_day(from, tz), local_day(to - 1, tz));
            state
                .db
                .daily_rollups(m.id, first, last)
                .await?
                .iter()
                .map(|r| (r.day, r.stats()))
                .collect()
        }
        Tier::Week => {
            let (first, last) = (local_day(from, tz) - 6, local_day(to - 1, tz));
            state
                .db
                .weekly_rollups(m.id, first, last)
                .await?
                .iter()
                .map(|r| (r.week, r.stats()))
                .collect()
        }
    };
    let cols = series::columns(grid, buckets);
    let quota = if m.kind == "quota" {
        quota_overlay(state, m, tz, (from, to)).await?
    } else {
        None
    };
    let normal_range = (m.kind == "sensor" && (m.range_min.is_some() || m.range_max.is_some()))
        .then_some(NormalBand {
            min: m.range_min,
            max: m.range_max,
        });
    Ok(assemble(
        m,
        tier,
        grid,
        (from, to),
        &cols,
        state.clock.now_secs(),
        normal_range,
        quota,
    ))
}

fn local_day(t: i64, tz: &TimeZone) -> i64 {
    Timestamp::from_second(t).map_or(0, |ts| day_number(ts.to_zoned(tz.clone()).date()))
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    m: &MeterRow,
    tier: Tier,
    grid: &Grid,
    (read_from, read_to): (i64, i64),
    cols: &[Column],
    now: i64,
    normal_range: Option<NormalBand>,
    quota: Option<QuotaOverlay>,
) -> Series {
    let utc_offset = Timestamp::from_second(now)
        .map(|t| outlook::timezone(&m.timezone).to_offset(t).seconds())
        .unwrap_or(0);
    let pick = |f: fn(&Column) -> f64| cols.iter().map(f).collect::<Vec<f64>>();
    Series {
        meter_id: m.id,
        name: m.name.clone(),
        unit: m.unit.clone(),
        kind: m.kind.clone(),
        timezone: m.timezone.clone(),
        utc_offset,
        read_from,
        read_to,
        tier: tier.as_str().to_string(),
        method: series::method_of(cols).to_string(),
        column_secs: grid.column_secs(),
        raw_count: cols.iter().map(|c| u64::from(c.stats.count)).sum(),
        drawn_count: cols.len(),
        generated_at: now,
        t0: cols.iter().map(|c| c.t0).collect(),
        t1: cols.iter().map(|c| c.t1).collect(),
        min: pick(|c| c.stats.min),
        max: pick(|c| c.stats.max),
        mean: pick(|c| c.stats.mean()),
        first: pick(|c| c.stats.first),
        last: pick(|c| c.stats.last),
        count: cols.iter().map(|c| c.stats.count).collect(),
        gaps: cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.gap_before)
            .map(|(i, _)| i)
            .collect(),
        normal_range,
        quota,
    }
}

/// The current period's budget line, cap and projection, and the period starts inside
/// the range.
async fn quota_overlay(
    state: &AppState,
    m: &MeterRow,
    tz: &TimeZone,
    (from, to): (i64, i64),
) -> ServiceResult<Option<QuotaOverlay>> {
    let Some((d, o)) = outlook::quota_meter(state, m).await? else {
        return Ok(None);
    };
    let rule: Option<ResetRule> = m.reset_rule.as_deref().and_then(|r| r.parse().ok());
    let mut boundaries = Vec::new();
    if let (Some(rule), Ok(start)) = (rule, Timestamp::from_second(from)) {
        let mut p = rule.period_at(start, tz);
        // A period is at least a day, so a 20-year range has at most ~7 300 starts; the
        // cap only guards against a rule that would not advance.
        for _ in 0..8_000 {
            let at = p.start_instant(tz).as_second();
            if at >= to {
                break;
            }
            if at >= from {
                boundaries.push(at);
            }
            let next = rule.period_containing(p.end);
            if next == p {
                break;
            }
            p = next;
        }
    }
    let week: Vec<f64> = d
        .history
        .iter()
        .rev()
        .take(7)
        .filter_map(|h| h.usage)
        .collect();
    let rest_days = (o.snapshot.days_left - 1).max(0) as f64;
    let today_left = (o.average - o.snapshot.used_today).max(0.0);
    let (low, high) = series::projection_band(o.snapshot.used + today_left, rest_days, &week);
    Ok(Some(QuotaOverlay {
        quota: d.quota,
        period_start: d.period.start_instant(tz).as_second(),
        period_end: d.period.end_instant(tz).as_second(),
        boundaries,
        used: o.snapshot.used,
        now: d.now,
        projected: o.projected_total,
        projected_low: low.min(o.projected_total),
        projected_high: high.max(o.projected_total),
        run_out: o.run_out.map(|r| r.to_string()),
    }))
}

/// The meter page's explorer: the range in the address (or, when it is not valid, the
/// last 24 hours and why), the meters named in `with`, and those that could join.
pub async fn explorer(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    q: &RangeQuery,
    with: &[i64],
) -> ServiceResult<crate::dto::series::Explorer> {
    let now = state.clock.now_secs();
    let tz = outlook::timezone(
        &access::meter(state, user, meter_id, MeterAction::Read)
            .await?
            .meter
            .timezone,
    );
    let (w, problem) = match window(now, q, &tz) {
        Ok(w) => (w, None),
        Err(ServiceError::Invalid(errors)) => {
            let text = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            (window(now, &RangeQuery::default(), &tz)?, Some(text))
        }
        Err(e) => return Err(e),
    };
    let explicit = q.from.as_deref().is_some_and(|s| !s.is_empty())
        || q.to.as_deref().is_some_and(|s| !s.is_empty());
    let preset = (!explicit || problem.is_some())
        .then(|| q.range.clone().filter(|r| series::preset_secs(r).is_some()))
        .flatten()
        .or_else(|| (!explicit || problem.is_some()).then(|| "24h".to_string()));
    let mut ids = vec![meter_id];
    ids.extend(
        with.iter()
            .copied()
            .filter(|id| *id != meter_id)
            .take(MAX_SERIES - 1),
    );
    ids.dedup();
    let set = match several(state, user, &ids, w).await {
        Ok(set) => set,
        // A meter in `with` that is gone, not the caller's or of another unit: the chart
        // shows this meter alone rather than nothing.
        Err(ServiceError::NotFound | ServiceError::Invalid(_)) if ids.len() > 1 => {
            ids.truncate(1);
            several(state, user, &ids, w).await?
        }
        Err(e) => return Err(e),
    };
    let unit = set
        .series
        .first()
        .map(|s| s.unit.clone())
        .unwrap_or_default();
    let only = user.via_token.as_ref().map(|r| r.meter_ids.as_slice());
    let candidates = access::visible(state, user.id, true, only)
        .await?
        .into_iter()
        .map(|a| a.meter)
        .filter(|m| m.id != meter_id && m.unit == unit)
        .take(8)
        .map(|m| (m.id, m.name))
        .collect();
    Ok(crate::dto::series::Explorer {
        set,
        preset,
        from: w.from,
        to: w.to,
        candidates,
        with: ids[1..].to_vec(),
        problem,
        same_up_to: series::same_grid_up_to(
            Tier::for_span(w.to - w.from),
            w.from,
            w.to,
            w.columns,
            &tz,
        ),
    })
}
