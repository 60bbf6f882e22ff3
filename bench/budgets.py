#!/usr/bin/env python3
"""SPEC budgets nobody had measured (issue "Operations and reliability", item 5), for the
release build on SQLite:

1. RSS idle (SPEC: <= 50 MB). Twice: a first start on a fresh database that seeds the demo
   household itself (HEADROOM_SEED_DEMO=true: a year of readings generated in-process
   before serving), and a restart on that same database (what a server runs like every
   day after). Each: RSS as /health first answers, then after signing in and a few
   requests, 5 s and 15 s idle (see idle_rss for why both).
2. 10 000 idle keep-alive connections (SPEC: <= 200 MB, and the cached API's p99 within
   1.5x of its p99 without them). Each connection sends one complete
   `GET /health/live` keep-alive request, reads the answer and then stays open, idle.
   `wrk -t2 -c32` loads `/api/v1/outlook` (signed in, cached) without them and with them,
   in alternating rounds since this VM's speed swings between minutes.
3. Cold start to serving on a migrated SQLite database (SPEC: <= 200 ms): `headroom serve`
   started again and again, timed from just before exec to the first 200 from
   `GET /health/live` (a raw socket tried every 2 ms). On a database that `headroom
   migrate` made (empty) and on the demo household's.

Starts and stops its own servers (it needs their pids, their environment and many starts).
Figures, not a test: exits 0 when a budget is missed; the table says so.
"""
import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

from lib import Client, cookie_header, free_port, wait_for
from load import parse_wrk
from login_flood import Sampler, proc_status

MB = 2**20
DEMO_EMAIL, DEMO_PASSWORD = "ada@headroom.demo", "headroom-demo"  # loopback's demo admin
CACHED = "/api/v1/outlook"
# One complete keep-alive request: after its answer hyper waits for the next one's headers.
LIVE = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# hyper's header-read timeout also runs while a keep-alive connection waits for its next
# request (hyper 1.x restarts it each time the connection goes idle), so at the default
# 10 s the server closes idle connections before a wrk round is over. The benchmark holds
# them for minutes; this stretches the timeout for its servers and the output says so.
HEADER_TIMEOUT_SECS = 300
BUDGET_RSS_IDLE, BUDGET_RSS_CONNS, BUDGET_P99_RATIO, BUDGET_COLD_MS = 50, 200, 1.5, 200

rows = []  # (figure, measured, budget, met or None)


def record(label, figure, value, unit, budget=None, met=None, shown=None):
    rows.append((figure, shown if shown is not None else f"{value:.1f} {unit}",
                 budget or "—", met))
    print(json.dumps({"bench": "budgets", "label": label, "figure": figure, "value": value,
                      "unit": unit, "met": met}), file=sys.stderr)



def raise_fd_limit(want=65536):
    """10 000 sockets here, as many in the server (which inherits this limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limits in ((want, max(hard, want)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss(pid):
    return proc_status(pid)[0]


def rss_split(pid):
    """(anonymous, file-backed) resident bytes: the second is mostly the binary's own pages
    that have run, shared with every other process mapping the same file."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out.get("RssAnon", 0), out.get("RssFile", 0) + out.get("RssShmem", 0)


class Server:
    """`headroom serve` on 127.0.0.1 and a free port, its output in the work folder."""

    def __init__(self, a, db_url, name, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        run_env = dict(os.environ, HEADROOM_ADDR=f"127.0.0.1:{self.port}",
                       LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}", HEADROOM_DATABASE_URL=db_url,
                       HEADROOM_DATA_DIR=a.work, HEADROOM_COLLECTOR="false", HEADROOM_LOG="warn")
        run_env.update(env)
        self.log_path = os.path.join(a.work, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([a.binary, "serve"], cwd=a.root, env=run_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            with open(self.log_path) as f:
                tail = f.read()[-2000:]
            raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{tail}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def migrate(a, db_url):
    env = dict(os.environ, HEADROOM_DATABASE_URL=db_url, HEADROOM_DATA_DIR=a.work, HEADROOM_LOG="warn")
    subprocess.run([a.binary, "migrate"], cwd=a.root, env=env, check=True)


def warm(base):
    """Signs in as the demo admin and reads what a visitor would; returns the client."""
    c = Client(base)
    c.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    for _ in range(5):
        for path in ("/", CACHED, "/api/usage/current", "/health"):
            status, _ = c.call("GET", path)
            if status >= 400:
                raise RuntimeError(f"GET {path} answered {status}")
    return c


def connections_open(client):
    """`headroom_http_connections_open` from /metrics, or None (shown, never relied on)."""
    status, raw = client.call("GET", "/metrics")
    if status != 200:
        return None
    for line in raw.decode(errors="replace").splitlines():
        if line.startswith("headroom_http_connections_open"):
            return int(float(line.split()[-1]))
    return None


# ---- 1. RSS idle --------------------------------------------------------------------

def idle_rss(server, label, short_secs, long_secs):
    """RSS as /health first answers, then `short_secs` and `long_secs` after signing in and
    a few requests. Both, because a sign-in's Argon2 hash (19 MiB of memory) runs on one of
    tokio's blocking threads, which keeps that memory until the thread has idled for 10 s
    and exits: 5 s after a sign-in the process is ~17 MB bigger than 15 s after."""
    wait_for(server.base, "/health", 600)
    at_start = rss(server.pid)
    client = warm(server.base)
    signed_in = time.perf_counter()
    time.sleep(short_secs)
    short = rss(server.pid)
    time.sleep(max(0.0, signed_in + long_secs - time.perf_counter()))
    long = rss(server.pid)
    anon, file = rss_split(server.pid)
    print(f"  {label}: RSS {at_start / MB:.1f} MB as /health first answered; after signing in and a few "
          f"requests, {short / MB:.1f} MB {short_secs} s idle, {long / MB:.1f} MB {long_secs} s idle "
          f"({anon / MB:.1f} MB anonymous, {file / MB:.1f} MB mapped from files, mostly the binary)")
    return at_start, short, long, client


# ---- 2. idle keep-alive connections -------------------------------------------------

async def open_idle(port, n, parallel):
    """Opens n connections, each answering one /health/live; returns (open, failures).
    At most `parallel` in the handshake at once, so the listen queue never overflows
    (an overflowing SYN queue turns into 1 s, 3 s, ... retries, not a memory figure)."""
    gate = asyncio.Semaphore(parallel)
    conns, errors = [], []

    async def one():
        async with gate:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            except (OSError, asyncio.TimeoutError) as e:
                errors.append(repr(e))
                return
            try:
                w.write(LIVE)
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await asyncio.wait_for(r.readexactly(length), 30)
                conns.append((r, w))
            except Exception as e:  # noqa: BLE001 — counted and shown, the run goes on
                errors.append(repr(e))
                w.close()

    await asyncio.gather(*(one() for _ in range(n)))
    return conns, errors


def still_open(conns):
    return sum(1 for r, w in conns if not r.at_eof() and not w.is_closing())


def wrk(a, base, cookie, duration=None):
    cmd = ["wrk", "-t2", "-c32", f"-d{duration or a.duration}s", "--latency",
           "-H", f"Cookie: {cookie}", "-H", "Accept-Encoding: br, gzip", base + CACHED]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


async def with_connections(a, server, client):
    cookie = cookie_header(client)
    plain, loaded, per_conn, peaks, opened_counts = [], [], [], [], []
    # A short round first, not counted: the first seconds under load grow the runtime's
    # and allocator's pools, which would land on the first "without" round alone.
    await asyncio.to_thread(wrk, a, server.base, cookie, 3)
    for rnd in range(1, a.rounds + 1):
        # Without: the cached API alone.
        w0 = await asyncio.to_thread(wrk, a, server.base, cookie)
        plain.append(w0)
        await asyncio.sleep(2)
        before = rss(server.pid)
        t0 = time.perf_counter()
        conns, errors = await open_idle(server.port, a.connections, a.parallel)
        took = time.perf_counter() - t0
        await asyncio.sleep(2)  # let the last tasks park and the allocator settle
        after = rss(server.pid)
        seen = connections_open(client)
        opened_counts.append(len(conns))
        per_conn.append((after - before) / max(1, len(conns)))
        # With: the same load beside them, the server's RSS sampled every 100 ms.
        sampler = Sampler(server.pid)
        sampler.start()
        w1 = await asyncio.to_thread(wrk, a, server.base, cookie)
        sampler.stop.set()
        await asyncio.to_thread(sampler.join)
        loaded.append(w1)
        peak = max(sampler.peak_rss, after)
        peaks.append(peak)
        await asyncio.sleep(0.2)  # lets any close from the server reach our streams
        left = still_open(conns)
        seen_after = connections_open(client)
        for _, w in conns:
            w.close()
        await asyncio.sleep(3)
        closed = rss(server.pid)
        print(f"  round {rnd}: without them {w0['rps']:,.0f} req/s, p50 {w0['p50_ms']:.2f} ms, "
              f"p99 {w0['p99_ms']:.2f} ms; RSS {before / MB:.1f} MB")
        print(f"    opened {len(conns):,} in {took:.1f} s ({len(errors)} failed"
              f"{': ' + errors[0] if errors else ''}); server counts {seen if seen is not None else '?'} open; "
              f"RSS {after / MB:.1f} MB, {per_conn[-1] / 1024:.1f} KB per connection")
        print(f"    with them    {w1['rps']:,.0f} req/s, p50 {w1['p50_ms']:.2f} ms, p99 {w1['p99_ms']:.2f} ms; "
              f"peak RSS {peak / MB:.1f} MB; still open after: {left:,} (server counts "
              f"{seen_after if seen_after is not None else '?'})")
        print(f"    closed: RSS {closed / MB:.1f} MB"
              f"{'' if not (w0['non_2xx_3xx'] or w1['non_2xx_3xx']) else '  (wrk saw non-2xx answers!)'}")
    return plain, loaded, per_conn, peaks, opened_counts


# ---- 3. cold start --------------------------------------------------------------------

def first_live(server, limit=30.0):
    """Seconds from exec to the first 200 from /health/live."""
    deadline = server.started + limit
    while time.perf_counter() < deadline:
        server.check_alive()
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", server.port))
            s.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b"HTTP/1.1 200"):
                return time.perf_counter() - server.started
        except OSError:
            pass  # not listening yet
        finally:
            s.close()
        time.sleep(0.002)
    raise RuntimeError(f"/health/live did not answer within {limit} s")


def cold_starts(a, db_url, name, runs):
    times = []
    for i in range(runs):
        server = Server(a, db_url, f"{name}-{i}")
        try:
            times.append(first_live(server) * 1000)
        finally:
            server.stop()
    return times


# ---- main ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True, help="a scratch folder for databases and logs")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the servers' working directory (where a relative LEPTOS_SITE_ROOT points from)")
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--parallel", type=int, default=200, help="connections in the handshake at once")
    ap.add_argument("--rounds", type=int, default=2, help="alternating without/with rounds")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk round")
    ap.add_argument("--idle", type=int, default=5, help="seconds idle before reading RSS")
    ap.add_argument("--idle-long", type=int, default=15,
                    help="and again after this long (past tokio's 10 s blocking-thread keep-alive)")
    ap.add_argument("--cold-runs", type=int, default=10)
    ap.add_argument("--label", default="sqlite")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    fds = raise_fd_limit()
    if fds < a.connections + 1000:
        sys.exit(f"the file descriptor limit is {fds}; {a.connections} connections need more (ulimit -n)")
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(f"\nSPEC budgets ({a.label}, release build {a.binary}), {started}")

    # 1. RSS idle: a first start that seeds the demo household, then a restart on it.
    demo_db = f"sqlite://{os.path.join(a.work, 'demo.db')}"
    print("RSS idle (demo household):")
    first = Server(a, demo_db, "first-start", HEADROOM_SEED_DEMO="true")
    try:
        first_at_start, first_short, first_long, _ = idle_rss(
            first, "first start, seeding the demo data itself", a.idle, a.idle_long)
    finally:
        first.stop()
    server = Server(a, demo_db, "restart", HEADROOM_MAX_CONNECTIONS=str(a.connections * 2),
                    HEADROOM_HEADER_TIMEOUT_SECS=str(HEADER_TIMEOUT_SECS))
    try:
        at_start, short, long, client = idle_rss(server, "restart on that database", a.idle, a.idle_long)
        for name, start, idles in (("restart", at_start, (short, long)),
                                   ("first start, seeded itself", first_at_start, (first_short, first_long))):
            record(a.label, f"RSS as it starts serving ({name})", start / MB, "MB")
            for secs, value in zip((a.idle, a.idle_long), idles):
                record(a.label, f"RSS idle {secs} s after a sign-in ({name})", value / MB, "MB",
                       f"≤ {BUDGET_RSS_IDLE} MB", value / MB <= BUDGET_RSS_IDLE)

        # 2. Idle keep-alive connections, on the restarted server.
        print(f"\n{a.connections:,} idle keep-alive connections (HEADROOM_MAX_CONNECTIONS={a.connections * 2}, "
              f"HEADROOM_HEADER_TIMEOUT_SECS={HEADER_TIMEOUT_SECS}: at the default 10 s the server closes "
              f"idle keep-alive connections), wrk -t2 -c32 -d{a.duration}s on {CACHED}:")
        plain, loaded, per_conn, peaks, opened = asyncio.run(with_connections(a, server, client))
    finally:
        server.stop()
    p99_without = statistics.median(w["p99_ms"] for w in plain)
    p99_with = statistics.median(w["p99_ms"] for w in loaded)
    ratio = p99_with / p99_without if p99_without else float("nan")
    peak = max(peaks)
    rounds = lambda values, scale, fmt: ", ".join(fmt.format(v / scale) for v in values)  # noqa: E731
    record(a.label, f"RSS with {min(opened):,} idle connections (peak, under wrk)", peak / MB, "MB",
           f"≤ {BUDGET_RSS_CONNS} MB", peak / MB <= BUDGET_RSS_CONNS,
           shown=f"{peak / MB:.1f} MB (rounds: {rounds(peaks, MB, '{:.0f}')})")
    record(a.label, "RSS per idle connection", statistics.median(per_conn) / 1024, "KB",
           shown=f"{statistics.median(per_conn) / 1024:.1f} KB (rounds: {rounds(per_conn, 1024, '{:.1f}')})")
    record(a.label, "cached API p99 with them / without", ratio, "x", f"≤ {BUDGET_P99_RATIO}×",
           ratio <= BUDGET_P99_RATIO,
           shown=f"{ratio:.2f}× ({p99_with:.2f} / {p99_without:.2f} ms)")
    record(a.label, "cached API req/s with them / without",
           statistics.median(w["rps"] for w in loaded) / statistics.median(w["rps"] for w in plain), "x",
           shown=f"{statistics.median(w['rps'] for w in loaded):,.0f} / {statistics.median(w['rps'] for w in plain):,.0f}")

    # 3. Cold start: a database `headroom migrate` made, then the demo household's.
    print(f"\ncold start to serving, {a.cold_runs} starts each (exec to the first 200 from /health/live):")
    empty_db = f"sqlite://{os.path.join(a.work, 'migrated.db')}"
    migrate(a, empty_db)
    for name, db_url in (("migrated, empty", empty_db), ("migrated, demo household", demo_db)):
        times = cold_starts(a, db_url, "cold-" + name.split()[-1], a.cold_runs)
        med = statistics.median(times)
        print(f"  {name}: min {min(times):.0f}, median {med:.0f}, max {max(times):.0f} ms  "
              f"({', '.join(f'{t:.0f}' for t in times)})")
        record(a.label, f"cold start, {name} (median)", med, "ms", f"≤ {BUDGET_COLD_MS} ms",
               med <= BUDGET_COLD_MS,
               shown=f"{med:.0f} ms (min {min(times):.0f}, max {max(times):.0f})")

    width = max(len(r[0]) for r in rows)
    print(f"\n{'figure':<{width}}  {'measured':<34}  {'SPEC budget':<12}  ")
    for figure, shown, budget, met in rows:
        verdict = "" if met is None else ("met" if met else "NOT MET")
        print(f"{figure:<{width}}  {shown:<34}  {budget:<12}  {verdict}")


if __name__ == "__main__":
    main()
