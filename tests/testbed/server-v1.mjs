// x402 v1 resource server (x402-express 1.2.0) on "base-sepolia", using the facilitator.
// Env: FACILITATOR_URL, PAY_TO, PORT, and optionally TLS_CERT, TLS_KEY, HTTPS_PORT. It waits for
// the facilitator to answer /supported, then listens and prints `ready {"http":PORT,"https":PORT}`.
import express from 'express';
import { paymentMiddleware } from 'x402-express';
import { PAID, addRoutes, env, serve, waitForFacilitator } from './common.mjs';

const PAY_TO = env('PAY_TO');
const FACILITATOR_URL = env('FACILITATOR_URL');
await waitForFacilitator(FACILITATOR_URL);

const routes = Object.fromEntries(Object.entries(PAID).map(([route, { price, description, mimeType }]) =>
  [route, { price, network: 'base-sepolia', config: { description, mimeType } }]));

const app = express();
app.use(paymentMiddleware(PAY_TO, routes, { url: FACILITATOR_URL }));
addRoutes(app);
await serve(app);
