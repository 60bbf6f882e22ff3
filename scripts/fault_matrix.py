#!/usr/bin/env python3
"""The fault matrix (issue 22, item 3): Headroom under steady mixed load while its
dependencies fail, one fault at a time. Run by scripts/fault-matrix, which starts the
PostgreSQL and Redis this script restarts and kills. Standard library only.

Load: writer threads post batches of readings through POST /api/v1/readings with an
ingest token, each writer to a meter of its own, with consecutive timestamps and a value
that is a function of the timestamp, so a resent batch is identical; a batch that fails
is sent again (to the next instance) until it gets a 2xx. Reader threads read cached JSON
signed in (GET /api/v1/outlook and a meter's trends). Requests go round robin to the
instances that are up, as a load balancer would; a refused connection marks an instance
down and the request goes to the next one (it still counts as an error).

Per fault it prints requests, errors, lost and duplicate readings, the longest request
and the time to recover, and fails (exit 1) when:
  - a reading acknowledged with a 2xx is not stored with its value (lost);
  - a reading is stored twice: the export lists an instant twice or with another value
    than acknowledged, or the stored day blocks or the daily or weekly rollups count
    another number of readings than the export has (a reading counted twice in rollups);
  - a request takes longer than HANG_SECS (a hang);
  - a server error is not the documented one: during a fault an error must be a JSON
    503 with Retry-After (or a 507 for a full disk), never a 500; a dropped connection is
    allowed only from an instance that was killed;
  - the servers do not recover by themselves (without a restart) within RECOVER_SECS
    after the fault is repaired, or the jobs lease is not taken over in time.
"""
import argparse
import calendar
import http.client
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

HANG_SECS = 6.0  # a request answered later than this is a hang: the 3 s wait for a
# connection while the database is down, plus a slow batch on a database just back
RECOVER_SECS = 20.0  # longest wait for the servers to recover once the fault is repaired
CLEAN_TAIL_SECS = 2.0  # a recovery is believed after this long without errors
LEASE_SECS = 3  # HEADROOM_LEASE_SECS for the instances (its minimum)
BATCH = 400  # readings per batch
STEP = 60  # seconds between a meter's readings
WRITERS = 3
READERS = 2
EMAIL = "faults@example.org"
PASSWORD = "fault-matrix-password"


def log(msg):
    print(f"\033[1;36m==>\033[0m {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def value_at(ts):
    """A reading's value is a function of its time: a resend is always identical."""
    return round(((ts // STEP) % 2000) / 10 - 50, 1)


def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Instance:
    """One `headroom serve` process on a fixed loopback port (kept across restarts)."""

    def __init__(self, name, binary, root, env, log_path):
        self.name, self.binary, self.root, self.log_path = name, binary, root, log_path
        self.port = free_port()
        self.env = dict(env, HEADROOM_ADDR=f"127.0.0.1:{self.port}", LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}")
        self.proc = None
        self.up = False

    def start(self, wait=60):
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen([self.binary, "serve"], cwd=self.root, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + wait
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health/live")
                if c.getresponse().status == 200:
                    c.close()
                    self.up = True
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not serve within {wait} s; see {self.log_path}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.up = False

    def stop(self):
        self.kill(signal.SIGTERM)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None


def call(port, method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def sign_in(port):
    form = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "next": "/"})
    status, headers, _ = call(port, "POST", "/login", form,
                              {"content-type": "application/x-www-form-urlencoded"})
    if status != 303 or "set-cookie" not in headers:
        raise RuntimeError(f"sign-in failed: {status}")
    return headers["set-cookie"].split(";", 1)[0]


def api(port, cookie, method, path, payload=None):
    body = json.dumps(payload).encode() if payload is not None else None
    hdrs = {"cookie": cookie}
    if body is not None:
        hdrs["content-type"] = "application/json"
    status, _, raw = call(port, method, path, body, hdrs)
    if status >= 400:
        raise RuntimeError(f"{method} {path}: {status} {raw[:300]!r}")
    return json.loads(raw) if raw else None


class Record:
    __slots__ = ("kind", "instance", "t0", "t1", "status", "retry_after", "code")

    def __init__(self, kind, instance, t0, t1, status, retry_after, code):
        self.kind, self.instance, self.t0, self.t1 = kind, instance, t0, t1
        self.status, self.retry_after, self.code = status, retry_after, code

    @property
    def ok(self):
        return isinstance(self.status, int) and (200 <= self.status < 300 or self.status == 304)


class Load:
    """Steady mixed load over the instances that are up."""

    def __init__(self, instances, cookie, token, meters, start_ts):
        self.instances, self.cookie, self.token, self.meters = instances, cookie, token, meters
        self.start_ts = start_ts
        self.records = []
        self.acked = {m: {} for m in meters}
        self.inflight = {i.name: 0 for i in instances}
        self.lock = threading.Lock()
        self.running = False
        self.threads = []
        self.rr = 0

    def pick(self):
        with self.lock:
            live = [i for i in self.instances if i.up]
            if not live:
                return None
            self.rr += 1
            return live[self.rr % len(live)]

    def request(self, conns, kind, method, path, body, headers):
        inst = self.pick()
        if inst is None:
            time.sleep(0.05)
            return None, None
        t0 = time.time()
        status, retry_after, code, raw = None, None, None, b""
        with self.lock:
            self.inflight[inst.name] += 1
        try:
            c = conns.get(inst.name)
            if c is None:
                c = conns[inst.name] = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=HANG_SECS * 3)
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            raw = r.read()
            status = r.status
            retry_after = r.getheader("retry-after")
            if status >= 400:
                try:
                    code = json.loads(raw)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = None
        except ConnectionRefusedError:
            conns.pop(inst.name, None)
            status = "refused"
            with self.lock:
                inst.up = False  # as a load balancer would, until the instance is back
        except (OSError, http.client.HTTPException) as e:
            old = conns.pop(inst.name, None)
            if old:
                old.close()
            status = "timeout" if isinstance(e, socket.timeout) else "dropped"
        finally:
            with self.lock:
                self.inflight[inst.name] -= 1
        rec = Record(kind, inst.name, t0, time.time(), status, retry_after, code)
        with self.lock:
            self.records.append(rec)
        return rec, raw

    def writer(self, meter):
        conns, ts = {}, self.start_ts
        headers = {"content-type": "application/json", "authorization": f"Bearer {self.token}"}
        while self.running:
            stamps = [ts + k * STEP for k in range(BATCH)]
            body = json.dumps({"readings": [{"meter_id": meter, "timestamp": t, "value": value_at(t)}
                                            for t in stamps]}).encode()
            while self.running:
                rec, raw = self.request(conns, "write", "POST", "/api/v1/readings", body, headers)
                if rec is not None and rec.ok:
                    accepted = json.loads(raw).get("accepted")
                    if accepted != BATCH:
                        raise RuntimeError(f"a 2xx accepted {accepted} of {BATCH} readings: {raw[:200]!r}")
                    with self.lock:
                        for t in stamps:
                            self.acked[meter][t] = value_at(t)
                    break
                time.sleep(0.1)
            ts += BATCH * STEP
            time.sleep(0.02)

    def reader(self, n):
        conns = {}
        headers = {"cookie": self.cookie, "accept-encoding": "br, gzip"}
        paths = ["/api/v1/outlook", f"/api/v1/meters/{self.meters[n % len(self.meters)]}/trends"]
        k = 0
        while self.running:
            self.request(conns, "read", "GET", paths[k % len(paths)], None, headers)
            k += 1
            time.sleep(0.01)

    def start(self):
        self.running = True
        self.threads = [threading.Thread(target=self.writer, args=(m,), daemon=True) for m in self.meters]
        self.threads += [threading.Thread(target=self.reader, args=(n,), daemon=True) for n in range(READERS)]
        for t in self.threads:
            t.start()

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(HANG_SECS * 4)

    def since(self, t):
        with self.lock:
            return [r for r in self.records if r.t1 >= t]

    def last_failure(self):
        with self.lock:
            bad = [r.t1 for r in self.records if not r.ok]
        return max(bad) if bad else None


class Database:
    """Read access to the stored counts, beside the API, for the duplicate check."""

    def __init__(self, url):
        self.url = url

    def counts(self, meter):
        sql = (f"SELECT (SELECT coalesce(sum(count), 0) FROM reading_blocks WHERE meter_id = {meter}), "
               f"(SELECT coalesce(sum(count), 0) FROM daily_rollups WHERE meter_id = {meter}), "
               f"(SELECT coalesce(sum(count), 0) FROM weekly_rollups WHERE meter_id = {meter})")
        return tuple(int(x) for x in self.query(sql)[0])

    def lease_holder(self):
        rows = self.query("SELECT holder, expires_at FROM leases WHERE name = 'jobs'")
        return rows[0] if rows else None

    def query(self, sql):
        if self.url.startswith("sqlite://"):
            with sqlite3.connect(self.url[len("sqlite://"):], timeout=10) as db:
                return [tuple(r) for r in db.execute(sql).fetchall()]
        out = subprocess.run(["psql", "-XAt", "-F", "\t", self.url, "-c", sql],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]

    def integrity(self):
        if not self.url.startswith("sqlite://"):
            return "ok"
        return self.query("PRAGMA integrity_check")[0][0]


class Stack:
    """The instances of one backend, their user, token and meters."""

    def __init__(self, a, label, db_url, count, extra_env, data_dir):
        self.a, self.label, self.db_url = a, label, db_url
        env = dict(os.environ)
        env.update({
            "HEADROOM_DATABASE_URL": db_url, "HEADROOM_DATA_DIR": data_dir, "HEADROOM_LOG": "warn",
            "HEADROOM_LEASE_SECS": str(LEASE_SECS), "HEADROOM_TOKEN_RATE_LIMIT": "1000000",
            "HEADROOM_REQUEST_TIMEOUT_SECS": "30",
        })
        env.update(extra_env)
        self.env = env
        self.db = Database(db_url)
        subprocess.run([a.binary, "users", "add", "--email", EMAIL, "--name", "Faults", "--role", "admin"],
                       input=PASSWORD + "\n", text=True, env=env, cwd=a.root, check=True,
                       capture_output=True)
        names = "ab"
        self.instances = [Instance(f"{label}-{names[k]}", a.binary, a.root, env,
                                   os.path.join(a.work, f"{label}-{names[k]}.log")) for k in range(count)]
        for i in self.instances:
            i.start()
        self.cookie = sign_in(self.instances[0].port)

    def new_load(self, phase):
        """Fresh meters and a token for one fault, so each is checked on its own data."""
        port = self.live().port
        meters = [api(port, self.cookie, "POST", "/api/v1/meters",
                      {"kind": "sensor", "name": f"{phase} {w}", "unit": "°C", "timezone": "UTC"})["id"]
                  for w in range(WRITERS)]
        token = api(port, self.cookie, "POST", "/api/v1/tokens", {"name": phase, "meter_ids": meters})["token"]
        start = (int(time.time()) // 86400 - 300) * 86400  # well inside the raw retention
        return Load(self.instances, self.cookie, token, meters, start)

    def live(self):
        return next(i for i in self.instances if i.up)

    def verify(self, load):
        """(lost, duplicates, notes) for the load's meters, read back through the API."""
        port = self.live().port
        lost = dup = extra = 0
        notes = []
        for m in load.meters:
            path = f"/api/v1/meters/{m}/readings?format=csv&from={rfc3339(load.start_ts)}"
            status, _, raw = call(port, "GET", path, None, {"cookie": self.cookie}, timeout=60)
            if status != 200:
                raise RuntimeError(f"export of meter {m}: {status} {raw[:200]!r}")
            stored = {}
            for line in raw.decode().splitlines()[1:]:
                stamp, value, _ = line.split(",")
                ts = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
                if ts in stored:
                    dup += 1
                stored[ts] = float(value)
            acked = load.acked[m]
            for ts, v in acked.items():
                if ts not in stored:
                    lost += 1
                elif abs(stored[ts] - v) > 1e-9:
                    dup += 1
            for ts in stored.keys() - acked.keys():
                extra += 1
                if abs(stored[ts] - value_at(ts)) > 1e-9:
                    dup += 1
            blocks, daily, weekly = self.db.counts(m)
            for what, n in (("day blocks", blocks), ("daily rollups", daily), ("weekly rollups", weekly)):
                if n != len(stored):
                    dup += abs(n - len(stored))
                    notes.append(f"meter {m}: {what} count {n} readings, the export {len(stored)}")
        if extra:
            notes.append(f"{extra} readings stored whose 2xx never arrived (stored once: fine)")
        acked_total = sum(len(v) for v in load.acked.values())
        return lost, dup, acked_total, notes

    def stop(self):
        for i in self.instances:
            i.stop()


class Matrix:
    def __init__(self, a):
        self.a = a
        self.rows = []
        self.failures = []

    def fail(self, phase, why):
        self.failures.append(f"{phase}: {why}")
        log(f"FAIL {phase}: {why}")

    def judge(self, phase, load, fault_at, repaired_at, stack, allow_dropped=(), reads_must_pass=False,
              extra_notes=(), recovered_floor=0.0):
        """Waits for recovery, stops the load, checks the data and adds the row. Recovery is
        the time from the repair to the last failed request (no failure since, both kinds
        of request succeeding), or `recovered_floor` when that is later (Redis in use
        again, the jobs lease taken over)."""
        recovered = None
        deadline = repaired_at + RECOVER_SECS
        while time.time() < deadline:
            last = load.last_failure()
            quiet_since = max(repaired_at, last or 0)
            tail = load.since(quiet_since)
            if (time.time() - quiet_since >= CLEAN_TAIL_SECS
                    and any(r.kind == "write" and r.ok for r in tail)
                    and any(r.kind == "read" and r.ok for r in tail)):
                recovered = max(0.0, (last or repaired_at) - repaired_at, recovered_floor)
                break
            time.sleep(0.2)
        load.stop()
        recs = load.since(fault_at - 1e9)  # all of the phase
        errors = [r for r in recs if not r.ok]
        longest = max((r.t1 - r.t0 for r in recs), default=0.0)
        hangs = [r for r in recs if r.t1 - r.t0 > HANG_SECS or r.status == "timeout"]
        if hangs:
            slow = "; ".join(f"{r.kind} to {r.instance} sent at fault{r.t0 - fault_at:+.1f} s: {r.status} "
                             f"after {r.t1 - r.t0:.1f} s" for r in sorted(hangs, key=lambda r: r.t0 - r.t1)[:3])
            self.fail(phase, f"{len(hangs)} requests took over {HANG_SECS:.0f} s ({slow})")
        if recovered is None:
            self.fail(phase, f"not recovered {RECOVER_SECS:.0f} s after the fault was repaired")
        bad = []
        for r in errors:
            if r.status in ("refused", "dropped"):
                if r.instance not in allow_dropped:
                    bad.append(f"{r.kind} to {r.instance}: connection {r.status}")
                continue
            if r.status == "timeout":
                continue
            if r.status == 503 and r.retry_after and r.code:
                continue
            if r.status == 507 and r.code:
                continue
            bad.append(f"{r.kind} {r.status} code={r.code} retry-after={r.retry_after}")
        if bad:
            summary = {}
            for b in bad:
                summary[b] = summary.get(b, 0) + 1
            self.fail(phase, "answers other than a JSON 503 with Retry-After / 507: "
                      + "; ".join(f"{n}× {b}" for b, n in sorted(summary.items(), key=lambda x: -x[1])[:4]))
        if reads_must_pass:
            read_errors = [r for r in errors if r.kind == "read"]
            if read_errors:
                self.fail(phase, f"{len(read_errors)} reads failed while only writes should")
        lost, dup, acked, notes = stack.verify(load)
        if lost:
            self.fail(phase, f"{lost} acknowledged readings lost")
        if dup:
            self.fail(phase, f"{dup} readings stored twice or with another value")
        integrity = stack.db.integrity()
        if integrity != "ok":
            self.fail(phase, f"SQLite integrity check: {integrity}")
        codes = {}
        for r in errors:
            codes[str(r.status)] = codes.get(str(r.status), 0) + 1
        self.rows.append({
            "fault": phase, "requests": len(recs), "errors": len(errors),
            "writes": sum(1 for r in recs if r.kind == "write"),
            "acked": acked, "lost": lost, "dup": dup, "longest": longest,
            "recovered": recovered, "codes": codes, "notes": list(extra_notes) + notes,
        })
        for n in list(extra_notes) + notes:
            log(f"  {phase}: {n}")

    def skip(self, phase, why):
        self.rows.append({"fault": phase, "skipped": why})
        log(f"SKIPPED {phase}: {why}")

    def table(self):
        print()
        print(f"{'fault':<34} {'requests':>8} {'errors':>6} {'acked':>7} {'lost':>4} {'dup':>4} "
              f"{'longest':>8} {'recovery':>9}  error answers")
        for r in self.rows:
            if "skipped" in r:
                print(f"{r['fault']:<34} SKIPPED: {r['skipped']}")
                continue
            rec = "never" if r["recovered"] is None else f"{r['recovered']:.1f} s"
            codes = ", ".join(f"{k}×{v}" for k, v in sorted(r["codes"].items())) or "-"
            print(f"{r['fault']:<34} {r['requests']:>8} {r['errors']:>6} {r['acked']:>7} {r['lost']:>4} "
                  f"{r['dup']:>4} {r['longest']:>7.2f}s {rec:>9}  {codes}")
            for n in r["notes"]:
                print(f"{'':<36}{n}")
        print()


def warm(load, seconds):
    """Starts the load and waits until both kinds of request have succeeded."""
    load.start()
    t = time.time()
    deadline = t + 30
    while time.time() < deadline:
        recs = load.since(t)
        if any(r.kind == "write" and r.ok for r in recs) and any(r.kind == "read" and r.ok for r in recs):
            break
        time.sleep(0.1)
    time.sleep(seconds)


def wait_inflight_write(load, inst, limit=5.0):
    """Waits (briefly) for a write to be in flight on `inst`, to kill it mid-batch."""
    deadline = time.time() + limit
    while time.time() < deadline:
        with load.lock:
            if load.inflight[inst.name] > 0:
                return True
        time.sleep(0.002)
    return False


def redis_phase(m, stack, a):
    phase = "Redis killed, restarted"
    load = stack.new_load("redis")
    warm(load, a.steady)
    fault_at = time.time()
    pid = int(open(a.redis_pidfile).read().strip())
    os.kill(pid, signal.SIGKILL)
    time.sleep(a.outage)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(a.redis_port),
                    "--save", "", "--appendonly", "no", "--pidfile", a.redis_pidfile,
                    "--logfile", a.redis_log], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    repaired_at = time.time()
    # Recovered also means the Redis tier is in use again on every instance.
    notes = []
    deadline = repaired_at + RECOVER_SECS
    back = None
    while time.time() < deadline:
        states = []
        for i in stack.instances:
            try:
                _, _, raw = call(i.port, "GET", "/health", timeout=5)
                states.append(json.loads(raw)["cache"]["redis"]["status"])
            except (OSError, ValueError, KeyError):
                states.append("?")
        if all(s == "ok" for s in states):
            back = time.time() - repaired_at
            break
        time.sleep(0.2)
    if back is None:
        m.fail(phase, "the instances did not use Redis again after it came back")
    else:
        notes.append(f"Redis tier in use again on both instances {back:.1f} s after restart")
    m.judge(phase, load, fault_at, repaired_at, stack, extra_notes=notes, recovered_floor=back or 0.0)


def postgres_phase(m, stack, a):
    phase = "PostgreSQL restarted (-m fast)"
    load = stack.new_load("postgres")
    warm(load, a.steady)
    fault_at = time.time()
    # The new postmaster keeps its output: into its log, not a pipe we would wait on.
    out = subprocess.run(a.pg_ctl + ["restart", "-m", "fast", "-w", "-t", "60", "-l", a.pg_log],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"pg_ctl restart failed ({out.returncode}); see {a.pg_log}")
    repaired_at = time.time()
    notes = [f"PostgreSQL down and back in {repaired_at - fault_at:.1f} s"]
    m.judge(phase, load, fault_at, repaired_at, stack, extra_notes=notes)


def postgres_down_phase(m, stack, a):
    """The same with the outage held open, so requests meet a database that is gone."""
    phase = f"PostgreSQL down {a.outage:.0f} s (stop -m fast)"
    load = stack.new_load("postgres-down")
    warm(load, a.steady)
    fault_at = time.time()
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # `start`, unlike `restart`, does not reuse the running server's options (its port).
    with open(os.path.join(os.path.dirname(a.pg_log), "postmaster.opts")) as f:
        opts = shlex.split(f.read())[1:]
    opts = [o for k, o in enumerate(opts) if o != "-D" and (k == 0 or opts[k - 1] != "-D")]
    if subprocess.run(a.pg_ctl + ["stop", "-m", "fast", "-w", "-t", "60"], **quiet).returncode != 0:
        raise RuntimeError("pg_ctl stop failed")
    time.sleep(a.outage)
    if subprocess.run(a.pg_ctl + ["start", "-w", "-t", "60", "-l", a.pg_log, "-o", shlex.join(opts)], **quiet).returncode != 0:
        raise RuntimeError(f"pg_ctl start failed; see {a.pg_log}")
    repaired_at = time.time()
    m.judge(phase, load, fault_at, repaired_at, stack)


def kill_instance_phase(m, stack, a):
    phase = "one instance SIGKILLed mid-batch"
    load = stack.new_load("kill")
    warm(load, a.steady)
    pids = {str(i.pid): i for i in stack.instances}
    holder = stack.db.lease_holder()
    leader = pids.get(holder[0].split("-")[0]) if holder else None
    if leader is None:
        raise RuntimeError(f"no instance holds the jobs lease ({holder})")
    survivor = next(i for i in stack.instances if i is not leader)
    mid = wait_inflight_write(load, leader)
    fault_at = time.time()
    leader.kill(signal.SIGKILL)
    took = None
    deadline = fault_at + LEASE_SECS * 3 + 5
    while time.time() < deadline:
        h = stack.db.lease_holder()
        if h and h[0].split("-")[0] == str(survivor.pid):
            took = time.time() - fault_at
            break
        time.sleep(0.1)
    # The lease; a follower tries to take it every third of a lease; its expiry is in
    # whole seconds and the jobs loop ticks each second.
    bound = LEASE_SECS + max(1, LEASE_SECS // 3) + 2
    notes = [f"killed the jobs leader {leader.name} {'with a batch in flight' if mid else '(no batch in flight)'}"]
    if took is None or took > bound:
        m.fail(phase, f"{survivor.name} did not take the jobs lease within {bound} s "
                      f"(lease {LEASE_SECS} s): {'never' if took is None else f'{took:.1f} s'}")
    else:
        notes.append(f"{survivor.name} took the jobs lease {took:.1f} s after the kill (lease {LEASE_SECS} s)")
    m.judge(phase, load, fault_at, fault_at, stack, allow_dropped=(leader.name,), extra_notes=notes,
            recovered_floor=took or 0.0)
    # Back to two instances for whatever comes next.
    leader.start()


def sqlite_kill_phase(m, stack, a):
    phase = "SQLite SIGKILLed mid-batch, restarted"
    load = stack.new_load("sqlite-kill")
    warm(load, a.steady)
    inst = stack.instances[0]
    mid = wait_inflight_write(load, inst)
    fault_at = time.time()
    inst.kill(signal.SIGKILL)
    inst.start()
    repaired_at = time.time()
    notes = [f"killed {'with a batch in flight' if mid else '(no batch in flight)'}; "
             f"serving again {repaired_at - fault_at:.2f} s later"]
    m.judge(phase, load, fault_at, repaired_at, stack, allow_dropped=(inst.name,), extra_notes=notes)


def disk_full_phase(m, stack, a, mount_dir):
    phase = "data directory's disk full"
    load = stack.new_load("disk-full")
    warm(load, a.steady)
    fault_at = time.time()
    filler = os.path.join(mount_dir, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        chunk = b"\0" * (1 << 20)
        while chunk:
            try:
                os.write(fd, chunk)
            except OSError:
                chunk = chunk[: len(chunk) // 2] if len(chunk) > 512 else b""
    finally:
        os.close(fd)
    # Until a write is refused (the WAL may have room left for a moment).
    deadline = time.time() + 15
    refused = None
    while time.time() < deadline and refused is None:
        refused = next((r for r in load.since(fault_at) if r.kind == "write" and not r.ok), None)
        time.sleep(0.1)
    notes = []
    if refused is None:
        notes.append("no write was refused while the disk was full")
    else:
        notes.append(f"first refused write {refused.t1 - fault_at:.1f} s after the disk filled: "
                     f"{refused.status} {refused.code}")
    time.sleep(a.outage)
    os.unlink(filler)
    repaired_at = time.time()
    m.judge(phase, load, fault_at, repaired_at, stack, reads_must_pass=True, extra_notes=notes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--pg-url", required=True, help="a PostgreSQL the script may restart")
    p.add_argument("--pg-ctl", required=True, help="the pg_ctl command for it, as a JSON list")
    p.add_argument("--pg-log", required=True, help="where the restarted PostgreSQL logs")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--redis-pidfile", required=True)
    p.add_argument("--redis-log", required=True)
    p.add_argument("--steady", type=float, default=4.0, help="seconds of load before each fault")
    p.add_argument("--outage", type=float, default=4.0, help="seconds a fault lasts where we choose")
    p.add_argument("--only", default="", help="comma-separated subset: redis,postgres,postgres-down,kill,sqlite-kill,disk-full")
    a = p.parse_args()
    a.pg_ctl = json.loads(a.pg_ctl)
    only = set(filter(None, a.only.split(",")))
    want = lambda name: not only or name in only  # noqa: E731

    m = Matrix(a)
    stacks, mount_dir = [], None

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if any(want(x) for x in ("redis", "postgres", "postgres-down", "kill")):
            name = f"faults_{os.getpid()}"
            subprocess.run(["psql", "-Xq", a.pg_url, "-c", f"CREATE DATABASE {name}"], check=True)
            db_url = a.pg_url.rsplit("/", 1)[0] + "/" + name
            log(f"PostgreSQL + Redis, two instances ({db_url})")
            stack = Stack(a, "pg", db_url, 2, {"HEADROOM_REDIS_URL": f"redis://127.0.0.1:{a.redis_port}/0"},
                          os.path.join(a.work, "pg-data"))
            stacks.append(stack)
            for name, fn in (("redis", redis_phase), ("postgres", postgres_phase),
                             ("postgres-down", postgres_down_phase), ("kill", kill_instance_phase)):
                if want(name):
                    log(f"fault: {name}")
                    fn(m, stack, a)
            stack.stop()
        if want("sqlite-kill"):
            data = os.path.join(a.work, "sqlite")
            os.makedirs(data, exist_ok=True)
            log("SQLite, one instance")
            stack = Stack(a, "sqlite", f"sqlite://{data}/headroom.db", 1, {}, data)
            stacks.append(stack)
            log("fault: sqlite-kill")
            sqlite_kill_phase(m, stack, a)
            stack.stop()
        if want("disk-full"):
            mount_dir = os.path.join(a.work, "small-disk")
            os.makedirs(mount_dir, exist_ok=True)
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount_dir],
                                     capture_output=True, text=True)
            if mounted.returncode != 0:
                m.skip("data directory's disk full", f"mount -t tmpfs failed: {mounted.stderr.strip() or mounted.returncode}")
                mount_dir = None
            else:
                log("SQLite on a 48 MiB tmpfs, one instance")
                stack = Stack(a, "disk", f"sqlite://{mount_dir}/headroom.db", 1, {}, mount_dir)
                stacks.append(stack)
                log("fault: disk-full")
                disk_full_phase(m, stack, a, mount_dir)
                stack.stop()
    except Exception as e:  # noqa: BLE001 -- reported with the table, then a failure
        m.fail("the run", f"{type(e).__name__}: {e}")
    finally:
        for s in stacks:
            for i in s.instances:
                i.kill(signal.SIGKILL)
        if mount_dir:
            if subprocess.run(["umount", mount_dir], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", mount_dir], capture_output=True)
    m.table()
    if m.failures:
        print("FAILED:")
        for f in m.failures:
            print(f"  {f}")
        sys.exit(1)
    print("fault matrix: every fault passed")


if __name__ == "__main__":
    main()
