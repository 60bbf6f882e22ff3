#!/usr/bin/env bash
# Checks the recipes in deploy/ offline, with the tools that will read them, so a typo
# fails here and not on an operator's server. One line per check; any failure fails.
#   - nginx -t on deploy/nginx/headroom.conf (inside a throwaway nginx.conf, with a
#     self-signed certificate in place of the placeholders; needs no root)
#   - caddy validate on both Caddyfiles (in a namespace without network when the machine
#     allows one, which shows validation never reaches for a certificate)
#   - systemd-analyze verify on the unit (any warning fails it), and its sandbox's
#     exposure score, so the hardening cannot quietly go
#   - compose.yaml parsed and its shape checked, validated against the Compose
#     Specification's schema, and given to `docker compose config` when the compose
#     plugin is installed (it needs no daemon)
#   - the Containerfile: what it copies exists and is not .dockerignored, the lib.sh
#     functions it calls exist, its runtime stage is Debian slim and not root
#   - the recipes agree with the app: every HEADROOM_*/LEPTOS_* name they use is a real
#     setting, the routes they name exist, and their limits and timeouts match the app's
#     defaults in src/server/config/mod.rs
# nginx, caddy and systemd-analyze are installed with apt when missing, PyYAML and
# check-jsonschema with pip into the tools folder (pinned; once per machine). Where
# services may start (not in a container), apt starts nginx's and caddy's with their
# packages' default sites; stop them if this machine should not serve on port 80.
source "$(dirname "$0")/lib.sh"

DEPLOY="$ROOT/deploy"
WORK=$(mktemp -d /tmp/headroom-deploy.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# Runs one check and prints one line: ok/FAIL/skip, what and which file, how long it
# took, and a note (a version, why it was skipped); a failing check's output follows,
# indented. The check runs as a background job because bash ignores `set -e` inside
# anything tested by `if`, `&&` or `||`, and the checks rely on it: a command that fails
# inside one fails that check.
check() {
  local what=$1 file=$2 status=0 started
  shift 2
  started=$(date +%s%N)
  "$@" >"$WORK/out" 2>&1 &
  wait $! || status=$?
  local ms=$((($(date +%s%N) - started) / 1000000))
  local line
  line=$(printf '%-24s %-30s %3d.%ds  %s' "$what" "$file" $((ms / 1000)) $((ms % 1000 / 100)) "$(note)")
  line=${line%  }
  case $status in
    0) printf '  ok    %s\n' "$line" ;;
    3) printf '  skip  %s\n' "$line" ;;
    *)
      printf '  FAIL  %s\n' "$line"
      sed 's/^/        /' "$WORK/out"
      FAILED=$((FAILED + 1))
      ;;
  esac
  rm -f "$WORK/note"
}

# A check may leave a short note for its line (a version, why it was skipped).
note() { if [ -s "$WORK/note" ]; then cat "$WORK/note"; fi; }
say() { printf '%s' "$*" >"$WORK/note"; }

# Runs a command in a network namespace of its own when this machine lets us make one
# (as root, or as any user through a user namespace): it has no network, and ports it
# binds are its own. Otherwise just runs it.
can_isolate() { unshare -n true 2>/dev/null || unshare -rn true 2>/dev/null; }
offline() {
  if unshare -n true 2>/dev/null; then
    unshare -n "$@"
  elif unshare -rn true 2>/dev/null; then
    unshare -rn "$@"
  else
    "$@"
  fi
}

# --- tools --------------------------------------------------------------------------

# nginx and systemd-analyze live in sbin or bin; a non-root PATH may lack sbin.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CHECK_JSONSCHEMA_VERSION=0.39.0
PYYAML_VERSION=6.0.3
VENV="$TOOLS_DIR/deploy-check"
PY="$VENV/bin/python"
ensure_tools() {
  local missing=()
  [ -x "$NGINX" ] || missing+=(nginx)
  command -v caddy >/dev/null || missing+=(caddy)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v python3 >/dev/null || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  # The Python checks run in a virtual environment of their own in the tools folder
  # (Debian's python3 refuses `pip install` outside one): PyYAML, and check-jsonschema,
  # which carries the Compose Specification's schema, so compose.yaml is checked against
  # it offline even where Docker's compose plugin is not installed.
  local want="check-jsonschema, version $CHECK_JSONSCHEMA_VERSION"
  if [ "$("$VENV/bin/check-jsonschema" --version 2>/dev/null)" != "$want" ] \
     || ! "$VENV/bin/python" -c "import yaml; assert yaml.__version__ == '$PYYAML_VERSION'" 2>/dev/null; then
    log "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION and PyYAML $PYYAML_VERSION (once per machine)"
    python3 -m venv --clear "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv --clear "$VENV"; }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "pyyaml==$PYYAML_VERSION"
  fi
}

# --- nginx --------------------------------------------------------------------------

check_nginx() {
  local dir="$WORK/nginx"
  mkdir -p "$dir"
  say "$("$NGINX" -v 2>&1 | sed 's/.*version: nginx\//nginx /')"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=headroom.example.org -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log"; return 1; }
  # The site's certificate paths are placeholders: point them at the generated pair.
  sed -E -e "s#^([[:space:]]*ssl_certificate)[[:space:]]+[^;]+;#\1 $dir/cert.pem;#" \
    -e "s#^([[:space:]]*ssl_certificate_key)[[:space:]]+[^;]+;#\1 $dir/key.pem;#" \
    "$DEPLOY/nginx/headroom.conf" >"$dir/headroom.conf"
  # `nginx -t` binds the listen ports (a port already in use does not fail the test, a
  # forbidden one does): root binds 80 and 443 in a network namespace of its own, any
  # other user tests the same site on 10080 and 10443. (Not a user namespace: nginx
  # would then be root there and fail to hand its temp folders to an unmapped user.)
  if [ "$(id -u)" != 0 ]; then
    sed -i -E -e 's/^([[:space:]]*listen[[:space:]]+(\[::\]:)?)80\b/\110080/' \
      -e 's/^([[:space:]]*listen[[:space:]]+(\[::\]:)?)443\b/\110443/' "$dir/headroom.conf"
  fi
  # The placeholders must have been there (and under /etc/ssl, as documented).
  local key
  for key in ssl_certificate ssl_certificate_key; do
    grep -Eq "^[[:space:]]*${key}[[:space:]]+/etc/ssl/" "$DEPLOY/nginx/headroom.conf" \
      || { echo "no $key placeholder under /etc/ssl/"; return 1; }
  done
  # The smallest main configuration around the site, every path it writes in $dir, so
  # this runs as any user and touches nothing of an installed nginx.
  cat >"$dir/nginx.conf" <<EOF
pid $dir/nginx.pid;
error_log $dir/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/headroom.conf;
}
EOF
  if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
    unshare -n "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf"
  else
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf"
  fi
}

# --- caddy --------------------------------------------------------------------------

check_caddy() {
  local file=$1 how="no network"
  can_isolate || how="network not cut off here"
  say "caddy $(caddy version | cut -d' ' -f1), $how"
  # Caddy keeps its state (the local CA it makes for `localhost`) under XDG_DATA_HOME.
  XDG_DATA_HOME="$WORK/caddy/data" XDG_CONFIG_HOME="$WORK/caddy/config" \
    offline caddy validate --adapter caddyfile --config "$file" >"$WORK/caddy.log" 2>&1 \
    || { cat "$WORK/caddy.log"; return 1; }
}

# --- systemd ------------------------------------------------------------------------

# The unit as it would be installed, except that ExecStart= points at a program that
# exists here (verify insists on it); everything else is checked as written.
unit_copy() {
  mkdir -p "$WORK/systemd"
  sed -E 's#^ExecStart=[^ ]+#ExecStart=/bin/true#' "$DEPLOY/systemd/headroom.service" \
    >"$WORK/systemd/headroom.service"
  grep -q '^ExecStart=/bin/true serve$' "$WORK/systemd/headroom.service"
}

check_unit() {
  unit_copy
  say "$(systemd-analyze --version | head -1 | cut -d' ' -f1-2)"
  # verify exits 0 on a misspelt key or a bad value (it logs "…, ignoring" and goes on),
  # so anything it says is a failure.
  systemd-analyze verify --man=no "$WORK/systemd/headroom.service" >"$WORK/verify.log" 2>&1
  if [ -s "$WORK/verify.log" ]; then cat "$WORK/verify.log"; return 1; fi
}

# systemd's own score of how exposed the service is (0 = fully sandboxed, 10 = not at
# all); the unit scores 1.5. Over 2.0 means a protection went missing.
check_unit_exposure() {
  unit_copy
  if ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    say "systemd-analyze too old for --offline"
    return 3
  fi
  local out
  out=$(systemd-analyze security --offline=true --threshold=20 --no-pager \
    "$WORK/systemd/headroom.service" 2>&1) || { echo "$out" | grep -v '^✓'; return 1; }
  say "exposure $(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p') ≤ 2.0"
}

check_env_example() {
  # Every line is a comment, blank or KEY=value without quotes or spaces, which both
  # systemd and `set -a; . file` read the same way.
  local bad
  bad=$(grep -nvE '^(#.*|[[:space:]]*|[A-Z][A-Z0-9_]*=[^[:space:]"'"'"']*)$' "$DEPLOY/systemd/headroom.env.example" || true)
  if [ -n "$bad" ]; then echo "not KEY=value: $bad"; return 1; fi
  # And a shell reads it without complaint.
  (set -a && . "$DEPLOY/systemd/headroom.env.example")
}

# --- compose, Containerfile, agreement with the app (Python) ------------------------

check_compose() {
  "$PY" - "$ROOT" <<'PY'
import pathlib, re, sys, yaml

root = pathlib.Path(sys.argv[1])
deploy = root / "deploy"
try:
    doc = yaml.safe_load((deploy / "compose.yaml").read_text())
except yaml.YAMLError as e:
    sys.exit(f"not valid YAML: {e}")
problems = []
services = doc.get("services") or {}

def image(name):
    return str(services.get(name, {}).get("image", ""))

for name, want in (("postgres", "postgres:16"), ("redis", "redis:7")):
    if name not in services:
        problems.append(f"no `{name}` service")
    elif not image(name).endswith(want):
        problems.append(f"`{name}` runs {image(name)!r}, not {want}")
    elif "test" not in (services[name].get("healthcheck") or {}):
        problems.append(f"`{name}` has no healthcheck")

apps = {n: s for n, s in services.items() if "HEADROOM_DATABASE_URL" in (s.get("environment") or {})
        or "headroom" in str(s.get("image", "")).split("/")[-1].split(":")[0]}
if len(apps) < 2:
    problems.append(f"{len(apps)} Headroom instance(s), want at least 2")
if len({s.get("image") for s in apps.values()}) > 1:
    problems.append("the Headroom instances run different images")
names, volumes = set(), []
for name, s in apps.items():
    env = s.get("environment") or {}
    if not str(env.get("HEADROOM_DATABASE_URL", "")).startswith("postgres://"):
        problems.append(f"`{name}`: HEADROOM_DATABASE_URL is not postgres://…")
    if not str(env.get("HEADROOM_REDIS_URL", "")).startswith("redis://"):
        problems.append(f"`{name}`: HEADROOM_REDIS_URL is not redis://…")
    if not env.get("HEADROOM_TRUSTED_PROXIES"):
        problems.append(f"`{name}`: no HEADROOM_TRUSTED_PROXIES (the proxy's address would count as every client's)")
    if "test" not in (s.get("healthcheck") or {}):
        problems.append(f"`{name}`: no healthcheck")
    deps = s.get("depends_on") or {}
    for dep in ("postgres", "redis"):
        if not isinstance(deps, dict) or (deps.get(dep) or {}).get("condition") != "service_healthy":
            problems.append(f"`{name}`: does not wait for {dep} to be healthy")
    cname = s.get("container_name", name)
    if cname in names:
        problems.append(f"`{name}`: container name {cname!r} used twice")
    names.add(cname)
    data = [v.split(":")[0] for v in s.get("volumes") or [] if ":/var/lib/headroom" in v]
    if not data:
        problems.append(f"`{name}`: no volume at /var/lib/headroom")
    volumes += data
    build = s.get("build")
    if build:
        context = (deploy / build.get("context", ".")).resolve()
        if not (context / build.get("dockerfile", "Dockerfile")).is_file():
            problems.append(f"`{name}`: build file {build.get('dockerfile')} not found under {context}")
if len(volumes) != len(set(volumes)):
    problems.append("Headroom instances share a data volume (each clears its upload folder at start)")
if not any(s.get("build") for s in apps.values()):
    problems.append("no Headroom service builds the image")

subnets = [c.get("subnet") for n in (doc.get("networks") or {}).values() if n
           for c in ((n.get("ipam") or {}).get("config") or [])]
for name, s in apps.items():
    if subnets and (s.get("environment") or {}).get("HEADROOM_TRUSTED_PROXIES") not in subnets:
        problems.append(f"`{name}`: HEADROOM_TRUSTED_PROXIES is not the network's subnet {subnets}")

proxies = [n for n, s in services.items() if "caddy" in image(n)]
if not proxies:
    problems.append("no Caddy service in front")
for name in proxies:
    s = services[name]
    deps = s.get("depends_on") or {}
    for app in apps:
        if not isinstance(deps, dict) or (deps.get(app) or {}).get("condition") != "service_healthy":
            problems.append(f"`{name}`: does not wait for {app} to be healthy")
    mounts = [v for v in s.get("volumes") or [] if v.split(":")[1:2] == ["/etc/caddy/Caddyfile"]]
    if not mounts:
        problems.append(f"`{name}`: no Caddyfile mounted at /etc/caddy/Caddyfile")
    for m in mounts:
        caddyfile = deploy / m.split(":")[0]
        if not caddyfile.is_file():
            problems.append(f"`{name}`: {m.split(':')[0]} does not exist")
            continue
        text = re.sub(r"#.*", "", caddyfile.read_text())
        upstreams = set(re.findall(r"\b([a-z0-9-]+):3000\b", text))
        if upstreams != set(apps):
            problems.append(f"{caddyfile.name} proxies to {sorted(upstreams)}, the instances are {sorted(apps)}")
        if "health_uri /health/live" not in text:
            problems.append(f"{caddyfile.name}: no active health check on /health/live")

if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
  say "postgres, redis, 2 instances, caddy"
}

check_compose_schema() {
  say "check-jsonschema $CHECK_JSONSCHEMA_VERSION, no network"
  can_isolate || say "check-jsonschema $CHECK_JSONSCHEMA_VERSION"
  offline "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$DEPLOY/compose.yaml"
}

check_compose_config() {
  if ! docker compose version >/dev/null 2>&1; then
    say "no compose plugin here"
    return 3
  fi
  # Interpolation needs the one required variable; the value does not matter here.
  (cd "$DEPLOY" && POSTGRES_PASSWORD=check offline docker compose -f compose.yaml config -q)
}

check_containerfile() {
  "$PY" - "$ROOT" <<'PY'
import fnmatch, pathlib, re, shlex, sys

root = pathlib.Path(sys.argv[1])
text = (root / "deploy/container/Containerfile").read_text()
# Instructions, with continuation lines joined and comments dropped.
lines, current = [], ""
for raw in text.splitlines():
    line = raw.strip()
    if not current and (not line or line.startswith("#")):
        continue
    if line.endswith("\\"):
        current += line[:-1] + " "
        continue
    lines.append(current + line)
    current = ""
stages = []
for line in lines:
    word, _, rest = line.partition(" ")
    if word.upper() == "FROM":
        stages.append([])
    if stages:
        stages[-1].append((word.upper(), rest.strip()))
problems = []
if len(stages) < 2:
    problems.append("not a multi-stage build")
ignored = [l.strip() for l in (root / ".dockerignore").read_text().splitlines()
           if l.strip() and not l.startswith("#")] if (root / ".dockerignore").exists() else []
lib = (root / "scripts/lib.sh").read_text()
for stage in stages:
    for word, rest in stage:
        if word == "COPY" and "--from=" not in rest:
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            for src in args[:-1]:
                if src == ".":
                    continue
                if not (root / src).exists():
                    problems.append(f"COPY {src}: no such file in the repository")
                for pattern in ignored:
                    if fnmatch.fnmatch(src, pattern) or src.startswith(pattern.rstrip("/") + "/"):
                        problems.append(f"COPY {src}: excluded by .dockerignore ({pattern})")
        if word == "RUN" and "scripts/lib.sh" in rest:
            for fn in re.findall(r"&&\s*([a-z_]+)", rest.split("bash -c", 1)[-1]):
                if fn in ("bash", "mkdir", "cp", "rm"):
                    continue
                if not re.search(rf"^{fn}\(\)", lib, re.M):
                    problems.append(f"RUN calls {fn}, which scripts/lib.sh does not define")
for needed in ("rust-toolchain.toml", "scripts/lib.sh"):
    if needed not in text:
        problems.append(f"does not use {needed}")
for fn in ("ensure_toolchain", "ensure_build_tools", "leptos_env", "build_release"):
    if fn not in text:
        problems.append(f"does not build with lib.sh's {fn}")
runtime = stages[-1] if stages else []
base = runtime[0][1] if runtime else ""
if not re.search(r"(^|/)debian:bookworm-slim$", base.split()[0] if base else ""):
    problems.append(f"runtime stage is {base!r}, not debian:bookworm-slim")
users = [rest for word, rest in runtime if word == "USER"]
if not users or users[-1].split(":")[0] in ("root", "0"):
    problems.append("runtime stage runs as root (no USER, or USER root/0)")
words = {word: rest for word, rest in runtime}
for word, want in (("EXPOSE", "3000"), ("VOLUME", "/var/lib/headroom")):
    if want not in words.get(word, ""):
        problems.append(f"runtime stage lacks {word} {want}")
if "/health/live" not in words.get("HEALTHCHECK", ""):
    problems.append("runtime stage has no HEALTHCHECK on /health/live")
env = " ".join(rest for word, rest in runtime if word == "ENV")
for want in ("HEADROOM_ADDR=0.0.0.0:3000", "LEPTOS_SITE_ROOT=/usr/local/share/headroom/site",
             "LEPTOS_HASH_FILE=/usr/local/share/headroom/hash.txt"):
    if want not in env:
        problems.append(f"runtime stage does not set {want}")
for path in ("/usr/local/bin/headroom", "/usr/local/share/headroom/site", "/usr/local/share/headroom/hash.txt"):
    if not any(word == "COPY" and rest.endswith(" " + path) for word, rest in runtime):
        problems.append(f"runtime stage does not install {path}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
  say "$(grep -c '^FROM' "$DEPLOY/container/Containerfile") stages, runs as non-root"
}

check_agreement() {
  "$PY" - "$ROOT" <<'PY'
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
deploy = root / "deploy"
config = (root / "src/server/config/mod.rs").read_text()
lib = (root / "scripts/lib.sh").read_text()
problems = []

# Every HEADROOM_* name in deploy/ is a setting of the table atop config/mod.rs (or one of
# lib.sh's build variables); every LEPTOS_* name is a LeptosOptions field, which Leptos
# reads from LEPTOS_<FIELD> (a misspelt one is silently ignored).
table = {}
for line in config.splitlines():
    m = re.match(r"//! \| `(HEADROOM_[A-Z0-9_]+)` \| [^|]* \| ([^|]*) \|", line)
    if m:
        table[m.group(1)] = m.group(2).strip()
leptos = {"OUTPUT_NAME", "SITE_ROOT", "SITE_PKG_DIR", "ENV", "SITE_ADDR", "RELOAD_PORT",
          "RELOAD_EXTERNAL_PORT", "RELOAD_WS_PROTOCOL", "NOT_FOUND_PATH", "HASH_FILE", "HASH_FILES"}
files = [p for p in deploy.rglob("*") if p.is_file()] + [root / ".dockerignore"]
for path in files:
    text = path.read_text()
    for name in sorted(set(re.findall(r"\bHEADROOM_[A-Z0-9_]*[A-Z0-9]\b", text))):
        if name not in table and not re.search(rf"\b{name}\b", lib):
            problems.append(f"{path.relative_to(root)}: {name} is not a Headroom setting")
    for name in sorted(set(re.findall(r"\bLEPTOS_([A-Z0-9_]*[A-Z0-9])\b", text))):
        if name not in leptos:
            problems.append(f"{path.relative_to(root)}: LEPTOS_{name} is not a Leptos setting")

def default(name):
    m = re.match(r"\d+", table.get(name, ""))
    if not m:
        problems.append(f"config/mod.rs: no numeric default for {name}")
        return 0
    return int(m.group(0))

upload_limit = default("HEADROOM_UPLOAD_LIMIT_BYTES")
upload_timeout = default("HEADROOM_UPLOAD_TIMEOUT_SECS")
grace = default("HEADROOM_SHUTDOWN_GRACE_SECS")

def size(v):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]

def secs(v):
    m = re.fullmatch(r"(\d+)(s|m|h)?", v)
    return int(m.group(1)) * {None: 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]

# nginx: the upload location takes the app's largest upload for as long as the app waits.
nginx = re.sub(r"#.*", "", (deploy / "nginx/headroom.conf").read_text())
uploads = [body for head, body in re.findall(r"location\s+([^{]*)\{([^}]*)\}", nginx) if "imports" in head]
if len(uploads) != 1:
    problems.append("nginx: no single location for /api/v1/meters/*/imports")
else:
    body = dict(re.findall(r"^\s*(\w+)\s+([^;]+);", uploads[0], re.M))
    if size(body.get("client_max_body_size", "0")) != upload_limit:
        problems.append(f"nginx: uploads' client_max_body_size {body.get('client_max_body_size')} is not the app's {upload_limit} bytes")
    for key in ("client_body_timeout", "proxy_send_timeout", "proxy_read_timeout"):
        if secs(body.get(key, "60s")) < upload_timeout:
            problems.append(f"nginx: uploads' {key} {body.get(key, '60s (default)')} is shorter than the app's {upload_timeout} s")
    if body.get("proxy_request_buffering") != "off":
        problems.append("nginx: uploads are buffered by nginx before the app can refuse them")

# Stopping: the service manager waits longer than the app drains.
unit = (deploy / "systemd/headroom.service").read_text()
m = re.search(r"^TimeoutStopSec=(\d+)s?$", unit, re.M)
if not m or int(m.group(1)) <= grace:
    problems.append(f"systemd: TimeoutStopSec is not above the app's {grace} s drain")
compose = (deploy / "compose.yaml").read_text()
for value in re.findall(r"stop_grace_period:\s*(\d+)s", compose) or ["0"]:
    if int(value) <= grace:
        problems.append(f"compose: stop_grace_period {value}s is not above the app's {grace} s drain")

# The routes the recipes single out exist in the app.
routes = "\n".join(p.read_text() for p in (root / "src/server/http/routes").glob("*.rs"))
for route in ("/health/live", "/api/performance/stream", "/api/v1/meters/{id}/imports", "/meters/{id}/import"):
    if f'"{route}"' not in routes:
        problems.append(f"the app has no route {route}, which the recipes name")

if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
  say "settings, routes, upload limit, timeouts"
}

# ------------------------------------------------------------------------------------

ensure_tools
started=$SECONDS
log "checking the deployment recipes in deploy/ (offline)"
check "nginx -t" nginx/headroom.conf check_nginx
check "caddy validate" caddy/Caddyfile check_caddy "$DEPLOY/caddy/Caddyfile"
check "caddy validate" compose/Caddyfile check_caddy "$DEPLOY/compose/Caddyfile"
check "systemd-analyze verify" systemd/headroom.service check_unit
check "systemd-analyze security" systemd/headroom.service check_unit_exposure
check "KEY=value lines" systemd/headroom.env.example check_env_example
check "services, health, order" compose.yaml check_compose
check "Compose Specification" compose.yaml check_compose_schema
check "docker compose config" compose.yaml check_compose_config
check "stages, paths, user" container/Containerfile check_containerfile
check "agreement with the app" "deploy/*, src/server" check_agreement
if [ "$FAILED" -gt 0 ]; then
  die "$FAILED deployment check(s) failed"
fi
log "deployment recipes: all checks passed in $((SECONDS - started)) s"
