// Local x402 facilitator (v2 + v1 "exact" EVM) on 127.0.0.1, settling on a local anvil.
// Env: RPC_URL (default http://127.0.0.1:18545), FACILITATOR_PORT (4022), FACILITATOR_KEY (anvil acct 0)
import express from 'express';
import { createWalletClient, http, publicActions } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { baseSepolia } from 'viem/chains';
import { x402Facilitator } from '@x402/core/facilitator';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator';

const RPC = process.env.RPC_URL ?? 'http://127.0.0.1:18545';
const PORT = Number(process.env.FACILITATOR_PORT ?? 4022);
const KEY = process.env.FACILITATOR_KEY ??
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'; // anvil account 0 (well-known test key)

// viem's baseSepolia with the RPC URL replaced -> chain id 84532 but all traffic goes to anvil
const chain = { ...baseSepolia, rpcUrls: { default: { http: [RPC] } } };
const account = privateKeyToAccount(KEY);
const client = createWalletClient({ account, chain, transport: http(RPC) }).extend(publicActions);

const signer = toFacilitatorEvmSigner({
  address: account.address,
  getCode: a => client.getCode(a),
  readContract: a => client.readContract({ ...a, args: a.args ?? [] }),
  verifyTypedData: a => client.verifyTypedData(a),
  writeContract: a => client.writeContract({ ...a, args: a.args ?? [] }),
  sendTransaction: a => client.sendTransaction(a),
  waitForTransactionReceipt: a => client.waitForTransactionReceipt(a),
}, { confirmationTimeoutMs: 30_000 });

// registers v2 "exact" for eip155:84532 and v1 "exact" for all v1 names incl. "base-sepolia"
const facilitator = registerExactEvmScheme(new x402Facilitator(), { signer, networks: 'eip155:84532' });

const app = express();
app.use(express.json({ limit: '1mb' }));
const j = o => JSON.parse(JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
app.get('/supported', (_req, res) => res.json(j(facilitator.getSupported())));
app.post('/verify', async (req, res) => {
  try { res.json(j(await facilitator.verify(req.body.paymentPayload, req.body.paymentRequirements))); }
  catch (e) { console.error('verify error', e); res.status(500).json({ error: String(e?.message ?? e) }); }
});
app.post('/settle', async (req, res) => {
  try { res.json(j(await facilitator.settle(req.body.paymentPayload, req.body.paymentRequirements))); }
  catch (e) { console.error('settle error', e); res.status(500).json({ error: String(e?.message ?? e) }); }
});
app.listen(PORT, '127.0.0.1', () => console.log(`facilitator on http://127.0.0.1:${PORT} (signer ${account.address}, rpc ${RPC})`));
