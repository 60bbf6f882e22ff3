#!/usr/bin/env python3
"""What the performance center costs (SPEC S8: at most 3 % of throughput). Two servers run
side by side on the same data, one with monitoring on and one with HEADROOM_MONITORING=false;
each endpoint is loaded on both, in rounds that alternate which goes first, and the medians
are compared. Interleaving matters on a shared 2-core VM: throughput drifts by 10-20 % from
one minute to the next, so an "on" run followed by an "off" run measures the drift, not the
monitoring. Figures, not a test.

usage: overhead.py --on URL --off URL --email E --password P [--duration 5] [--rounds 3]"""
import argparse
import json
import statistics
import sys

from lib import Client, cookie_header
from load import ACCEPT_ENCODING, fetch, run_wrk

BUDGET = 0.03


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--on", required=True, help="the server with monitoring on")
    p.add_argument("--off", required=True, help="the same data, HEADROOM_MONITORING=false")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--duration", type=int, default=5, help="seconds of load per endpoint and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--label", default="sqlite")
    a = p.parse_args()

    servers = {}
    for name, base in (("on", a.on), ("off", a.off)):
        c = Client(base)
        c.sign_in(a.email, a.password)
        servers[name] = (base, {"Cookie": cookie_header(c), "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"})
        user_id = c.json("GET", "/api/v1/outlook").get("user_id", 1)
    endpoints = ["/health/live", "/api/v1/outlook", f"/api/v2/daily-outlook/{user_id}", "/api/usage/current", "/"]
    for base, headers in servers.values():
        for path in endpoints:
            for _ in range(20):
                status, _, _ = fetch(base, path, headers)
                if status != 200:
                    sys.exit(f"{base}{path} answers {status}")

    rps = {(name, path): [] for name in servers for path in endpoints}
    for r in range(a.rounds):
        order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
        for path in endpoints:
            for name in order:
                base, headers = servers[name]
                rps[(name, path)].append(run_wrk(a, base + path, headers)["rps"])

    print(f"monitoring overhead [{a.label}]: two servers on the same data, performance center on vs "
          f"off (HEADROOM_MONITORING=false), wrk -c{a.connections} {a.duration} s × {a.rounds} rounds "
          f"per endpoint, alternating which goes first; budget ≤ {BUDGET:.0%} of throughput")
    print(f"  {'endpoint':<32}{'on req/s (median)':>19}{'off req/s (median)':>20}{'cost':>8}   rounds on / off")
    costs = []
    for path in endpoints:
        on, off = statistics.median(rps[("on", path)]), statistics.median(rps[("off", path)])
        cost = 1 - on / off
        costs.append(cost)
        rounds = " ".join(f"{x:,.0f}/{y:,.0f}" for x, y in zip(rps[("on", path)], rps[("off", path)]))
        print(f"  {path:<32}{on:>19,.0f}{off:>20,.0f}{cost:>8.1%}   {rounds}")
    mean = sum(costs) / len(costs)
    verdict = "meets" if mean <= BUDGET else "misses"
    print(f"  mean cost {mean:.1%} over {len(costs)} endpoints   budget: {verdict}")
    print(json.dumps({"bench": "monitoring_overhead", "backend": a.label, "mean_cost": mean,
                      "per_endpoint": {p: 1 - statistics.median(rps[("on", p)]) / statistics.median(rps[("off", p)])
                                       for p in endpoints}}), file=sys.stderr)


if __name__ == "__main__":
    main()
