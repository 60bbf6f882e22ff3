#!/usr/bin/env python3
"""Batched ingest through the HTTP API: readings stored per second.

Sets up 100 quota meters and an API token through the API, pre-builds batches of 10 000
readings (100 meters x 100 consecutive 10-minute readings, the shape a collector pushing
for many meters produces), then posts them from several connections at once and reports
readings/s and per-batch latency. Every 2xx means the batch was committed."""
import argparse
import json
import sys
import threading
import time

from lib import Client, Keepalive, percentile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--meters", type=int, default=100)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--label", default="")
    a = p.parse_args()

    c = Client(a.base)
    c.sign_in(a.email, a.password)
    meters = []
    for i in range(a.meters):
        m = c.json("POST", "/api/v1/meters", {"kind": "quota", "name": f"bench {i}", "unit": "MB",
                                              "timezone": "UTC", "quota": 1048576, "reset_rule": "monthly:1"})
        meters.append(m["id"])
    token = c.json("POST", "/api/v1/tokens", {"name": "bench", "meter_ids": meters})["token"]

    per_meter = a.batch // a.meters
    start = int(time.time()) // 600 * 600 - 300 * 86400  # well inside the raw retention
    bodies = []
    for b in range(a.batches + 2):
        readings = []
        for m in meters:
            base_t = start + b * per_meter * 600
            for k in range(per_meter):
                readings.append({"meter_id": m, "timestamp": base_t + k * 600,
                                 "value": (b * per_meter + k) * 37.5})
        bodies.append(json.dumps({"readings": readings}).encode())

    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    warm = Keepalive(a.base)
    for body in bodies[:2]:
        status, raw = warm.post("/api/v1/readings", body, headers)
        assert status == 201, raw[:300]

    queue = list(range(2, len(bodies)))
    lock = threading.Lock()
    latencies, failures = [], []

    def worker():
        conn = Keepalive(a.base)
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            t0 = time.perf_counter()
            status, raw = conn.post("/api/v1/readings", bodies[i], headers)
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if status != 201:
                    failures.append((status, raw[:200]))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    total = a.batches * per_meter * a.meters
    if failures:
        print(f"FAILED batches: {failures[:3]}", file=sys.stderr)
        sys.exit(1)
    rate = total / elapsed
    print(f"{a.label:<10} ingest: {total} readings in {elapsed:.2f} s = {rate:,.0f} readings/s "
          f"(batches of {a.batch}, {a.connections} connections; batch p50 {percentile(latencies, 50) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.0f} ms)")
    print(json.dumps({"bench": "ingest", "backend": a.label, "readings": total, "seconds": elapsed,
                      "readings_per_second": rate}), file=sys.stderr)


if __name__ == "__main__":
    main()
