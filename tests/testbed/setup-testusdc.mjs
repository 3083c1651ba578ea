// Places the solc-js-compiled TestUSDC (Token.sol) at the Base Sepolia USDC address and mints to a payer.
// Usage: node setup-testusdc.mjs [rpcUrl] [payer] [amountAtomic] [artifactJson]
import fs from 'fs';
import { createTestClient, http, publicActions, getAddress } from 'viem';
import { baseSepolia } from 'viem/chains';
const RPC = process.argv[2] ?? 'http://127.0.0.1:18545';
const PAYER = getAddress(process.argv[3] ?? '0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
const AMOUNT = BigInt(process.argv[4] ?? '1000000000');
const art = JSON.parse(fs.readFileSync(process.argv[5] ?? (process.env.R ?? '.') + '/TestUSDC.json', 'utf8'));
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const chain = { ...baseSepolia, rpcUrls: { default: { http: [RPC] } } };
const t = createTestClient({ chain, mode: 'anvil', transport: http(RPC) }).extend(publicActions);
await t.setCode({ address: USDC, bytecode: art.deployedBytecode });
// mint is permissionless in TestUSDC: send from an impersonated/unlocked account (anvil acct 0 is unlocked)
const [from] = await t.request({ method: 'eth_accounts' });
const { encodeFunctionData } = await import('viem');
const hash = await t.request({ method: 'eth_sendTransaction', params: [{ from, to: USDC,
  data: encodeFunctionData({ abi: art.abi, functionName: 'mint', args: [PAYER, AMOUNT] }) }] });
await t.waitForTransactionReceipt({ hash });
const rd = (functionName, args = []) => t.readContract({ address: USDC, abi: art.abi, functionName, args });
console.log(JSON.stringify({ name: await rd('name'), version: await rd('version'),
  domainSeparator: await rd('DOMAIN_SEPARATOR'), payerBalance: String(await rd('balanceOf', [PAYER])) }));
