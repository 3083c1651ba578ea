// Reference payer (JS) for the v2 server: 402 -> sign EIP-3009 -> retry with PAYMENT-SIGNATURE.
import { privateKeyToAccount } from 'viem/accounts';
import { x402Client } from '@x402/core/client';
import { x402HTTPClient } from '@x402/core/http';
import { ExactEvmScheme } from '@x402/evm/exact/client';

const URL_ = process.env.URL ?? 'http://127.0.0.1:4021/weather';
const account = privateKeyToAccount(process.env.PAYER_KEY ??
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'); // anvil account 1
const http = new x402HTTPClient(new x402Client().register('eip155:*', new ExactEvmScheme(account)));

const r1 = await fetch(URL_);
console.log('first status', r1.status, 'PAYMENT-REQUIRED header?', !!r1.headers.get('payment-required'));
const body1 = await r1.json().catch(() => undefined);
const required = http.getPaymentRequiredResponse(n => r1.headers.get(n), body1);
console.log('accepts', JSON.stringify(required.accepts));
const payload = await http.createPaymentPayload(required);
const r2 = await fetch(URL_, { headers: http.encodePaymentSignatureHeader(payload) });
console.log('second status', r2.status, await r2.text());
if (r2.status === 200) console.log('settlement', JSON.stringify(http.getPaymentSettleResponse(n => r2.headers.get(n))));
else console.log('rejected:', Buffer.from(r2.headers.get('payment-required') ?? '', 'base64').toString().slice(0, 300));
