// The client-side cost of one payment inside the official client (@x402/fetch 2.27.0 with
// @x402/evm's "exact" scheme): from the moment its fetch gets the 402 to the moment it
// sends the paid request. No network: the fetch it wraps answers from memory, so only the
// client's own work is timed. Prints p50/p90/p99 in microseconds as one JSON line.
// Usage: node benches/official-client.mjs PAYMENT_REQUIRED_HEADER_VALUE URL [N]
// Run from tests/testbed (its node_modules hold the packages): benches/payment.sh does.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [header, url, n = '1000'] = process.argv.slice(2);
const testbed = process.env.TESTBED_DIR;
const load = (name) => import(pathToFileURL(createRequire(`${testbed}/`).resolve(name)).href);
const { privateKeyToAccount } = await load('viem/accounts');
const { wrapFetchWithPayment, x402Client } = await load('@x402/fetch');
const { ExactEvmScheme } = await load('@x402/evm/exact/client');

const account = privateKeyToAccount(
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const client = new x402Client().register('eip155:*', new ExactEvmScheme(account));
let answered402 = 0n;
const samples = [];
const fake = async (input) => {
  const request = input instanceof Request ? input : new Request(input);
  if (!request.headers.get('payment-signature')) {
    const response = new Response('{}', {
      status: 402, headers: { 'content-type': 'application/json', 'payment-required': header } });
    answered402 = process.hrtime.bigint();
    return response;
  }
  samples.push(Number(process.hrtime.bigint() - answered402) / 1000);
  return new Response('ok', { status: 200 });
};
const pay = wrapFetchWithPayment(fake, client);
const total = Number(n);
for (let i = 0; i < total + 100; i++) {
  const response = await pay(url);
  if (response.status !== 200) throw new Error(`not paid: ${response.status}`);
}
const timed = samples.slice(100).sort((a, b) => a - b);
const at = (q) => timed[Math.min(timed.length - 1, Math.floor(q * timed.length))];
console.log(JSON.stringify({ n: timed.length, p50_us: at(0.5), p90_us: at(0.9), p99_us: at(0.99) }));
