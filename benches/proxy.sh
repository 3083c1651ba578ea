#!/usr/bin/env bash
# Proxy benchmark: throughput and p50/p99 latency through Purse, through mitmproxy and
# direct, against nginx on loopback; plain HTTP and intercepted HTTPS; 100 B and 64 KiB
# bodies; 1 and 32 keep-alive connections (one CONNECT per connection). Also the CPU
# Purse spends per request, its RSS idle and under load, and the latency Purse adds with
# everything pinned to one CPU. Prints figures; asserts nothing.
#
# Usage: benches/proxy.sh [seconds per cell, default 5]
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

SECONDS_PER_CELL="${1:-5}"
need_rust
apt_install nginx openssl curl python3-venv
VENV="$HOME/.cache/purse/bench-venv"
if [ ! -x "$VENV/bin/mitmdump" ]; then
  say "installing mitmproxy into $VENV (pip)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet mitmproxy
fi

say "building purse and the load generator (release)"
cd "$ROOT"
cargo build --quiet --release -p purse-cli --bin purse
cargo build --quiet --release -p purse-proxy --example loadgen
PURSE="$CARGO_TARGET_DIR/release/purse"
LOADGEN="$CARGO_TARGET_DIR/release/examples/loadgen"

WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

say "making certificates and starting nginx"
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Bench CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout leaf.key -out leaf.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext \
  -out leaf.pem 2>/dev/null
mkdir -p www logs
head -c 100 /dev/urandom > www/100b
head -c 65536 /dev/urandom > www/64k
truncate -s 1G www/1g
chmod -R a+rX "$WORK"
cat > nginx.conf <<CONF
worker_processes 1;
user root;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Debian's default tcp_nopush with sendfile stalls 64 KiB responses.
  sendfile off;
  tcp_nopush off;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server { listen 127.0.0.1:18901; root $WORK/www; }
  server {
    listen 127.0.0.1:18902 ssl;
    ssl_certificate $WORK/leaf.pem;
    ssl_certificate_key $WORK/leaf.key;
    root $WORK/www;
  }
}
CONF
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

say "starting purse proxy and mitmdump"
mkdir -p "$WORK/purse"
printf '[proxy]\nworker_threads = %s\n' "${PURSE_WORKERS:-1}" > "$WORK/purse/config.toml"
PURSE_DATA_DIR="$WORK/purse" PURSE_PROFILE=bench PURSE_LOG=warn \
  "$PURSE" proxy --listen 127.0.0.1:18910 --upstream-ca "$WORK/ca.pem" > "$WORK/purse.out" 2>"$WORK/purse.err" &
PURSE_PID=$!
PIDS+=($PURSE_PID)
"$VENV/bin/mitmdump" --listen-host 127.0.0.1 --listen-port 18920 --set confdir="$WORK/mitm" \
  --set ssl_verify_upstream_trusted_ca="$WORK/ca.pem" -q > "$WORK/mitm.log" 2>&1 &
MITM_PID=$!
PIDS+=($MITM_PID)
for _ in $(seq 100); do
  [ -s "$WORK/purse/ca.pem" ] && [ -s "$WORK/mitm/mitmproxy-ca-cert.pem" ] && \
    curl -s -o /dev/null http://127.0.0.1:18901/100b && break
  sleep 0.1
done
sleep 1
RSS_IDLE="$(awk '/VmRSS/ {print $2}' "/proc/$PURSE_PID/status")"

run() { # name url connections [proxy ca pid]
  local url="$2" conns="$3" proxy="${4:-}" ca="${5:-$WORK/ca.pem}" pid="${6:-}"
  local args=("$url" --connections "$conns" --seconds "$SECONDS_PER_CELL" --ca "$ca")
  [ -n "$proxy" ] && args+=(--proxy "$proxy")
  [ -n "$pid" ] && args+=(--pid "$pid")
  "$LOADGEN" "${args[@]}"
}
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"; }

printf '\n%-6s %-5s %5s | %-28s | %-28s | %-28s | %9s %9s %8s\n' \
  scheme body conns "direct  req/s  p50  p99 (µs)" "purse  req/s  p50  p99 (µs)" "mitmproxy  req/s  p50  p99" "purse/dir" "purse/mitm" "purse µs CPU/req"
PEAK=0
for scheme in ${SCHEMES:-http https}; do
  port=18901; [ "$scheme" = https ] && port=18902
  for body in 100b 64k; do
    for conns in 1 32; do
      url="$scheme://127.0.0.1:$port/$body"
      direct="$(run direct "$url" "$conns")"
      purse="$(run purse "$url" "$conns" 127.0.0.1:18910 "$WORK/purse/ca.pem" "$PURSE_PID")"
      mitm="$(run mitm "$url" "$conns" 127.0.0.1:18920 "$WORK/mitm/mitmproxy-ca-cert.pem")"
      rss="$(field "$purse" rss_load_kib)"; [ "$rss" != "-" ] && [ "$rss" -gt "$PEAK" ] && PEAK="$rss"
      printf '%-6s %-5s %5s | %8s %7s %7s     | %8s %7s %7s     | %8s %7s %7s     | %8.2fx %8.1fx %8s\n' \
        "$scheme" "$body" "$conns" \
        "$(field "$direct" rps)" "$(field "$direct" p50_us)" "$(field "$direct" p99_us)" \
        "$(field "$purse" rps)" "$(field "$purse" p50_us)" "$(field "$purse" p99_us)" \
        "$(field "$mitm" rps)" "$(field "$mitm" p50_us)" "$(field "$mitm" p99_us)" \
        "$(python3 -c "print($(field "$purse" rps)/max(1,$(field "$direct" rps)))")" \
        "$(python3 -c "print($(field "$purse" rps)/max(1,$(field "$mitm" rps)))")" \
        "$(field "$purse" cpu_us_per_req)"
    done
  done
done

say "latency added with one connection, everything pinned to CPU 0 (taskset)"
# -a: every thread. The proxy runs on a thread of its own, not the process's main one.
taskset -a -cp 0 "$PURSE_PID" >/dev/null
for pid in $(pgrep -f "nginx.*$WORK"); do taskset -a -cp 0 "$pid" >/dev/null; done
direct="$(taskset -c 0 "$LOADGEN" http://127.0.0.1:18901/100b --connections 1 --seconds "$SECONDS_PER_CELL")"
purse="$(taskset -c 0 "$LOADGEN" http://127.0.0.1:18901/100b --connections 1 --seconds "$SECONDS_PER_CELL" --proxy 127.0.0.1:18910)"
echo "pinned plain HTTP 100 B: direct p50 $(field "$direct" p50_us) µs, through purse p50 $(field "$purse" p50_us) µs: added $(( $(field "$purse" p50_us) - $(field "$direct" p50_us) )) µs"
echo "purse RSS: idle $((RSS_IDLE / 1024)) MiB, under load (peak sampled) $((PEAK / 1024)) MiB"

say "a 1 GiB download through purse (plain and intercepted), sampling its RSS"
for url in http://127.0.0.1:18901/1g https://127.0.0.1:18902/1g; do
  curl -s --noproxy '' -x http://127.0.0.1:18910 --cacert "$WORK/purse/ca.pem" -o /dev/null \
    -w '%{size_download} bytes at %{speed_download} B/s\n' "$url" > "$WORK/curl.out" &
  CURL_PID=$!
  MAX_RSS=0
  while kill -0 "$CURL_PID" 2>/dev/null; do
    rss="$(awk '/VmRSS/ {print $2}' "/proc/$PURSE_PID/status")"
    [ "$rss" -gt "$MAX_RSS" ] && MAX_RSS="$rss"
    sleep 0.05
  done
  echo "$url: $(cat "$WORK/curl.out"), purse peak RSS $((MAX_RSS / 1024)) MiB"
done
