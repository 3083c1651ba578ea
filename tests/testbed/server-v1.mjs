// x402 v1 resource server (x402-express 1.2.0) with one paid route, using the local facilitator.
import express from 'express';
import { paymentMiddleware } from 'x402-express';

const PORT = Number(process.env.SERVER_PORT ?? 4031);
const FACILITATOR_URL = process.env.FACILITATOR_URL ?? 'http://127.0.0.1:4022';
const PAY_TO = process.env.PAY_TO ?? '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'; // anvil account 2

const app = express();
app.use(paymentMiddleware(PAY_TO, {
  'GET /weather': { price: '$0.001', network: 'base-sepolia', config: { description: 'Weather data' } },
}, { url: FACILITATOR_URL }));
app.get('/weather', (_req, res) => res.json({ report: { weather: 'sunny', temperature: 70 } }));
app.listen(PORT, '127.0.0.1', () => console.log(`v1 server on http://127.0.0.1:${PORT}`));
