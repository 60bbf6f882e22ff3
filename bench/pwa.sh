#!/usr/bin/env bash
# PWA figures of the outlook page (SPEC S9): transferred bytes, Lighthouse mobile scores with
# LCP and TBT, offline reload time. Builds the release, starts it on a fresh SQLite database
# with the demo household, and runs bench/pwa.mjs against it. Prints figures; never fails on
# a budget. Usage: bench/pwa.sh   (BENCH_NO_BUILD=1 to use the last release build)
source "$(dirname "$0")/../scripts/lib.sh"

WORK=$(mktemp -d /tmp/headroom-pwa.XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ensure_toolchain
ensure_build_tools
leptos_env
[ -n "${BENCH_NO_BUILD:-}" ] || build_release
if [ ! -d "$ROOT/end2end/node_modules/lighthouse" ]; then
  (cd "$ROOT/end2end" && npm ci --silent --no-audit --no-fund)
fi
port=$(free_port)
(
  cd "$ROOT"
  export HEADROOM_ADDR="127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port"
  export HEADROOM_DATA_DIR="$WORK" HEADROOM_DATABASE_URL="sqlite://$WORK/headroom.db"
  export HEADROOM_SEED_DEMO=true HEADROOM_LOG=warn HEADROOM_COLLECTOR=false
  exec "$TARGET_DIR/release/headroom" serve
) >"$WORK/server.log" 2>&1 &
SERVER=$!
wait_for_http "http://127.0.0.1:$port/health" 120 || { cat "$WORK/server.log" >&2; die "the server did not start"; }
mkdir -p "$ROOT/bench/results"
BENCH_JSONL="$ROOT/bench/results/pwa.jsonl" node "$ROOT/bench/pwa.mjs" "http://127.0.0.1:$port"
