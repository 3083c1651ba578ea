// The official x402 payer (@x402/fetch 2.27.0 with @x402/evm's "exact" scheme), for reference:
// fetches URL, pays a 402 from PAYER_KEY, and prints the final status on the first line of
// stdout and the body after it. The decoded settlement header, if any, goes to stderr.
// Usage: node pay-v2.mjs URL   (v2 payments) or node pay-v1.mjs URL (v1 payments)
// Env: PAYER_KEY (0x… private key), and optionally METHOD, BODY and CONTENT_TYPE.
// For an https URL, NODE_EXTRA_CA_CERTS names the CA to trust.
import { privateKeyToAccount } from 'viem/accounts';
import { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';
import { env } from './common.mjs';

export async function pay(version) {
  const url = process.argv[2];
  if (!url) {
    console.error('usage: pay-v2.mjs URL');
    process.exit(2);
  }
  const account = privateKeyToAccount(env('PAYER_KEY'));
  const client = version === 1
    ? new x402Client().registerV1('base-sepolia', new ExactEvmSchemeV1(account))
    : new x402Client().register('eip155:*', new ExactEvmScheme(account));
  const init = { method: env('METHOD', 'GET') };
  if (process.env.BODY !== undefined) {
    init.body = process.env.BODY;
    init.headers = { 'content-type': env('CONTENT_TYPE', 'application/octet-stream') };
  }
  const response = await wrapFetchWithPayment(fetch, client)(url, init);
  const body = await response.text();
  process.stdout.write(`${response.status}\n${body}`);
  const settled = response.headers.get(version === 1 ? 'x-payment-response' : 'payment-response');
  if (settled) console.error('settlement', JSON.stringify(decodePaymentResponseHeader(settled)));
}
