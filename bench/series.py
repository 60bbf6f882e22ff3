#!/usr/bin/env python3
"""The chart explorer's series API against `tsdownsample`'s MinMaxLTTB (issue 20,
"Benchmarks"), side by side in one run.

Data. A sensor (Europe/Berlin, so the year's day columns include both DST days) with a
reading every second for `--days` days ending at `--now`, and a quota meter with a
reading every 10 minutes over the same span. The sensor is a room temperature: a daily
cycle, a seasonal drift, a slow random wander, sensor noise, a few short spikes a day
(heater, open window: the points an average loses) and two outages (gaps: 365 days are
31.5 M seconds and 31.4 M readings), at 0.01 degC like a real sensor. Everything comes from one numpy generator with
a fixed seed, so the raw points held in memory here are exactly the server's (checked:
a window is read back as CSV, and every column's min/max must match them bit for bit).
Readings go in through `POST /api/v1/readings` in batches of 10 000 (the API's limit),
built by one thread while two connections post them. They are written as the signed-in
administrator: an ingest token may make 1 000 requests an hour, and a year of one-second
data is some 3 150 batches; administrators' API requests are not rate-limited. The server's
clock is pinned (HEADROOM_NOW, set by bench/run) to the instant the data ends, so the
presets (6h ... 1y) cover the data and the year's first reading is inside the raw
retention (365 days).

Cold and warm. "Cold" is a miss in Headroom's answer cache: before each cold request the
script re-sends the sensor's (or quota meter's) first reading unchanged. A write drops
every cached answer of the meter (tag invalidation) and ends the replay of recent
answers, exactly what a new reading does in production, while the data stays the same,
so the cold request asks for the very same URL as the warm ones. Each cold answer must
say `x-cache: miss`, each warm one must not (a repeat within a second is answered by
the front door's replay of the cached answer, as a browser's repeat would be). "Cold" is not a cold OS page cache: the
database file was just written and sits in memory, as a live server's hot pages do.
Server time is the `x-response-time` header (edge middleware: routing, session, cache,
database, JSON, compression); "HTTP" is the client's loopback round trip. Each figure is
the median of `--repeat` samples. Cold is measured twice: `Accept-Encoding: identity`,
and `br` as a browser asks, which on a miss also pays for compressing the new entry.
Budget: <= 10 ms cold and <= 2000 points; the verdict says `MISS br` when only the br
cold answer is over. `others` is the share of the machine's cores that other processes
(a build, a test run) used while the row was measured: on 2 cores anything above a few
per cent inflates the figures. The table waits (up to 10 minutes) for a quiet spell,
each row for a quiet moment, and a row is measured again (up to 3 times, the cleanest
kept) when others were busy; the script says if any row stayed busy.

MinMaxLTTB. The same raw points (those in Headroom's `[read_from, read_to)`, numpy arrays
already in memory) go through `MinMaxLTTBDownsampler` (single-threaded, minmax_ratio 4,
as the library defaults) to 2 x drawn_count points: Headroom draws two values (min and
max) per column, so both send the chart the same number of values. Its time is the
median of in-process runs; the ratio is that time over Headroom's cold answer with HTTP.
The issue asks for >= 10x over the whole year.

Envelope. For every range Headroom's columns must be exact: each column's min, max,
first, last and count equal those of the raw points in `[t0, t1)`, and the columns hold
every raw point of the range; the script stops on any difference. MinMaxLTTB's envelope
is then judged on Headroom's columns: the min/max of the points it selected inside each
column against the true ones. `miss` is the share of columns where they differ (a column
with no selected point counts as missed); `max err` is the largest difference over the
columns that have points (degC or MB). `miss@px` is the same share for MinMaxLTTB given
width x dpr points instead (more points than Headroom sends).

Prints one line per range and size, and one JSON line per figure on stderr."""
import argparse
import datetime as dt
import http.client
import json
import os
import queue
import random
import statistics
import sys
import threading
import time
import urllib.parse
import zoneinfo

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

from lib import Client, Keepalive, cookie_header
from storage import pg_size, sqlite_size

SEED = 20  # the number: one fixed seed for the data and the custom ranges
DAY = 86_400
BATCH = 10_000  # MAX_BATCH in src/server/service/readings.rs
BUDGET_MS = 10.0
BUDGET_POINTS = 2000
PRESETS = [("6h", 6 * 3600), ("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY), ("1y", 365 * DAY)]
SIZES = [(1280, 1), (390, 3)]
QUIET = 0.05  # other processes' share of the cores under which a figure counts as clean
ATTEMPTS = 3  # measurements of a row taken while others were busy, the cleanest kept
WAIT_BUDGET = 900.0  # seconds a run may spend waiting for quiet, in all
CUSTOM_RANGES = 20
SENSOR_TZ = "Europe/Berlin"


def fail(message):
    """Stops the run where it shows: stderr goes to the results file under bench/run."""
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


# ---------------------------------------------------------------------------------------
# Data


def sensor_series(start, end):
    """One reading a second over [start, end): (timestamps int64, values float64)."""
    rng = np.random.default_rng(SEED)
    t = np.arange(start, end, dtype=np.int64)
    n = len(t)
    # Warmest mid-afternoon UTC+1, coldest before dawn; the heating season shifts the level.
    daily = 1.6 * np.sin(2 * np.pi * ((t + 3600) % DAY - 9 * 3600) / DAY)
    seasonal = 1.2 * np.cos(2 * np.pi * (t - start) / (365 * DAY))
    # A slow wander: a knot every hour pulled back towards 0 (AR(1), about +-0.6 degC),
    # straight lines between knots.
    knots_t = np.arange(start, end + 3600, 3600)
    shocks = rng.normal(0, 0.15, len(knots_t))
    knots = np.empty(len(knots_t))
    level = 0.0
    for i, s in enumerate(shocks.tolist()):
        level = 0.97 * level + s
        knots[i] = level
    wander = np.interp(t, knots_t, knots)
    y = 21.0 + daily + seasonal + wander + rng.normal(0, 0.04, n)
    # Short spikes, three a day on average: mostly up (a heater), some down (a window).
    days = max(1, (end - start) // DAY)
    for _ in range(3 * days):
        at = int(rng.integers(0, n))
        length = int(rng.integers(1, 21))
        size = rng.uniform(2.0, 9.0) * (1 if rng.random() < 0.7 else -1)
        y[at:at + length] += size
    cents = np.rint(y * 100).astype(np.int64)
    keep = np.ones(n, dtype=bool)
    # Two outages, 3 hours and 30 hours, where the span allows: gaps must stay gaps.
    span = end - start
    if span >= 4 * DAY:
        for frac, secs in ((0.11, 3 * 3600), (0.55, 30 * 3600)):
            a = int(span * frac)
            keep[a:a + secs] = False
    return t[keep], cents[keep] / 100.0


def quota_series(start, end, tz):
    """A usage counter every 10 minutes over [start, end), reset at local midnight on the
    1st of each month: (timestamps, values) in MB."""
    rng = np.random.default_rng(SEED + 1)
    t = np.arange(start, end, 600, dtype=np.int64)
    hour = (t % DAY) // 3600
    evening = np.where((hour >= 17) & (hour <= 22), 3.0, 1.0)
    step_cents = np.rint(rng.gamma(0.6, 12.0, len(t)) * evening * 100).astype(np.int64)
    # The counter restarts at 0 at each local month start inside the range.
    zone = zoneinfo.ZoneInfo(tz)
    local = dt.datetime.fromtimestamp(start, zone)
    y, m = local.year, local.month
    resets = []
    while True:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        at = int(dt.datetime(y, m, 1, tzinfo=zone).timestamp())
        if at >= end:
            break
        resets.append(at)
    period = np.searchsorted(np.array(resets, dtype=np.int64), t, side="right")
    total = np.cumsum(step_cents)
    firsts = np.r_[0, np.flatnonzero(np.diff(period)) + 1]
    before = total[firsts] - step_cents[firsts]  # the running total when each period began
    used = total - before[np.cumsum(np.r_[0, np.diff(period) != 0])]
    return t, used / 100.0


def bodies(meter_id, t, v):
    """The ingest requests' bodies, BATCH readings each, built on demand."""
    head = '{"meter_id":%d,"timestamp":' % meter_id
    for i in range(0, len(t), BATCH):
        ts = t[i:i + BATCH].tolist()
        vs = v[i:i + BATCH].tolist()
        items = ",".join(f'{head}{a},"value":{b:.2f}}}' for a, b in zip(ts, vs))
        yield len(ts), ('{"readings":[' + items + "]}").encode()


def ingest(base, cookie, meter_id, t, v, connections=2):
    """Posts the series through the API: one thread builds bodies ahead, `connections`
    threads post them. Returns (readings, seconds, seconds the posters waited for a body)."""
    q = queue.Queue(maxsize=8)

    def produce():
        for item in bodies(meter_id, t, v):
            q.put(item)
        for _ in range(connections):
            q.put(None)

    headers = {"content-type": "application/json", "cookie": cookie}
    lock = threading.Lock()
    stats = {"readings": 0, "starved": 0.0}
    failures = []

    def post():
        conn = Keepalive(base)
        while True:
            w0 = time.perf_counter()
            item = q.get()
            waited = time.perf_counter() - w0
            if item is None:
                return
            n, body = item
            try:
                status, raw = conn.post("/api/v1/readings", body, headers)
            except OSError as e:  # recorded, so the run stops instead of waiting forever
                status, raw = 0, repr(e).encode()
            with lock:
                stats["starved"] += waited
                if status != 201:
                    failures.append((status, raw[:300]))
                else:
                    stats["readings"] += n

    producer = threading.Thread(target=produce, daemon=True)
    t0 = time.perf_counter()
    producer.start()
    posters = [threading.Thread(target=post) for _ in range(connections)]
    for p in posters:
        p.start()
    for p in posters:
        p.join()
    took = time.perf_counter() - t0
    if failures:
        fail(f"ingest failed: {failures[:3]}")
    return stats["readings"], took, stats["starved"] / connections


# ---------------------------------------------------------------------------------------
# Requests


class Sample:
    def __init__(self, res, body, http_ms):
        self.server_ms = float(res.getheader("x-response-time", "nan").removesuffix("ms"))
        self.http_ms = http_ms
        self.cache = res.getheader("x-cache", "")
        self.encoding = res.getheader("content-encoding", "")
        self.body = body


class Api:
    def __init__(self, base, cookie):
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        self.cookie = cookie

    def _send(self, method, path, body, headers):
        """One request on the kept-alive connection, reconnecting once when the server
        has closed it (it closes connections idle for its header timeout, 10 s, and a
        wait for quiet can be longer). Both requests made here are safe to repeat."""
        for retry in (True, False):
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                res = self.conn.getresponse()
                data = res.read()
                return res, data, (time.perf_counter() - t0) * 1000
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.conn.close()
                if not retry:
                    raise

    def get(self, path, encoding):
        res, body, ms = self._send("GET", path, None, {"cookie": self.cookie, "accept-encoding": encoding})
        if res.status != 200:
            raise RuntimeError(f"GET {path}: {res.status} {body[:300]!r}")
        return Sample(res, body, ms)

    def touch(self, meter_id, ts, value):
        """Re-sends one existing reading unchanged: the meter's cached answers go."""
        body = json.dumps({"meter_id": meter_id, "timestamp": int(ts), "value": float(value)})
        res, raw, _ = self._send("POST", "/api/v1/readings", body,
                                 {"cookie": self.cookie, "content-type": "application/json"})
        if res.status != 201:
            raise RuntimeError(f"invalidating write: {res.status} {raw[:300]!r}")


def median(xs):
    return statistics.median(xs)


class Others:
    """CPU time the rest of the machine used while a figure was taken (another build or
    test run on this 2-core VM inflates every millisecond here): all busy time in
    /proc/stat less this script's own and that of the benchmark's processes (the server,
    and PostgreSQL's postmaster with its backends) and their children."""

    TICK = os.sysconf("SC_CLK_TCK")
    CORES = os.cpu_count() or 1

    def __init__(self, pids):
        self.pids = {p for p in pids if p}
        self.waited = 0.0

    def _busy(self):
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v) - v[3] - v[4]  # all but idle and iowait

    def _server(self):
        """CPU ticks of the benchmark's processes and their children, alive now."""
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(entry) in self.pids or int(fields[1]) in self.pids:  # fields[1]: ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total

    def _own(self):
        t = os.times()
        return (t.user + t.system) * self.TICK

    def start(self):
        self.at = (time.perf_counter(), self._busy(), self._server(), self._own())

    def share(self):
        """Share of all cores used by other processes since `start`."""
        t0, b0, s0, o0 = self.at
        wall = (time.perf_counter() - t0) * self.TICK * self.CORES
        other = (self._busy() - b0) - (self._server() - s0) - (self._own() - o0)
        return max(0.0, other / wall) if wall > 0 else 0.0

    def settle(self, timeout=20.0, window=0.5):
        """Waits, at most `timeout` s, for `window` s in which other processes used under
        QUIET of the machine; once WAIT_BUDGET s have gone on waiting in all, it stops
        waiting (the rows say how busy it was). Returns the seconds waited."""
        t0 = time.perf_counter()
        deadline = t0 + min(timeout, max(0.0, WAIT_BUDGET - self.waited))
        while time.perf_counter() < deadline:
            self.start()
            time.sleep(window)
            if self.share() < QUIET:
                break
        took = time.perf_counter() - t0
        self.waited += took
        return took


def measure(api, path, touch, repeat):
    """Cold (after an invalidating write) and warm samples of one request, both codings."""
    out = {}
    for coding in ("identity", "br"):
        cold = []
        for _ in range(repeat):
            touch()
            s = api.get(path, coding)
            if s.cache != "miss":
                raise RuntimeError(f"{path}: a cold request was not a cache miss (x-cache: {s.cache!r})")
            cold.append(s)
        warm = []
        for _ in range(repeat):
            s = api.get(path, coding)
            if s.cache == "miss":
                raise RuntimeError(f"{path}: a warm request missed the cache")
            warm.append(s)
        out[coding] = (cold, warm)
    return out


# ---------------------------------------------------------------------------------------
# Envelopes


def column_slices(t, answer):
    """Index ranges [lo, hi) of the raw points in each of the answer's columns."""
    t0 = np.asarray(answer["t0"], dtype=np.int64)
    t1 = np.asarray(answer["t1"], dtype=np.int64)
    return np.searchsorted(t, t0, side="left"), np.searchsorted(t, t1, side="left")


def reduce_columns(values, lo, hi, fn):
    """fn.reduceat over the non-empty index ranges [lo, hi) of `values` (hi[i] <= lo[i+1])."""
    idx = np.empty(2 * len(lo), dtype=np.int64)
    idx[0::2], idx[1::2] = lo, hi
    trimmed = idx[:-1] if idx[-1] == len(values) else idx
    return fn.reduceat(values, trimmed)[0::2]


def check_exact(label, t, v, answer):
    """Headroom's columns against the raw points: the same points, the same extremes."""
    sel = (t >= answer["read_from"]) & (t < answer["read_to"])
    in_range = int(sel.sum())
    lo, hi = column_slices(t, answer)
    counts = hi - lo
    problems = []
    if answer["raw_count"] != in_range:
        problems.append(f"raw_count {answer['raw_count']} but {in_range} readings in [read_from, read_to)")
    if int(counts.sum()) != in_range or not np.array_equal(counts, np.asarray(answer["count"])):
        problems.append("column counts differ from the raw readings in [t0, t1)")
    elif len(lo):
        for name, got, want in (
            ("min", answer["min"], reduce_columns(v, lo, hi, np.minimum)),
            ("max", answer["max"], reduce_columns(v, lo, hi, np.maximum)),
            ("first", answer["first"], v[lo]),
            ("last", answer["last"], v[hi - 1]),
        ):
            bad = np.flatnonzero(np.asarray(got, dtype=np.float64) != want)
            if len(bad):
                i = bad[0]
                problems.append(f"{len(bad)} columns' {name} differ, e.g. column {i} "
                                f"[{answer['t0'][i]}, {answer['t1'][i]}): {got[i]} vs {want[i]}")
    if problems:
        fail(f"ENVELOPE NOT EXACT for {label}: " + "; ".join(problems))
    return lo, hi


def lttb_envelope(v, lo, hi, selected):
    """MinMaxLTTB's selected points judged on Headroom's columns: (share of columns whose
    min or max it misses, largest miss over the columns where it has points)."""
    true_min = reduce_columns(v, lo, hi, np.minimum)
    true_max = reduce_columns(v, lo, hi, np.maximum)
    selected = np.sort(selected)
    a = np.searchsorted(selected, lo, side="left")
    b = np.searchsorted(selected, hi, side="left")
    has = b > a
    missed = int((~has).sum())
    err = 0.0
    if has.any():
        picked = v[selected]
        got_min = reduce_columns(picked, a[has], b[has], np.minimum)
        got_max = reduce_columns(picked, a[has], b[has], np.maximum)
        gap = np.maximum(true_max[has] - got_max, got_min - true_min[has])
        missed += int((gap > 0).sum())
        err = float(gap.max())
    return missed / len(lo), err


def minmaxlttb(x, y, n_out, runs):
    """Selected indices and the median in-process time (ms) of `runs` runs."""
    ds = MinMaxLTTBDownsampler()
    if n_out >= len(x):
        return np.arange(len(x)), 0.0  # nothing to reduce
    times, idx = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        idx = ds.downsample(x, y, n_out=n_out, parallel=False)
        times.append((time.perf_counter() - t0) * 1000)
    return idx.astype(np.int64), median(times)


# ---------------------------------------------------------------------------------------


def custom_ranges(start, end):
    """Twenty ranges inside the data: spans log-uniform from an hour to all of it."""
    rng = random.Random(SEED)
    out = []
    for i in range(CUSTOM_RANGES):
        span = int(round(3600 * (((end - start) / 3600) ** rng.random())))
        a = rng.randrange(start, end - span + 1)
        out.append((f"custom {i + 1:02d}", a, a + span))
    return out


def span_text(secs):
    for unit, n in (("d", DAY), ("h", 3600), ("m", 60)):
        if secs >= n:
            return f"{secs / n:.3g}{unit}"
    return f"{secs}s"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--now", required=True, help="the server's pinned clock (RFC 3339): the data ends there")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeat", type=int, default=7, help="samples per cold and warm figure")
    p.add_argument("--server-pid", type=int, default=0, help="the server's pid, to tell its CPU time from others'")
    p.add_argument("--database-pid", type=int, default=0, help="PostgreSQL's postmaster (its backends count as ours)")
    p.add_argument("--label", default="")
    a = p.parse_args()
    days = min(max(a.days, 1), 365)  # the raw retention keeps 365 days
    end = int(dt.datetime.fromisoformat(a.now.replace("Z", "+00:00")).timestamp())
    start = end - days * DAY
    tag = f"{a.label:<10}"

    def emit(**fields):
        print(json.dumps({"bench": "series", "backend": a.label, **fields}), file=sys.stderr)

    c = Client(a.base)
    c.sign_in(a.email, a.password)
    cookie = cookie_header(c)
    sensor = c.json("POST", "/api/v1/meters", {"kind": "sensor", "name": "living room", "unit": "°C",
                                               "timezone": SENSOR_TZ, "range_min": 18, "range_max": 24})["id"]
    quota = c.json("POST", "/api/v1/meters", {"kind": "quota", "name": "internet", "unit": "MB",
                                              "timezone": SENSOR_TZ, "quota": 100_000, "reset_rule": "monthly:1"})["id"]

    g0 = time.perf_counter()
    st, sv = sensor_series(start, end)
    qt, qv = quota_series(start, end, SENSOR_TZ)
    print(f"{tag} series: {days} days to {a.now}; generated {len(st):,} sensor readings (1 s) and "
          f"{len(qt):,} quota readings (10 min) in {time.perf_counter() - g0:.1f} s (seed {SEED})")

    others = Others([a.server_pid, a.database_pid])
    others.start()
    n, took, starved = ingest(a.base, cookie, sensor, st, sv)
    print(f"{tag} ingest: sensor {n:,} readings in {took:.1f} s = {n / took:,.0f} readings/s "
          f"(batches of {BATCH}, 2 connections; posters waited {starved:.1f} s for bodies; "
          f"other processes used {others.share():.0%} of the cores)")
    emit(figure="ingest", meter="sensor", readings=n, seconds=took, readings_per_second=n / took)
    qn, qtook, _ = ingest(a.base, cookie, quota, qt, qv)
    print(f"{tag} ingest: quota {qn:,} readings in {qtook:.1f} s = {qn / qtook:,.0f} readings/s")
    emit(figure="ingest", meter="quota", readings=qn, seconds=qtook, readings_per_second=qn / qtook)

    if a.database_url.startswith("sqlite:"):
        total, readings, tables = sqlite_size(a.database_url.split("://", 1)[1])
    else:
        r = pg_size(a.database_url)
        total, readings, tables = r["all_in"], r["readings"], r["tables"]
    print(f"{tag} storage: {readings:,} readings take {total / 1e6:,.1f} MB all in = "
          f"{total / readings:.2f} B/reading (reading blocks, rollups, indexes)")
    for name, size in sorted(tables.items(), key=lambda kv: -kv[1])[:5]:
        print(f"{'':<10}   {name:<28} {size / 1e6:8.1f} MB  {size / readings:6.2f} B/reading")
    emit(figure="storage", readings=readings, bytes=total, bytes_per_reading=total / readings)

    api = Api(a.base, cookie)
    # The points in memory are the server's: the last hour read back as CSV.
    hour = dt.datetime.fromtimestamp(end - 3600, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    csv = api.get(f"/api/v1/meters/{sensor}/readings?format=csv&from={hour}&to={a.now}", "identity").body
    rows = [line.split(",") for line in csv.decode().splitlines()[1:]]
    tail = st >= end - 3600
    if [float(r[1]) for r in rows] != sv[tail].tolist():
        fail("the server's readings differ from the generated ones")

    touch_sensor = lambda: api.touch(sensor, st[0], sv[0])  # noqa: E731
    touch_quota = lambda: api.touch(quota, qt[0], qv[0])  # noqa: E731
    presets = [(name, f"range={name}", secs) for name, secs in PRESETS]
    ranges = presets + [(name, f"from={f}&to={t}", t - f) for name, f, t in custom_ranges(start, end)]
    jobs = [("sensor", sensor, st, sv, touch_sensor, r, size) for size in SIZES for r in ranges]
    jobs += [("quota", quota, qt, qv, touch_quota, r, SIZES[0]) for r in presets]

    # The table takes about a minute: wait (up to 10 minutes) for a quiet spell to take it in.
    waited = others.settle(timeout=600.0, window=3.0)
    if waited > 1:
        print(f"{tag} waited {waited:.0f} s for other processes to quieten down")
    print(f"{tag} per range: server ms (x-response-time) cold = cache miss, median of {a.repeat}; "
          f"HTTP = cold round trip; MinMaxLTTB to 2 x points, single-threaded, in process")
    head = (f"{'':<10}   {'meter':<6} {'range':<10} {'span':>6} {'size':>7} {'tier':<12} {'cold':>6} {'cold br':>7} "
            f"{'HTTP':>6} {'warm':>5} {'warm br':>7} {'points':>6} {'bytes':>8} {'br':>7} {'raw pts':>10} "
            f"{'tsd ms':>7} {'tsd/HTTP':>8} {'miss':>6} {'max err':>7} {'miss@px':>7} {'others':>6}  budget")
    print(head)
    misses, year = [], None
    busy_all = []
    for meter, mid, t, v, touch, (name, query, span), (width, dpr) in jobs:
        path = f"/api/v1/meters/{mid}/series?{query}&width={width}&dpr={dpr}"
        # On a shared 2-core machine a build next door doubles every figure: wait for a
        # quiet moment, and measure again if it did not stay quiet.
        best = None
        for _ in range(ATTEMPTS):
            others.settle()
            others.start()
            m = measure(api, path, touch, a.repeat)
            busy = others.share()
            if best is None or busy < best[0]:
                best = (busy, m)
            if busy < QUIET:
                break
        busy, m = best
        busy_all.append(busy)
        cold_id, warm_id = m["identity"]
        cold_br, warm_br = m["br"]
        answer = json.loads(cold_id[0].body)
        label = f"{meter} {name} at {width}x{dpr}"
        lo, hi = check_exact(label, t, v, answer)
        cut = slice(np.searchsorted(t, answer["read_from"]), np.searchsorted(t, answer["read_to"]))
        x, y = t[cut], v[cut]
        points = answer["drawn_count"]
        runs = 3 if len(x) > 1_000_000 else 7
        others.settle()
        picked, tsd_ms = minmaxlttb(x, y, 2 * points, runs)
        base = cut.start
        miss, err = lttb_envelope(v, lo, hi, picked + base) if len(lo) else (0.0, 0.0)
        px_picked, _ = minmaxlttb(x, y, width * dpr, 1)
        miss_px, _ = lttb_envelope(v, lo, hi, px_picked + base) if len(lo) else (0.0, 0.0)

        cold = median([s.server_ms for s in cold_id])
        cold_b = median([s.server_ms for s in cold_br])
        http_ms = median([s.http_ms for s in cold_id])
        warm = median([s.server_ms for s in warm_id])
        warm_b = median([s.server_ms for s in warm_br])
        size_raw = len(cold_id[0].body)
        size_br = len(warm_br[0].body)
        ratio = tsd_ms / http_ms if http_ms else float("inf")
        # The budget holds for both codings; the verdict says which one missed it, since
        # a miss with br alone is the compression of the new entry, not the series.
        ok_plain = cold <= BUDGET_MS and points <= BUDGET_POINTS
        ok = ok_plain and cold_b <= BUDGET_MS
        verdict = "PASS" if ok else "MISS br" if ok_plain else "MISS"
        if not ok:
            misses.append(f"{label} ({verdict})")
        print(f"{'':<10}   {meter:<6} {name:<10} {span_text(span):>6} {f'{width}x{dpr}':>7} {answer['tier']:<12} "
              f"{cold:6.2f} {cold_b:7.2f} {http_ms:6.2f} {warm:5.2f} {warm_b:7.2f} {points:6d} {size_raw:8,d} "
              f"{size_br:7,d} {len(x):10,d} {tsd_ms:7.2f} {ratio:7.1f}x {miss:6.1%} {err:7.2f} {miss_px:7.1%} {busy:6.0%}  {verdict}")
        emit(figure="range", meter=meter, range=name, from_=answer["read_from"], to=answer["read_to"],
             width=width, dpr=dpr, tier=answer["tier"], method=answer["method"], cold_ms=cold,
             cold_br_ms=cold_b, cold_http_ms=http_ms, warm_ms=warm, warm_br_ms=warm_b, points=points,
             bytes=size_raw, bytes_br=size_br, raw_points=len(x), tsdownsample_ms=tsd_ms,
             tsdownsample_over_http=ratio, lttb_missed_share=miss, lttb_max_error=err,
             lttb_missed_share_at_px=miss_px, others_cpu_share=busy, envelope_exact=True,
             within_budget=ok)
        if meter == "sensor" and name == "1y" and (width, dpr) == SIZES[0]:
            year = (tsd_ms, http_ms, ratio, len(x))

    load = open("/proc/loadavg").read().split()[:3]
    worst = max(busy_all, default=0.0)
    note = ("  WARNING: figures inflated; rerun on an idle machine" if worst >= QUIET else "")
    print(f"{tag} machine: other processes used {median(busy_all):.0%} of the {Others.CORES} cores "
          f"(median over rows; worst row {worst:.0%}) while ranges were measured; waited "
          f"{others.waited:.0f} s for quiet; load average {' '.join(load)}{note}")
    emit(figure="machine", others_cpu_share_median=median(busy_all), others_cpu_share_worst=worst)
    print(f"{tag} envelope: every column of every range exact (min, max, first, last, count)")
    if year:
        tsd_ms, http_ms, ratio, n = year
        # The issue's >= 10x is over a whole year of one-second data; a shortened run
        # shows the figure without judging it.
        verdict = ("PASS" if ratio >= 10 else "MISS") if days == 365 else f"(not judged: {days} days of data)"
        print(f"{tag} 1y range ({n:,} readings): MinMaxLTTB {tsd_ms:.1f} ms / Headroom cold with HTTP "
              f"{http_ms:.2f} ms = {ratio:.1f}x (needs >= 10x over a whole year)  {verdict}")
    print(f"{tag} budget (<= {BUDGET_MS:g} ms cold, both codings; <= {BUDGET_POINTS} points): "
          + ("every range PASS" if not misses else f"MISS for {len(misses)}: " + ", ".join(misses)))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a failed request or check: say so on stdout, not in the JSON lines
        import traceback
        traceback.print_exc(file=sys.stdout)
        fail(repr(e))
