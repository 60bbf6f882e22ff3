"""Small helpers shared by the benchmark scripts: an HTTP client that keeps the session
cookie, and the API calls the benchmarks set themselves up with. Standard library only,
so the benchmarks run wherever Python 3 does."""
import http.client
import http.cookiejar
import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request


class Client:
    """A signed-in browser-like client (cookies kept, redirects not followed)."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def call(self, method, path, body=None, headers=None, form=None):
        data, hdrs = None, dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["content-type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("content-type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req) as res:
                return res.status, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def sign_in(self, email, password):
        status, _ = self.call("POST", "/login", form={"email": email, "password": password, "next": "/"})
        assert status == 303, f"sign-in failed: {status}"

    def json(self, method, path, body=None):
        status, raw = self.call(method, path, body)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def wait_for(base, path="/health", seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + path) as res:
                if res.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{base}{path} did not answer within {seconds} s")


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


class Keepalive:
    """One persistent HTTP/1.1 connection, for load loops."""

    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

    def post(self, path, body, headers):
        self.conn.request("POST", path, body=body, headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        return res.status, data


def cookie_header(client):
    """The signed-in client's cookies as one `Cookie` header value (for other tools)."""
    return "; ".join(f"{k.name}={k.value}" for k in client.jar)


def import_legacy_csv(client, binary, database_url, path, name, env=None):
    """Creates a 1 TiB/month quota meter (MB, UTC, resets on the 1st) through the API and
    loads a legacy monitor CSV into it with `headroom import`. Returns (meter id, rows)."""
    meter = client.json("POST", "/api/v1/meters", {"kind": "quota", "name": name, "unit": "MB", "timezone": "UTC",
                                                   "quota": 1048576, "reset_rule": "monthly:1"})["id"]
    run_env = dict(os.environ, HEADROOM_DATABASE_URL=database_url, HEADROOM_LOG="warn")
    run_env.update(env or {})
    done = subprocess.run([binary, "import", "--meter", str(meter), "--format", "legacy", path],
                          capture_output=True, text=True, env=run_env)
    if done.returncode != 0:
        raise RuntimeError(f"headroom import {path} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    with open(path) as f:
        rows = sum(1 for _ in f) - 1
    return meter, rows


TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_secs(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Counter:
    """`SELECT count(*)` on a database, without going through a server (SQLite: a reader
    beside the server's writer, which WAL allows; PostgreSQL: psql)."""

    def __init__(self, url):
        self.url, self.sqlite = url, None
        if url.startswith("sqlite:"):
            self.sqlite = sqlite3.connect(url.split("://", 1)[1].split("?", 1)[0], timeout=5)

    def __call__(self, sql):
        if self.sqlite is not None:
            return self.sqlite.execute(sql).fetchone()[0]
        out = subprocess.run(["psql", self.url, "-Atqc", sql], check=True, capture_output=True, text=True)
        return int(out.stdout.strip())
