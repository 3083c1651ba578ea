// x402 v2 resource server (@x402/express 2.27.0) on eip155:84532, using the facilitator.
// Env: FACILITATOR_URL, PAY_TO, PORT, and optionally TLS_CERT, TLS_KEY, HTTPS_PORT. It waits for
// the facilitator to answer /supported, then listens and prints `ready {"http":PORT,"https":PORT}`.
import express from 'express';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { HTTPFacilitatorClient } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { PAID, addRoutes, env, serve, waitForFacilitator } from './common.mjs';

const PAY_TO = env('PAY_TO');
const FACILITATOR_URL = env('FACILITATOR_URL');
await waitForFacilitator(FACILITATOR_URL);
const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: FACILITATOR_URL }))
  .register('eip155:84532', new ExactEvmScheme());

const routes = Object.fromEntries(Object.entries(PAID).map(([route, { price, description, mimeType }]) =>
  [route, { accepts: { scheme: 'exact', price, network: 'eip155:84532', payTo: PAY_TO }, description, mimeType }]));

const app = express();
app.use(paymentMiddleware(routes, resourceServer));
addRoutes(app);
await serve(app);
