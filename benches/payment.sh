#!/usr/bin/env bash
# Payment benchmark: the client-side cost of one auto-approved payment, from the 402 to
# the paid request, in Purse (the real wallet: policy, budget, signature, the row in
# purse.db) and inside the official @x402/fetch client, in the same run, on the same 402
# (the golden vector v2-base-sepolia-usdc). Prints figures; asserts nothing.
#
# Usage: benches/payment.sh [payments, default 1000]
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

N="${1:-1000}"
need_rust
install_testbed
cd "$ROOT"
VECTOR="$ROOT/crates/x402/tests/data/v2-base-sepolia-usdc.json"
HEADER="$(node -e 'const v=require(process.argv[1]);process.stdout.write(v.response_402.headers["payment-required"])' "$VECTOR")"
URL="$(node -e 'const v=require(process.argv[1]);process.stdout.write(v.request.url)' "$VECTOR")"

say "building the payment benchmark (release)"
cargo bench --quiet -p purse-api --bench payment --no-run
say "Purse: $N payments"
purse="$(cargo bench --quiet -p purse-api --bench payment -- "$N")"
say "official @x402/fetch 2.27.0: $N payments"
official="$(TESTBED_DIR="$ROOT/tests/testbed" node "$ROOT/benches/official-client.mjs" "$HEADER" "$URL" "$N")"
node -e '
  const [p, o] = process.argv.slice(1).map(JSON.parse);
  const row = (name, r) => console.log(`${name.padEnd(28)} p50 ${r.p50_us.toFixed(1).padStart(8)} µs   p90 ${r.p90_us.toFixed(1).padStart(8)} µs   p99 ${r.p99_us.toFixed(1).padStart(8)} µs   (n=${r.n})`);
  row("Purse (hook, real wallet)", p);
  row("official @x402/fetch", o);
  console.log(`Purse is ${(o.p50_us / p.p50_us).toFixed(1)}x faster at p50`);
' "$purse" "$official"
