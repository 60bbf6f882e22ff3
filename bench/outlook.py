#!/usr/bin/env python3
"""The outlook's own speed: a user with 3 quota meters, each holding 12 months of 10-minute
readings (the legacy monitor's CSV from gen_readings.py, ending 10–20 minutes ago),
imported with `headroom import`.

* Uncached computation: a new reading marks the outlook stale (its stored row) and drops
  the cached copies, so the next `GET /api/v1/outlook` computes it from the rollups and
  stores it. The server reports that time in its `Server-Timing` header (`outlook`, split
  into `row` lookup, `compute` from the rollups, `store` of the row): the figure judged
  against SPEC's 5 ms, after a warm-up of `--warmup` computations that is printed apart
  (see WARMUP). The edge's `X-Response-Time` (the whole request in the server) and
  the client's round trip on loopback are printed beside it.
* Precomputed: the same request again (a stored outlook, usually answered by the replay
  table, which runs no handler: timed by `X-Response-Time`).
* The outlook page (`GET /`, streamed HTML, read to its last byte) with the outlook stored
  and with it stale.
"""
import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time

from lib import Client, Keepalive, percentile

TIMING = re.compile(r"dur=([0-9.]+)")
# A computed outlook's parts: `row;dur=…, compute;dur=…, store;dur=…`.
PART = re.compile(r"(row|compute|store);dur=([0-9.]+)")
BUDGET_MS = 5  # SPEC: uncached outlook, 3 meters × 12 months of 10-minute data
# Computations right after start that are reported apart from the judged figure. The
# server's pool opens its connections on first use; each connection parses each statement
# once, and PostgreSQL plans a prepared statement afresh for its first five executions on
# a connection before it settles on a cached plan (and loads its catalog caches on first
# touching a table). The pool hands out its 8 connections in turn, shared with ingest and
# the rules, so the outlook's statements reach their cached plans on every connection only
# after 60–70 computations (2026-12-03, per computation: 2–17 ms until then, 1.1–2 ms
# after). 100 leaves a margin. The judged figure is a running server's; the warm-up's is
# printed beside it.
WARMUP = 100


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def timed_get(conn, path, cookie):
    t0 = time.perf_counter()
    conn.conn.request("GET", path, headers={"cookie": cookie, "accept-encoding": "identity"})
    res = conn.conn.getresponse()
    body = res.read()
    took = (time.perf_counter() - t0) * 1000
    if res.status != 200:
        raise RuntimeError(f"GET {path}: {res.status} {body[:200]!r}")
    return took, res, body


def response_ms(res):
    """The server's whole time for a request, from its `X-Response-Time: 1.23ms`."""
    return float(res.getheader("x-response-time").removesuffix("ms"))


def cpu_times():
    """The machine's CPU time so far by kind (/proc/stat's first line), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return dict(zip(("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"), fields))


def steal_share(before, after):
    """The share of CPU time the hypervisor gave to other guests between two cpu_times():
    on a shared VM, the bursts of it are where this benchmark's slowest computations come
    from (2026-12-03: a run with 22–31 % steal for some seconds had p95 10.7 ms, the runs
    around it 3.0–3.6 ms)."""
    if not before or not after:
        return None
    total = sum(after.values()) - sum(before.values())
    return (after["steal"] - before["steal"]) / total if total else 0.0


def summary(values):
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "mean": round(sum(values) / len(values), 3)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--database-url", required=True)
    p.add_argument("--generator", required=True, help="path of the baseline's gen_readings.py")
    p.add_argument("--work", required=True, help="a scratch folder for the CSV files")
    p.add_argument("--rounds", type=int, default=400,
                   help="measured rounds; every other one computes (200 computations)")
    p.add_argument("--warmup", type=int, default=WARMUP,
                   help="computations before the measured ones, reported apart (see WARMUP)")
    p.add_argument("--label", default="")
    a = p.parse_args()

    c = Client(a.base)
    c.sign_in(a.email, a.password)
    cookie = "; ".join(f"{k.name}={k.value}" for k in c.jar)
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    # The data ends 10 to 20 minutes ago, so the readings posted below (a second apart)
    # are never in the future: a reading stamped after "now" sends the outlook down a
    # rarer path (today's newest reading not after now is looked up in the blocks), and
    # whether that happened depended on when in the 10 minutes the benchmark started.
    end = now - dt.timedelta(minutes=now.minute % 10 + 10)
    env = dict(os.environ, HEADROOM_DATABASE_URL=a.database_url, HEADROOM_LOG="warn")
    meters, readings = [], 0
    for i, name in enumerate(["Home fibre", "Mobile", "Office line"]):
        m = c.json("POST", "/api/v1/meters", {"kind": "quota", "name": name, "unit": "MB", "timezone": "UTC",
                                              "quota": 1048576, "reset_rule": "monthly:1"})["id"]
        path = os.path.join(a.work, f"outlook-{i}.csv")
        with open(path, "w") as f:
            subprocess.run([sys.executable, a.generator, "--months", "12", "--seed", str(20 + i),
                            "--end", end.strftime("%Y-%m-%dT%H:%M")], check=True, stdout=f)
        with open(path) as f:
            rows = sum(1 for _ in f) - 1
        run([a.binary, "import", "--meter", str(m), "--format", "legacy", path], env=env)
        meters.append(m)
        readings += rows

    # The last imported row is the newest reading; new ones follow it a second apart.
    with open(os.path.join(a.work, "outlook-0.csv")) as f:
        last = f.readlines()[-1].split(",")
    last_at = dt.datetime.fromisoformat(last[0].replace("Z", "+00:00"))
    last_used = float(last[1])

    api = Keepalive(a.base)
    miss_server, miss_client, hit_server, hit_client, page_hit, page_miss = [], [], [], [], [], []
    miss_parts = {"row": [], "compute": [], "store": []}
    miss_whole = []
    recomputed = 0  # reads after a computation that computed again
    page_bytes = 0
    measuring_from = None
    for i in range(2 * a.warmup + a.rounds):
        if i == 2 * a.warmup:
            measuring_from = cpu_times()
            recomputed = 0  # the warm-up's are not the measured rounds
        at = last_at + dt.timedelta(seconds=i + 1)
        status, raw = api.post("/api/v1/readings", json.dumps(
            {"meter_id": meters[0], "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": last_used + i + 1}),
            {"cookie": cookie, "content-type": "application/json"})
        if status != 201:
            raise RuntimeError(f"reading refused: {status} {raw[:200]!r}")
        if i % 2 == 0:
            took, res, _ = timed_get(api, "/api/v1/outlook", cookie)
            assert res.getheader("x-cache") == "miss", res.getheader("x-cache")
            header = res.getheader("server-timing")
            miss_server.append(float(TIMING.search(header).group(1)))
            parts = dict(PART.findall(header))
            for name, values in miss_parts.items():
                values.append(float(parts[name]))
            miss_client.append(took)
            miss_whole.append(response_ms(res))
            # A value computed while an invalidation went by is answered but not kept
            # (cache/mod.rs), so the next read may compute again: ask until it is stored.
            for _ in range(20):
                took, res, _ = timed_get(api, "/api/v1/outlook", cookie)
                if res.getheader("x-cache") == "hit":
                    break
                recomputed += 1
            assert res.getheader("x-cache") == "hit", res.getheader("x-cache")
            # A stored answer is usually a replay (the same session asked within 1 s), answered
            # before the router: no handler, so no Server-Timing; the edge's stamp times it.
            hit_server.append(response_ms(res))
            hit_client.append(took)
            took, _, body = timed_get(api, "/", cookie)
            page_hit.append(took)
            page_bytes = len(body)
        else:
            took, _, _ = timed_get(api, "/", cookie)
            page_miss.append(took)

    steal = steal_share(measuring_from, cpu_times())
    # The warm-up is the first rounds of the same loop (every request alike), set apart:
    # each computation round added one figure to each list, and each other round one page.
    warm_server = miss_server[:a.warmup]
    for values in (miss_server, miss_client, miss_whole, hit_server, hit_client, page_hit, page_miss,
                   *miss_parts.values()):
        del values[:a.warmup]

    figures = {
        "uncached_server_ms": summary(miss_server), "uncached_round_trip_ms": summary(miss_client),
        "uncached_whole_request_ms": summary(miss_whole),
        "stored_server_ms": summary(hit_server), "stored_round_trip_ms": summary(hit_client),
        "page_stored_ms": summary(page_hit), "page_stale_ms": summary(page_miss),
        **{f"uncached_{name}_ms": summary(values) for name, values in miss_parts.items()},
        **({"warmup_server_ms": summary(warm_server)} if warm_server else {}),
        **({"cpu_steal_share": round(steal, 4)} if steal is not None else {}),
    }
    print(f"outlook [{a.label}]: 3 quota meters, {readings:,} readings (12 months, 10-minute)")
    unc = figures["uncached_server_ms"]
    verdict = lambda v: "PASS" if v <= BUDGET_MS else "MISS"  # noqa: E731
    print(f"  uncached outlook, server time     p50 {unc['p50']:7.2f} ms  p95 {unc['p95']:7.2f} ms"
          f"   budget ≤ {BUDGET_MS} ms: p50 {verdict(unc['p50'])}, p95 {verdict(unc['p95'])}"
          f"  ({len(miss_server)} computations)")
    if steal is not None:
        print(f"  CPU time stolen by the hypervisor while measuring: {100 * steal:.1f} %"
              " (bursts of it make the slowest computations; compare runs with little)")
    if warm_server:
        warm = summary(warm_server)
        print(f"  the {len(warm_server)} computations before them (warm-up, not judged)"
              f"  p50 {warm['p50']:.2f} ms  p95 {warm['p95']:.2f} ms  max {max(warm_server):.2f} ms"
              f"  first {warm_server[0]:.2f} ms")
    print("    of which (p50 / p95): " + ", ".join(
        f"{name} {figures[f'uncached_{name}_ms']['p50']:.2f} / {figures[f'uncached_{name}_ms']['p95']:.2f} ms"
        for name in miss_parts))
    print("      (row: looking for the stored copy; compute: reading the rollups, computing and "
          "serialising; store: keeping it as the row)")
    print(f"  uncached outlook, whole request   p50 {figures['uncached_whole_request_ms']['p50']:7.2f} ms"
          f"  p95 {figures['uncached_whole_request_ms']['p95']:7.2f} ms   (X-Response-Time: session, "
          f"middleware, compression too)")
    print(f"  uncached outlook, round trip      p50 {figures['uncached_round_trip_ms']['p50']:7.2f} ms"
          f"  p95 {figures['uncached_round_trip_ms']['p95']:7.2f} ms")
    if recomputed:
        print(f"  ({recomputed} reads right after a computation computed again: not kept, see the script)")
    print(f"  stored outlook, whole request     p50 {figures['stored_server_ms']['p50']:7.2f} ms"
          f"  p95 {figures['stored_server_ms']['p95']:7.2f} ms")
    print(f"  outlook page ({page_bytes:,} B HTML), stored p50 {figures['page_stored_ms']['p50']:7.2f} ms"
          f"  p95 {figures['page_stored_ms']['p95']:7.2f} ms")
    print(f"  outlook page, stale (recomputed)  p50 {figures['page_stale_ms']['p50']:7.2f} ms"
          f"  p95 {figures['page_stale_ms']['p95']:7.2f} ms")
    print(json.dumps({"bench": "outlook", "backend": a.label, "readings": readings, **figures}), file=sys.stderr)
    for p in ("p50", "p95"):
        print(json.dumps({"bench": "outlook", "label": a.label,
                          "figure": f"uncached outlook, 3 meters × 12 months, server time {p}",
                          "value": unc[p], "unit": "ms", "budget": f"≤ {BUDGET_MS} ms",
                          "met": unc[p] <= BUDGET_MS}), file=sys.stderr)


if __name__ == "__main__":
    main()
