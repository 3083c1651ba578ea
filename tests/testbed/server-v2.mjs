// x402 v2 resource server (@x402/express) with one paid route, using the local facilitator.
import express from 'express';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { HTTPFacilitatorClient } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';

const PORT = Number(process.env.SERVER_PORT ?? 4021);
const FACILITATOR_URL = process.env.FACILITATOR_URL ?? 'http://127.0.0.1:4022';
const PAY_TO = process.env.PAY_TO ?? '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'; // anvil account 2

const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: FACILITATOR_URL }))
  .register('eip155:84532', new ExactEvmScheme());

const app = express();
app.use(paymentMiddleware({
  'GET /weather': {
    accepts: { scheme: 'exact', price: '$0.001', network: 'eip155:84532', payTo: PAY_TO },
    // or explicit asset: price: { amount: '1000', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    //                            extra: { name: 'USDC', version: '2' } }
    description: 'Weather data', mimeType: 'application/json',
  },
}, resourceServer));
app.get('/weather', (_req, res) => res.json({ report: { weather: 'sunny', temperature: 70 } }));
app.get('/free', (_req, res) => res.json({ ok: true }));
app.listen(PORT, '127.0.0.1', () => console.log(`v2 server on http://127.0.0.1:${PORT}`));
