// Reference v1 payer: 402 JSON body -> X-PAYMENT header (base64 JSON, x402Version 1) -> X-PAYMENT-RESPONSE.
import { privateKeyToAccount } from 'viem/accounts';
import { x402Client } from '@x402/core/client';
import { x402HTTPClient } from '@x402/core/http';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';

const URL_ = process.env.URL ?? 'http://127.0.0.1:4031/weather';
const account = privateKeyToAccount(process.env.PAYER_KEY ??
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'); // anvil account 1
const http = new x402HTTPClient(new x402Client().registerV1('base-sepolia', new ExactEvmSchemeV1(account)));

const r1 = await fetch(URL_);
const body1 = await r1.json();
console.log('first status', r1.status, JSON.stringify(body1).slice(0, 400));
const required = http.getPaymentRequiredResponse(n => r1.headers.get(n), body1);
const payload = await http.createPaymentPayload(required);
const hdr = http.encodePaymentSignatureHeader(payload);
console.log('request headers', Object.keys(hdr));
const r2 = await fetch(URL_, { headers: hdr });
console.log('second status', r2.status, await r2.text());
const xpr = r2.headers.get('x-payment-response');
console.log('X-PAYMENT-RESPONSE', xpr && Buffer.from(xpr, 'base64').toString());
