// Shared by the testbed's servers: the routes (the same on v2 and v1), the prices, and the
// listening (HTTP, plus HTTPS when TLS_CERT and TLS_KEY name PEM files).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import express from 'express';

// USDC on Base Sepolia (chain 84532); the testbed places the token at the same address.
export const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

export function env(name, fallback) {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return fallback;
}

// The paid routes, keyed the way both middlewares key them ("METHOD /path").
export const PAID = {
  'GET /weather': { price: '$0.001', description: 'Weather data', mimeType: 'application/json' },
  'POST /echo': { price: '$0.001', description: 'Echoes the request body', mimeType: 'application/octet-stream' },
  'GET /premium': { price: '$0.50', description: 'Premium data', mimeType: 'application/json' },
  'GET /page': { price: '$0.001', description: 'A paid HTML page', mimeType: 'text/html' },
};

export const PAGE = '<html><head><title>Paid page</title></head><body><h1>paid content</h1></body></html>';

// The handlers behind the payment middleware (free and paid alike).
export function addRoutes(app) {
  app.get('/free', (_req, res) => res.json({ free: true }));
  app.get('/weather', (_req, res) => res.json({ report: { weather: 'sunny', temperature: 70 } }));
  // The exact bytes received, under the same content type: read raw, whatever the type.
  app.post('/echo', express.raw({ type: () => true, limit: '64mb' }), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.status(200);
    res.setHeader('Content-Type', req.headers['content-type'] ?? 'application/octet-stream');
    res.setHeader('Content-Length', body.length);
    res.end(body);
  });
  app.get('/premium', (_req, res) => res.json({ premium: true, secret: 'the good stuff' }));
  app.get('/page', (_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(PAGE);
  });
}

// Waits until the facilitator answers GET /supported: the v2 middleware asks it once, when
// it is created, and a failure there fails the first paid request.
export async function waitForFacilitator(url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/supported`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the facilitator at ${url} did not answer /supported`);
    await new Promise(resolve => setTimeout(resolve, 25));
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

// Listens on 127.0.0.1: PORT (0 = any free port) and, when TLS_CERT and TLS_KEY are set,
// HTTPS_PORT too. Then prints one line, `ready {"http":PORT,"https":PORT}`, which the
// harness waits for.
export async function serve(app) {
  const ports = { http: await listen(http.createServer(app), Number(env('PORT', '0'))) };
  if (process.env.TLS_CERT && process.env.TLS_KEY) {
    const tls = { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) };
    ports.https = await listen(https.createServer(tls, app), Number(env('HTTPS_PORT', '0')));
  }
  console.log(`ready ${JSON.stringify(ports)}`);
}
