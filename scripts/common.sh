# Shared by scripts/run and scripts/test: installs what is missing, idempotently, and
# says what it does. Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One build directory per machine, outside the clone, so that every checkout and every
# CI run on this machine reuses the same compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/purse/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"
  fi
}

# Debian/Ubuntu packages Tauri needs to build and run the app (WebKitGTK 4.1 and friends).
APP_PACKAGES=(build-essential pkg-config curl file libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev
  libxdo-dev libayatana-appindicator3-dev librsvg2-dev)

# Installs the Debian packages given that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]}, and this is not a Debian/Ubuntu system"
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_rust() {
  command -v cargo >/dev/null 2>&1 || die "Rust is not installed: install it from https://rustup.rs (stable, 1.90 or newer)"
}

need_node() {
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $major is too old for the UI build: install Node.js 20 or newer"
}

# Installs the UI's npm packages (exactly as locked) and builds ui/dist, which the app embeds.
build_ui() {
  need_node
  cd "$ROOT/ui"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing the UI's npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  say "building the UI (ui/dist)"
  npm run --silent build >/dev/null
  cd "$ROOT"
}

# Installs the npm packages of the local x402 testbed (tests/testbed: anvil, the official x402
# facilitator, servers and client) exactly as locked, when they are missing or the lock changed.
# The end-to-end payment tests start it through tests/e2e/src/testbed.rs.
install_testbed() {
  need_node
  local dir="$ROOT/tests/testbed" stamp sum
  stamp="$dir/node_modules/.purse-installed"
  sum="$(cat "$dir/package.json" "$dir/package-lock.json" "$dir/stub/package.json" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    say "installing the x402 testbed's npm packages (tests/testbed: npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --omit=optional --loglevel=error)
    printf '%s\n' "$sum" >"$stamp"
  fi
}
