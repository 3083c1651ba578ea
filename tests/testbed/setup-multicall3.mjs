// Places Multicall3 at its canonical address 0xcA11bde05977b3631167028862bE2a173976CA11 on anvil.
// Source of bytecode: viem ships Multicall3's *creation* code as `multicall3Bytecode` in
// viem/_esm/constants/contracts.js (not re-exported from 'viem'), so read the file.
import fs from 'fs';
import { createRequire } from 'module';
import { createTestClient, http, publicActions } from 'viem';
const RPC = process.argv[2] ?? 'http://127.0.0.1:18545';
const MC3 = '0xcA11bde05977b3631167028862bE2a173976CA11';
const viemDir = createRequire(import.meta.url).resolve('viem').replace(/_cjs\/index\.js$/, '');
const src = fs.readFileSync(viemDir + '_esm/constants/contracts.js', 'utf8');
const creation = src.match(/multicall3Bytecode = '(0x[0-9a-f]+)'/)[1];
const t = createTestClient({ mode: 'anvil', transport: http(RPC) }).extend(publicActions);
// run the creation code to obtain runtime code, then copy it to the canonical address
const [from] = await t.request({ method: 'eth_accounts' });
const hash = await t.request({ method: 'eth_sendTransaction', params: [{ from, data: creation }] });
const { contractAddress } = await t.waitForTransactionReceipt({ hash });
const runtime = await t.getCode({ address: contractAddress });
await t.setCode({ address: MC3, bytecode: runtime });
console.log('multicall3 runtime bytes', (runtime.length - 2) / 2, '; runtime == creation.slice(32 bytes)?',
  runtime === '0x' + creation.slice(2 + 64));
