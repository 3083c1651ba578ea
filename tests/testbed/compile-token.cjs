// Compile Token.sol with solc-js (npm `solc`, wasm, offline) -> TestUSDC.json {abi, deployedBytecode}
const fs = require('fs'), path = require('path'), solc = require('solc');
const src = process.argv[2] ?? require('path').join(__dirname, 'Token.sol');
const out = process.argv[3] ?? (process.env.R ?? '.') + '/TestUSDC.json';
const input = {
  language: 'Solidity',
  sources: { 'Token.sol': { content: fs.readFileSync(src, 'utf8') } },
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun',
    outputSelection: { '*': { TestUSDC: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } } },
};
const res = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of res.errors ?? []) console.error(e.formattedMessage);
if ((res.errors ?? []).some(e => e.severity === 'error')) process.exit(1);
const c = res.contracts['Token.sol'].TestUSDC;
if (Object.keys(c.evm.deployedBytecode.immutableReferences ?? {}).length) throw new Error('immutables present');
fs.writeFileSync(out, JSON.stringify({ compiler: solc.version(), abi: c.abi,
  bytecode: '0x' + c.evm.bytecode.object, deployedBytecode: '0x' + c.evm.deployedBytecode.object }, null, 1));
console.log('solc', solc.version(), 'runtime bytes', c.evm.deployedBytecode.object.length / 2, '->', out);
