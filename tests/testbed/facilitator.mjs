// x402 facilitator (@x402/core + @x402/evm 2.27.0): verifies and settles "exact" EVM
// payments, v2 on eip155:84532 and v1 on "base-sepolia", on the local anvil.
// Env: RPC_URL, PORT (0 = any free port), FACILITATOR_KEY (default: anvil account 0).
//
// It listens first and prints `listening {"http":PORT}`, answering 503 while it loads the
// x402 packages, so the servers can start loading theirs at the same time; then it prints
// `ready {"http":PORT,"signer":ADDRESS}`.
import http from 'node:http';
import { env } from './common.mjs';

let app = null;
const server = http.createServer((req, res) => (app ? app(req, res) : res.writeHead(503).end('starting')));
await new Promise(resolve => server.listen(Number(env('PORT', '0')), '127.0.0.1', resolve));
const PORT = server.address().port;
console.log(`listening ${JSON.stringify({ http: PORT })}`);

const { default: express } = await import('express');
const { createWalletClient, http: viemHttp, publicActions } = await import('viem');
const { privateKeyToAccount } = await import('viem/accounts');
const { baseSepolia } = await import('viem/chains');
const { x402Facilitator } = await import('@x402/core/facilitator');
const { toFacilitatorEvmSigner } = await import('@x402/evm');
const { registerExactEvmScheme } = await import('@x402/evm/exact/facilitator');

const RPC = env('RPC_URL');
const KEY = env('FACILITATOR_KEY',
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'); // anvil account 0 (well-known test key)

// viem's baseSepolia with the RPC URL replaced: chain id 84532, every call goes to anvil.
// anvil mines each transaction at once, so receipts are polled often.
const chain = { ...baseSepolia, rpcUrls: { default: { http: [RPC] } } };
const account = privateKeyToAccount(KEY);
const client = createWalletClient({ account, chain, transport: viemHttp(RPC), pollingInterval: 50 })
  .extend(publicActions);

const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: a => client.getCode(a),
  readContract: a => client.readContract({ ...a, args: a.args ?? [] }),
  verifyTypedData: a => client.verifyTypedData(a),
  writeContract: a => client.writeContract({ ...a, args: a.args ?? [] }),
  sendTransaction: a => client.sendTransaction(a),
  waitForTransactionReceipt: a => client.waitForTransactionReceipt({ pollingInterval: 50, ...a }),
}, { confirmationTimeoutMs: 30_000 });

// Registers v2 "exact" for eip155:84532 and v1 "exact" for every v1 name, "base-sepolia" included.
const facilitator = registerExactEvmScheme(new x402Facilitator(), { signer, networks: 'eip155:84532' });

const routes = express();
routes.use(express.json({ limit: '1mb' }));
const plain = o => JSON.parse(JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
routes.get('/supported', (_req, res) => res.json(plain(facilitator.getSupported())));
// Settlements go out one at a time: concurrent ones would race for the signer's nonce.
let settling = Promise.resolve();
const serially = (work) => {
  const run = settling.then(work);
  settling = run.catch(() => {});
  return run;
};
for (const action of ['verify', 'settle']) {
  routes.post(`/${action}`, async (req, res) => {
    try {
      const work = () => facilitator[action](req.body.paymentPayload, req.body.paymentRequirements);
      res.json(plain(await (action === 'settle' ? serially(work) : work())));
    } catch (e) {
      console.error(`${action} error`, e);
      res.status(500).json({ error: String(e?.message ?? e) });
    }
  });
}
app = routes;
console.log(`ready ${JSON.stringify({ http: PORT, signer: account.address })}`);
