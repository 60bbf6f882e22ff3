# Shared by scripts/start, scripts/test and the benchmarks: `source scripts/lib.sh`.
#
# Installs what the build needs when it is missing, at pinned versions, into a tools
# folder outside the repository (so every clone on the machine shares one warm copy), and
# puts it first on PATH so cargo-leptos never tries to download a tool itself:
#   - the Rust toolchain of rust-toolchain.toml, with the wasm32 target
#   - cargo-leptos            (CARGO_LEPTOS_VERSION)
#   - wasm-bindgen-cli        (the exact version of the wasm-bindgen crate in Cargo.lock)
#   - wasm-opt                (binaryen from npm; Debian's binaryen 108 breaks hydration)
#   - cargo-deny              (CARGO_DENY_VERSION), and every crate of Cargo.lock for every
#                             platform, so `cargo deny --offline` can read the whole graph
# and exports Leptos.toml's site settings as the LEPTOS_* variables cargo-leptos reads.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${HEADROOM_TOOLS_DIR:-$HOME/.cache/headroom/tools}
CARGO_LEPTOS_VERSION=0.3.11
CARGO_DENY_VERSION=0.20.2
BINARYEN_VERSION=132
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

log() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  log "installing $* with apt"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_toolchain() {
  command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
  local channel
  channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
  # These machines set RUSTUP_AUTO_INSTALL=0: cargo will not fetch the toolchain itself.
  if ! rustup run "$channel" rustc --version >/dev/null 2>&1 \
     || ! rustup target list --toolchain "$channel" --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
     || ! rustup component list --toolchain "$channel" --installed 2>/dev/null | grep -q clippy; then
    log "installing Rust $channel with the wasm32 target"
    rustup toolchain install "$channel" --profile minimal \
      --component clippy,rustfmt --target wasm32-unknown-unknown
  fi
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_build_tools() {
  mkdir -p "$TOOLS_DIR/bin"
  export PATH="$TOOLS_DIR/bin:$PATH"
  if [ "$("$TOOLS_DIR/bin/cargo-leptos" --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine; about 15 minutes on 2 cores)"
    (cd "$ROOT" && cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --root "$TOOLS_DIR")
  fi
  local wbg
  wbg=$(wasm_bindgen_version)
  if [ "$("$TOOLS_DIR/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
    log "installing wasm-bindgen-cli $wbg (once per machine; a few minutes)"
    # Without --locked: its lock file pins a webpki-roots release the registry lacks.
    (cd "$ROOT" && cargo install wasm-bindgen-cli --version "$wbg" --root "$TOOLS_DIR")
  fi
  if ! "$TOOLS_DIR/bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    command -v node >/dev/null || die "Node.js is required (it runs wasm-opt and the browser tests)"
    log "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/binaryen" "binaryen@$BINARYEN_VERSION" >/dev/null
    ln -sf "$TOOLS_DIR/binaryen/node_modules/binaryen/bin/wasm-opt" "$TOOLS_DIR/bin/wasm-opt"
  fi
}

# Only scripts/test checks the dependency tree, so only it calls this.
ensure_cargo_deny() {
  mkdir -p "$TOOLS_DIR/bin"
  export PATH="$TOOLS_DIR/bin:$PATH"
  if [ "$("$TOOLS_DIR/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    log "installing cargo-deny $CARGO_DENY_VERSION (once per machine; about 5 minutes on 2 cores)"
    (cd "$ROOT" && cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --root "$TOOLS_DIR")
  fi
  # cargo metadata (which cargo-deny reads) wants the sources of the Windows- and
  # wasm-only crates too, which no build here fetches. Offline first: usually cached.
  (cd "$ROOT" && { cargo fetch --locked --offline --quiet 2>/dev/null || cargo fetch --locked --quiet; })
}

# Exports each `key = value` of Leptos.toml as LEPTOS_KEY (dashes become underscores), the
# names cargo-leptos and the server read. Variables already set by the caller win.
leptos_env() {
  local key value var
  while IFS='=' read -r key value; do
    key=$(echo "$key" | tr -d '[:space:]')
    case "$key" in ''|\#*|\[*) continue ;; esac
    value=$(echo "$value" | sed -e 's/^ *//' -e 's/ *$//' -e 's/^"\(.*\)"$/\1/')
    var="LEPTOS_$(echo "$key" | tr 'a-z-' 'A-Z_')"
    if [ -z "${!var:-}" ]; then export "$var=$value"; fi
  done < "$ROOT/Leptos.toml"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until `curl` gets an answer from URL, for at most $2 seconds.
wait_for_http() {
  local url=$1 limit=${2:-30} i
  for ((i = 0; i < limit * 10; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Builds the release site (server binary, wasm, css, hashed and pre-compressed files).
build_release() {
  log "building the release (server + WebAssembly)"
  (cd "$ROOT" && cargo leptos build --release --precompress)
}

# Makes room in the shared build cache when the disk runs low. Every clone on the machine
# (CI's clean clones, worktrees) builds into one CARGO_TARGET_DIR, and each new path leaves
# its own incremental cache and ~1.2 GB test binaries behind; on 2026-12-03 that filled the
# disk and a CI run failed half its tests on "No space left on device". Dependencies stay,
# so a pruned cache still builds in minutes, not the hour a cold one takes.
keep_disk_free() {
  local need_gb=${HEADROOM_MIN_FREE_GB:-20} free_gb
  mkdir -p "$TARGET_DIR"
  free_gb=$(df -Pk "$TARGET_DIR" | awk 'NR == 2 { print int($4 / 1048576) }')
  if [ "$free_gb" -ge "$need_gb" ]; then return 0; fi
  log "only ${free_gb} GB free (want ${need_gb}): pruning old build output in $TARGET_DIR"
  rm -rf "$TARGET_DIR"/debug/incremental "$TARGET_DIR"/release/incremental
  # Test and binary executables of this crate older than an hour: another clone's, or stale.
  find "$TARGET_DIR"/debug/deps -maxdepth 1 -type f -mmin +60 \
    \( -name 'headroom-*' -o -name 'api-*' -o -name 'architecture-*' \) -delete 2>/dev/null || true
  free_gb=$(df -Pk "$TARGET_DIR" | awk 'NR == 2 { print int($4 / 1048576) }')
  log "${free_gb} GB free after pruning"
  if [ "$free_gb" -lt 5 ]; then die "only ${free_gb} GB free on $(df -P "$TARGET_DIR" | awk 'NR == 2 { print $6 }'): the tests need about 10"; fi
}
