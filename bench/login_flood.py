"""Sign-in flood: many clients posting random emails to /login, while a probe measures
/health/live and the server's memory is sampled (issue "Safe to expose", item 1).

Phases: idle (the probe alone), then the flood (wrk with --clients connections posting
random emails; with --forwarded each request claims a random X-Forwarded-For address, as a
botnet behind a trusted proxy would look), then a short cool-down. Prints the probe's p50
and p99 for each phase, the ratio flood/idle, the server's peak RSS and threads during the
flood and its RSS after. Figures, not a pass/fail test.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from lib import percentile

LUA = r"""
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
local forwarded = os.getenv("FLOOD_FORWARDED") == "1"
request = function()
  local email = "flood" .. math.random(1, 1000000000) .. "@example.org"
  local body = "email=" .. email .. "&password=not-the-password-123&next=%2F"
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  if forwarded then
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  end
  return wrk.format("POST", "/login", headers, body)
end
"""


def proc_status(pid):
    rss, threads = 0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


class Probe(threading.Thread):
    """GET /health/live on one keep-alive connection every 10 ms, recording latencies."""

    def __init__(self, base):
        super().__init__(daemon=True)
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.samples = []
        self.failures = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            out, self.samples = self.samples, []
            return out

    def run(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/health/live")
                res = conn.getresponse()
                res.read()
                elapsed = time.perf_counter() - started
                with self.lock:
                    self.samples.append(elapsed * 1000)
            except Exception:
                self.failures += 1
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            time.sleep(0.01)


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_rss, self.peak_threads = 0, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss, threads = proc_status(self.pid)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_threads = max(self.peak_threads, threads)
            time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--duration", type=int, default=12)
    ap.add_argument("--forwarded", action="store_true")
    ap.add_argument("--label", default="")
    args = ap.parse_args()

    probe = Probe(args.base)
    probe.start()
    time.sleep(5)
    idle = probe.take()
    rss_idle, threads_idle = proc_status(args.pid)

    sampler = Sampler(args.pid)
    sampler.start()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA)
        script = f.name
    env = dict(os.environ, FLOOD_FORWARDED="1" if args.forwarded else "0")
    wrk = subprocess.run(
        ["wrk", "-t2", f"-c{args.clients}", f"-d{args.duration}s", "--timeout", "30s", "-s", script, args.base + "/login"],
        capture_output=True, text=True, env=env,
    )
    flood = probe.take()
    sampler.stop.set()
    sampler.join()
    time.sleep(3)
    rss_after, _ = proc_status(args.pid)
    probe.stop.set()
    os.unlink(script)

    requests = next((l.split()[0] for l in wrk.stdout.splitlines() if "requests in" in l), "?")
    non_2xx = next((l.split()[-1] for l in wrk.stdout.splitlines() if "Non-2xx" in l), "0")
    idle_p99, flood_p99 = percentile(idle, 99), percentile(flood, 99)
    mode = "random X-Forwarded-For via a trusted proxy" if args.forwarded else "one address"
    print(f"\nsign-in flood ({args.label}, {mode}): {args.clients} clients for {args.duration} s, {requests} sign-ins sent ({non_2xx} answered 503)")
    print(f"  /health/live p50/p99 idle   {percentile(idle, 50):7.2f} / {idle_p99:7.2f} ms  ({len(idle)} probes)")
    print(f"  /health/live p50/p99 flood  {percentile(flood, 50):7.2f} / {flood_p99:7.2f} ms  ({len(flood)} probes, {probe.failures} failed)")
    print(f"  p99 flood / idle            {flood_p99 / idle_p99 if idle_p99 else float('nan'):7.2f}x  (target <= 2x)")
    print(f"  RSS idle {rss_idle / 2**20:6.1f} MB, peak during flood {sampler.peak_rss / 2**20:6.1f} MB (target < 200 MB), after {rss_after / 2**20:6.1f} MB")
    print(f"  threads idle {threads_idle}, peak {sampler.peak_threads}")
    print(json.dumps({"bench": "login_flood", "label": args.label, "forwarded": args.forwarded,
                      "idle_p99_ms": idle_p99, "flood_p99_ms": flood_p99,
                      "peak_rss_mb": sampler.peak_rss / 2**20, "rss_after_mb": rss_after / 2**20,
                      "peak_threads": sampler.peak_threads}), file=sys.stderr)


if __name__ == "__main__":
    main()
