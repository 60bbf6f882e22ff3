#!/usr/bin/env python3
"""Throughput under load, Headroom beside the seeds' own stack (../shared/baseline), in one
run, over the same data: one quota meter holding the legacy monitor's CSV (12 months of
10-minute readings from gen_readings.py), "now" pinned to the same instant on both sides.

Every endpoint is warmed with a few requests (so caches hold it), then loaded with `wrk`
(same threads, connections and duration for both systems, one system at a time: the
machine has 2 cores and wrk shares them). Requests carry `Accept-Encoding: br, gzip` like
a browser's. Per endpoint it prints requests/s, p50/p99 latency, the ratio to the
baseline's equivalent endpoint and to the trivial plain-text route of the same Headroom
server (`GET /health/live`, the ceiling), and whether the spec's budget is met. Then the
outlook cache's hit rate from `GET /api/performance/cache/stats`.

Figures, not a test: it never fails on a missed budget."""
import argparse
import http.client
import json
import re
import shutil
import subprocess
import sys
import urllib.parse

from lib import Client, cookie_header, import_legacy_csv

ACCEPT_ENCODING = "br, gzip"
TRIVIAL = "/health/live"
# The spec's budget for cached JSON APIs at 32 connections (SPEC, "Budgets").
MIN_RPS, MIN_VS_BASELINE, MIN_VS_TRIVIAL, MAX_P99_VS_TRIVIAL, MIN_HIT_RATE = 40_000, 10.0, 0.70, 1.5, 0.99
# What a bare axum route does on the SPEC's machine with the load tool on the same 2 cores.
REFERENCE_CEILING_RPS = 105_000
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def wrk_time(text):
    """'255.00us' / '1.03ms' / '2.10s' -> milliseconds."""
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unreadable wrk time: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out):
    def find(pattern, default=None):
        m = re.search(pattern, out, re.M)
        return m.group(1) if m else default

    errors = find(r"Socket errors: (.*)$")
    return {
        "rps": float(find(r"^Requests/sec:\s+([0-9.]+)")),
        "p50_ms": wrk_time(find(r"^\s+50%\s+(\S+)")),
        "p99_ms": wrk_time(find(r"^\s+99%\s+(\S+)")),
        "requests": int(find(r"^\s+(\d+) requests in", 0)),
        "non_2xx_3xx": int(find(r"Non-2xx or 3xx responses: (\d+)", 0)),
        "socket_errors": sum(int(n) for n in re.findall(r"\d+", errors)) if errors else 0,
    }


def run_wrk(a, url, headers):
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{a.duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    try:
        return parse_wrk(out)
    except (TypeError, ValueError) as e:
        raise RuntimeError(f"could not read wrk's output ({e}):\n{out}")


def fetch(base, path, headers):
    """One request on a fresh connection: (status, headers, raw body as sent)."""
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def measure(a, system, base, path, headers):
    """Warms `path`, checks it answers 200, loads it with wrk, checks it still answers 200."""
    for _ in range(a.warmup):
        status, hdrs, body = fetch(base, path, headers)
        if status != 200:
            return {"system": system, "endpoint": path, "status": status, "available": False}
    figures = run_wrk(a, base + path, headers)
    status, hdrs, body = fetch(base, path, headers)
    return {"system": system, "endpoint": path, "available": True, "status_after": status,
            "content_type": hdrs.get("content-type", "").split(";")[0],
            "content_encoding": hdrs.get("content-encoding", "identity"), "bytes": len(body),
            "x_cache": hdrs.get("x-cache"), **figures}


# The answer whose bytes the bare route replays, and the headers HTTP/1.1 framing makes
# per response (hyper writes its own).
REPLICA_OF = "/api/v1/outlook"
FRAMING = {"content-length", "date", "connection", "keep-alive", "transfer-encoding"}


def set_replica(ceiling, base, path, headers):
    """Gives the bare route Headroom's answer to `path`, headers and body, to send as its
    own; False when either side says no."""
    status, hdrs, body = fetch(base, path, headers)
    if status != 200:
        return False
    spec = {"headers": [[k, v] for k, v in hdrs.items() if k not in FRAMING], "body_hex": body.hex()}
    u = urllib.parse.urlparse(ceiling)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("PUT", "/replica", body=json.dumps(spec), headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        res.read()
        return res.status in (204, 409)
    finally:
        conn.close()


def find_hit_rates(stats, path=()):
    """Every object in the cache stats that reports hits: (path, rate, hits, misses)."""
    found = []
    if isinstance(stats, dict):
        keys = {k.lower(): v for k, v in stats.items()}
        hits, misses = keys.get("hits"), keys.get("misses")
        rate = next((keys[k] for k in ("hit_rate", "hit_ratio", "hitrate") if isinstance(keys.get(k), (int, float))),
                    None)
        if isinstance(hits, (int, float)) and isinstance(misses, (int, float)) and rate is None and hits + misses:
            rate = hits / (hits + misses)
        if rate is not None or (isinstance(hits, (int, float)) and isinstance(misses, (int, float))):
            found.append(("/".join(path) or "(top level)", rate / 100 if rate is not None and rate > 1 else rate,
                          hits if isinstance(hits, (int, float)) else None,
                          misses if isinstance(misses, (int, float)) else None))
        for k, v in stats.items():
            found += find_hit_rates(v, path + (str(k),))
    elif isinstance(stats, list):
        for i, v in enumerate(stats):
            name = next((v[k] for k in ("strategy", "name", "kind") if isinstance(v.get(k), str)), None) \
                if isinstance(v, dict) else None
            found += find_hit_rates(v, path + (str(name) if isinstance(name, str) else str(i),))
    return found


def cache_stats(client):
    status, raw = client.call("GET", "/api/performance/cache/stats", headers={"accept": "application/json"})
    if status != 200:
        return None, status
    try:
        return json.loads(raw), status
    except ValueError:
        return None, status


def outlook_rate(stats):
    rates = find_hit_rates(stats)
    preferred = [r for r in rates if "outlook" in r[0].lower()] or rates
    return preferred[0] if preferred else None


def ms(v):
    return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="Headroom's address")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--csv", required=True, help="the legacy CSV both systems hold (gen_readings.py)")
    p.add_argument("--baseline", help="the baseline stack's address (run.sh start <same csv>); omit to skip it")
    p.add_argument("--ceiling", help="a bare axum route's server (bench/bare_route.rs); omit to skip it")
    p.add_argument("--now", default="2026-11-20T18:00:00Z", help="the instant both clocks are pinned to")
    p.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=20, help="requests per endpoint before measuring")
    p.add_argument("--skip-import", action="store_true", help="the bench user's data is already loaded")
    p.add_argument("--label", default="sqlite")
    a = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("load.py needs wrk (apt-get install -y wrk)")

    c = Client(a.base)
    c.sign_in(a.email, a.password)
    readings = None
    if not a.skip_import:
        _, readings = import_legacy_csv(c, a.binary, a.database_url, a.csv, "Home line (legacy CSV)",
                                        env={"HEADROOM_NOW": a.now})
    hr = {"Cookie": cookie_header(c), "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}
    bl = {"Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}
    user_id = c.json("GET", "/api/v1/outlook").get("user_id", 1)

    # Same data on both sides? The old monitor's current-usage figure, read from each.
    check = ""
    if a.baseline:
        mine = c.json("GET", "/api/usage/current").get("total_used_mb")
        status, _, raw = fetch(a.baseline, "/api/usage/current", {"Accept": "application/json"})
        theirs = json.loads(raw).get("total_used_mb") if status == 200 else None
        same = mine is not None and theirs is not None and abs(float(mine) - float(theirs)) < 1
        check = (f"data check: total_used_mb Headroom {mine}, baseline {theirs} "
                 f"({'same' if same else 'DIFFERENT: the comparison is not like for like'})")

    # (Headroom path, baseline path, what the baseline path is, budgeted as a cached JSON API)
    pairs = [
        (TRIVIAL, "/health", "trivial route vs baseline's /health", False),
        ("/api/v1/outlook", "/api/v2/daily-outlook/1", "baseline's outlook", True),
        (f"/api/v2/daily-outlook/{user_id}", "/api/v2/daily-outlook/1", "same route", True),
        ("/api/usage/current", "/api/usage/current", "same route", True),
        ("/", "/api/dashboard", "closest: baseline's JSON dashboard (no HTML page)", False),
    ]

    print(f"load [{a.label}]: wrk -t{a.threads} -c{a.connections} -d{a.duration}s --latency, "
          f"Accept-Encoding: {ACCEPT_ENCODING}, {a.warmup} warm-up requests per endpoint; one system at a time")
    print(f"  data: 1 quota meter, {f'{readings:,} readings' if readings else 'readings already loaded'} "
          f"(12 months, 10-minute, legacy CSV), now pinned at {a.now} on both sides")
    if check:
        print(f"  {check}")

    stats_before, _ = cache_stats(c)
    results = {}
    for path, _, _, _ in pairs:
        results[("headroom", path)] = measure(a, "headroom", a.base, path, hr)
    trivial = results[("headroom", TRIVIAL)]
    stand_in = None
    if not trivial["available"]:
        # Not the trivial route (it reads the database and the cache): shown for scale only.
        stand_in = measure(a, "headroom", a.base, "/health", hr)
    # The machine's ceiling, right after Headroom's own routes (no cookie: nothing to look up).
    ceiling = measure(a, "bare axum", a.ceiling, TRIVIAL, bl) if a.ceiling else None
    # And the ceiling for the cached outlook's own bytes: the bare route sending exactly
    # the answer Headroom sent (same headers, same brotli body), with no work at all.
    replica = None
    if a.ceiling:
        copied = set_replica(a.ceiling, a.base, REPLICA_OF, hr)
        replica = measure(a, "bare axum", a.ceiling, "/replica", bl) if copied else None
    stats_after, stats_status = cache_stats(c)
    if a.baseline:
        for _, bpath, _, _ in pairs:
            if ("baseline", bpath) not in results:
                results[("baseline", bpath)] = measure(a, "baseline", a.baseline, bpath, bl)

    head = (f"  {'endpoint':<38} {'req/s':>9} {'p50':>9} {'p99':>9}  {'encoding':<9} {'bytes':>6}  "
            f"{'× baseline':>10}  {'% trivial':>9} {'p99 × triv':>10}  budget")
    print(head)
    print("  " + "-" * (len(head) - 2))
    lines = []

    def row(r, name, base_r=None, base_note="", budgeted=False):
        out = {"bench": "load", "backend": a.label, "system": r["system"], "endpoint": r["endpoint"], "tool": "wrk",
               "threads": a.threads, "connections": a.connections, "duration_s": a.duration,
               "accept_encoding": ACCEPT_ENCODING}
        if not r["available"]:
            print(f"  {name:<38} not measured: answers {r['status']}")
            lines.append({**out, "available": False, "status": r["status"]})
            return
        vs_base = None
        if base_r and base_r.get("available"):
            vs_base = r["rps"] / base_r["rps"]
        vs_triv = p99_triv = None
        if r["system"] == "headroom" and trivial["available"] and r is not trivial:
            vs_triv, p99_triv = r["rps"] / trivial["rps"], r["p99_ms"] / trivial["p99_ms"]
        verdict = "—"
        if r is trivial:
            verdict = "(the ceiling)"
        elif budgeted:
            misses = []
            if r["rps"] < MIN_RPS:
                misses.append(f"< {MIN_RPS:,} req/s")
            if vs_base is None:
                misses.append("no baseline")
            elif vs_base < MIN_VS_BASELINE:
                misses.append(f"< {MIN_VS_BASELINE:.0f}× baseline")
            if vs_triv is None:
                misses.append("no trivial route")
            else:
                if vs_triv < MIN_VS_TRIVIAL:
                    misses.append(f"< {MIN_VS_TRIVIAL:.0%} trivial")
                if p99_triv > MAX_P99_VS_TRIVIAL:
                    misses.append(f"p99 > {MAX_P99_VS_TRIVIAL}× trivial")
            unknown = {"no baseline", "no trivial route"}
            if not misses:
                verdict = "meets"
            elif all(m in unknown for m in misses):
                verdict = "cannot tell: " + ", ".join(misses)
            else:
                verdict = "misses: " + ", ".join(misses)
        bad = r["non_2xx_3xx"] + r["socket_errors"]
        if bad or r["status_after"] != 200:
            verdict += f"  [!] {r['non_2xx_3xx']} non-2xx, {r['socket_errors']} socket errors, after: {r['status_after']}"
        print(f"  {name:<38} {r['rps']:>9,.0f} {ms(r['p50_ms']):>9} {ms(r['p99_ms']):>9}  "
              f"{r['content_encoding']:<9} {r['bytes']:>6}  "
              f"{f'{vs_base:.1f}×' if vs_base is not None else '—':>10}  "
              f"{f'{vs_triv:.0%}' if vs_triv is not None else '—':>9} "
              f"{f'{p99_triv:.2f}×' if p99_triv is not None else '—':>10}  {verdict}")
        lines.append({**out, "available": True, **{k: r[k] for k in (
            "rps", "p50_ms", "p99_ms", "requests", "non_2xx_3xx", "socket_errors", "content_type",
            "content_encoding", "bytes", "x_cache")},
            "baseline_endpoint": base_r["endpoint"] if base_r else None, "baseline_note": base_note or None,
            "vs_baseline": vs_base, "rps_vs_trivial": vs_triv, "p99_vs_trivial": p99_triv,
            "budget": verdict if budgeted else None})

    for path, bpath, note, budgeted in pairs:
        label = "/api/v2/daily-outlook/{uid}" if path.startswith("/api/v2/") else path
        if path == "/":
            label = "/ (outlook page, HTML)"
        row(results[("headroom", path)], f"headroom {label}", results.get(("baseline", bpath)), note, budgeted)
    if stand_in:
        print(f"  (no {TRIVIAL} in this binary: ratios to the trivial route are not computed; "
              f"/health below, which reads the database, is shown for scale only)")
        row(stand_in, "headroom /health (not trivial)")
    if a.baseline:
        seen = set()
        for path, bpath, note, _ in pairs:
            if bpath not in seen:
                seen.add(bpath)
                row(results[("baseline", bpath)], f"baseline {bpath}")
    notes = {p: n for p, _, n, _ in pairs}
    print(f"  baselines: /api/v1/outlook vs {notes['/api/v1/outlook']}; / vs {notes['/']}; "
          f"{TRIVIAL} vs the baseline's /health")
    print(f"  budget (cached JSON APIs, {a.connections} connections): ≥ {MIN_RPS:,} req/s, ≥ {MIN_VS_BASELINE:.0f}× "
          f"the baseline, ≥ {MIN_VS_TRIVIAL:.0%} of {TRIVIAL}'s req/s, p99 ≤ {MAX_P99_VS_TRIVIAL}× its p99")

    if ceiling and ceiling["available"]:
        c_rps = ceiling["rps"]
        cached = [results[("headroom", p)] for p, _, _, b in pairs if b and results[("headroom", p)]["available"]]
        share = ", ".join(f"{r['rps'] / c_rps:.0%}" for r in cached)
        scaled = MIN_RPS * c_rps / REFERENCE_CEILING_RPS
        print(f"  machine ceiling: a bare axum route (bench/bare_route.rs: no middleware, no cookie, same runtime "
              f"and allocator) {c_rps:,.0f} req/s, p99 {ms(ceiling['p99_ms'])}; the SPEC's machine ≈ "
              f"{REFERENCE_CEILING_RPS:,} req/s, so this one runs at {c_rps / REFERENCE_CEILING_RPS:.0%} of it "
              f"({MIN_RPS:,} req/s there ≈ {scaled:,.0f} here). Cached APIs: {share} of the bare route.")
        lines.append({"bench": "load", "backend": a.label, "system": "bare axum", "endpoint": TRIVIAL,
                      "figure": "machine_ceiling", "rps": c_rps, "p50_ms": ceiling["p50_ms"],
                      "p99_ms": ceiling["p99_ms"], "reference_rps": REFERENCE_CEILING_RPS,
                      "budget_scaled_to_machine": scaled})
    elif ceiling:
        print(f"  machine ceiling: not measured (the bare route answered {ceiling['status']})")
    if replica and replica["available"]:
        r_rps = replica["rps"]
        cached = [(p, results[("headroom", p)]) for p, _, _, b in pairs if b and results[("headroom", p)]["available"]]
        share = ", ".join(f"{p} {r['rps'] / r_rps:.0%}" for p, r in cached)
        print(f"  same bytes: the bare route sending {REPLICA_OF}'s answer as Headroom sent it ({replica['bytes']} B "
              f"{replica['content_encoding']} body, same headers) {r_rps:,.0f} req/s, p99 {ms(replica['p99_ms'])}; "
              f"cached APIs: {share} of it")
        lines.append({"bench": "load", "backend": a.label, "system": "bare axum", "endpoint": "/replica",
                      "figure": "same_bytes_ceiling", "replica_of": REPLICA_OF, "rps": r_rps,
                      "p50_ms": replica["p50_ms"], "p99_ms": replica["p99_ms"], "bytes": replica["bytes"]})
    elif a.ceiling:
        print("  same bytes: not measured (the bare route has no replica)")

    # The outlook cache's hit rate, as the server counts it.
    hit = {"bench": "load", "backend": a.label, "figure": "cache_hit_rate"}
    if stats_after is None:
        print(f"  cache stats: endpoint not available (GET /api/performance/cache/stats answers {stats_status})")
        hit.update(available=False, status=stats_status)
    else:
        found = outlook_rate(stats_after)
        if not found:
            print("  cache stats: no hit rate found in /api/performance/cache/stats: "
                  + json.dumps(stats_after)[:300])
            hit.update(available=True, hit_rate=None, stats=stats_after)
        elif found[1] is None:
            print(f"  cache hit rate ({found[0]}): no reads counted yet")
            hit.update(available=True, where=found[0], hit_rate=None)
        else:
            where, rate, hits, misses = found
            window = None
            before = outlook_rate(stats_before) if stats_before else None
            if before and before[0] == where and None not in (hits, misses, before[2], before[3]):
                dh, dm = hits - before[2], misses - before[3]
                window = dh / (dh + dm) if dh + dm else None
            verdict = "meets" if (window if window is not None else rate) >= MIN_HIT_RATE else "misses"
            extra = f"; during warm-up + load {window:.2%} ({dh:,} hits, {dm:,} misses)" if window is not None else ""
            print(f"  cache hit rate ({where}): {rate:.2%} since start{extra}   "
                  f"budget ≥ {MIN_HIT_RATE:.0%}: {verdict}")
            hit.update(available=True, where=where, hit_rate=rate, hits=hits, misses=misses,
                       window_hit_rate=window, budget=verdict)
    lines.append(hit)
    for line in lines:
        print(json.dumps(line), file=sys.stderr)


if __name__ == "__main__":
    main()
