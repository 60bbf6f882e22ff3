#!/usr/bin/env python3
"""What the performance center costs: pairs the load benchmark's rows for one backend with
monitoring on (label `<backend>`) and off (`<backend>/monitoring-off`), per endpoint, from
bench/results/latest.jsonl, and prints throughput with both and the difference. SPEC S8's
budget: monitoring costs at most 3 % of throughput. Figures, not a test.

usage: overhead.py latest.jsonl sqlite"""
import json
import sys

BUDGET = 0.03


def main():
    path, backend = sys.argv[1], sys.argv[2]
    rows = {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("bench") == "load" and r.get("system") == "headroom":
                rows[(r.get("backend"), r.get("endpoint"))] = r
    on = {e: r for (b, e), r in rows.items() if b == backend}
    off = {e: r for (b, e), r in rows.items() if b == f"{backend}/monitoring-off"}
    print(f"monitoring overhead [{backend}]: same server and data, performance center on vs off "
          f"(HEADROOM_MONITORING=false); budget ≤ {BUDGET:.0%} of throughput")
    print(f"  {'endpoint':<38}{'on req/s':>12}{'off req/s':>12}{'cost':>9}")
    costs = []
    for endpoint, r_on in on.items():
        r_off = off.get(endpoint)
        if not r_off or not r_off.get("rps"):
            continue
        cost = 1 - r_on["rps"] / r_off["rps"]
        costs.append(cost)
        print(f"  {endpoint:<38}{r_on['rps']:>12,.0f}{r_off['rps']:>12,.0f}{cost:>8.1%}")
    if costs:
        mean = sum(costs) / len(costs)
        verdict = "meets" if mean <= BUDGET else "misses"
        print(f"  mean cost {mean:.1%} over {len(costs)} endpoints (run-to-run noise on 2 shared "
              f"cores is a few %)   budget: {verdict}")
        print(json.dumps({"bench": "monitoring_overhead", "backend": backend, "mean_cost": mean}),
              file=sys.stderr)


if __name__ == "__main__":
    main()
