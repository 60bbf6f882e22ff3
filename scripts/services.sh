# Throwaway PostgreSQL and Redis servers on free loopback ports, for tests and benchmarks.
# `source scripts/services.sh` after lib.sh; call start_postgres / start_redis, and
# stop_services from an EXIT trap. Each exports the URL it started:
#   HEADROOM_TEST_POSTGRES_URL  postgres://<user>@127.0.0.1:<port>/postgres
#   HEADROOM_TEST_REDIS_URL     redis://127.0.0.1:<port>/0
# A server that does not come up is an error, never a skip.

SERVICES_DIR=""
PG_RUNAS=()

services_dir() {
  if [ -z "$SERVICES_DIR" ]; then
    SERVICES_DIR=$(mktemp -d /tmp/headroom-services.XXXXXX)
    chmod 755 "$SERVICES_DIR"
  fi
}

pg_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null; then command -v "$name"; return; fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return; fi
  done
  return 1
}

start_postgres() {
  services_dir
  local initdb pg_ctl port user data
  initdb=$(pg_bin initdb) || { apt_install postgresql; initdb=$(pg_bin initdb); } || die "no PostgreSQL server binaries (initdb) found"
  pg_ctl=$(pg_bin pg_ctl) || die "no pg_ctl found"
  port=$(free_port)
  data="$SERVICES_DIR/pg"
  user=$(id -un)
  # initdb refuses to run as root: use an unprivileged system account for the cluster.
  if [ "$(id -u)" = 0 ]; then
    id headroom-test >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin headroom-test
    user=headroom-test
    PG_RUNAS=(runuser -u headroom-test --)
    mkdir -p "$data" && chown headroom-test "$data"
  fi
  "${PG_RUNAS[@]}" "$initdb" -D "$data" -A trust -U "$user" --no-sync >"$SERVICES_DIR/initdb.log" 2>&1 \
    || { cat "$SERVICES_DIR/initdb.log" >&2; die "initdb failed"; }
  # Durability is pointless for a throwaway test cluster; speed is not.
  "${PG_RUNAS[@]}" "$pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 ${PG_FAST:--c fsync=off -c synchronous_commit=off -c full_page_writes=off} -c max_connections=300" \
    >/dev/null || { cat "$data/server.log" >&2; die "PostgreSQL did not start"; }
  export HEADROOM_TEST_POSTGRES_URL="postgres://$user@127.0.0.1:$port/postgres"
  PG_CTL_CMD=("${PG_RUNAS[@]}" "$pg_ctl" -D "$data")
  log "PostgreSQL on 127.0.0.1:$port"
}

start_redis() {
  services_dir
  command -v redis-server >/dev/null || apt_install redis-server
  command -v redis-server >/dev/null || die "redis-server is not available"
  local port
  port=$(free_port)
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log" >/dev/null \
    || die "redis-server did not start"
  local i
  for ((i = 0; i < 50; i++)); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
    sleep 0.1
  done
  redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || { cat "$SERVICES_DIR/redis.log" >&2; die "Redis did not answer"; }
  export HEADROOM_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  log "Redis on 127.0.0.1:$port"
}

stop_services() {
  [ -n "$SERVICES_DIR" ] || return 0
  if [ -f "$SERVICES_DIR/redis.pid" ]; then kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true; fi
  if [ "${#PG_CTL_CMD[@]}" -gt 0 ] 2>/dev/null; then "${PG_CTL_CMD[@]}" stop -m immediate >/dev/null 2>&1 || true; fi
  rm -rf "$SERVICES_DIR"
  SERVICES_DIR=""
}
PG_CTL_CMD=()
