/**
 * Compiles every contract under contracts/src with solc-js (offline: the compiler ships in the npm `solc`
 * package, no download) and generates typed ethers-v6 bindings with TypeChain.
 *
 * Output: contracts/artifacts/<Name>.json ({contractName, sourceName, abi, bytecode, deployedBytecode})
 * and contracts/typechain/. A hash of the sources and compiler settings skips work when nothing changed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const artifactsDir = join(root, 'artifacts');
const typechainDir = join(root, 'typechain');
const stampFile = join(artifactsDir, '.build-hash');

const settings = {
  optimizer: { enabled: true, runs: 1_000 },
  viaIR: false,
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.sol') ? [p] : [];
  });
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    const file = path.startsWith('@') ? require.resolve(path) : join(srcDir, path);
    return { contents: readFileSync(file, 'utf8') };
  } catch {
    return { error: `File not found: ${path}` };
  }
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

export async function buildContracts({ force = false } = {}): Promise<{ compiled: boolean; contracts: string[] }> {
  const files = walk(srcDir).sort();
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[relative(srcDir, f)] = { content: readFileSync(f, 'utf8') };

  const solcPkg = require('solc/package.json') as { version: string };
  const hash = createHash('sha256')
    .update(JSON.stringify({ sources, settings, solc: solcPkg.version, tc: 1 }))
    .digest('hex');
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash && existsSync(join(typechainDir, 'index.ts'))) {
    return { compiled: false, contracts: readdirSync(artifactsDir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)) };
  }

  const solc = require('solc') as { compile(input: string, opts: { import: typeof findImport }): string };
  const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  // OpenZeppelin's own warnings (e.g. the transient-storage notice on ReentrancyGuardTransient) are not ours to fix.
  const ours = (e: { formattedMessage: string }) => !/-->\s*@openzeppelin\//.test(e.formattedMessage);
  for (const w of (output.errors ?? []).filter((e) => e.severity !== 'error' && ours(e))) console.warn(w.formattedMessage);
  if (errors.length > 0) {
    throw new Error(`Solidity compilation failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }

  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const names: string[] = [];
  for (const [sourceName, contracts] of Object.entries(output.contracts)) {
    if (sourceName.startsWith('@')) continue; // library sources: no artifacts of our own
    for (const [contractName, c] of Object.entries(contracts)) {
      names.push(contractName);
      writeFileSync(
        join(artifactsDir, `${contractName}.json`),
        JSON.stringify({
          contractName,
          sourceName,
          abi: c.abi,
          bytecode: `0x${c.evm.bytecode.object}`,
          deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        }, null, 2),
      );
    }
  }

  const { runTypeChain } = await import('typechain');
  rmSync(typechainDir, { recursive: true, force: true });
  const allFiles = names.map((n) => join(artifactsDir, `${n}.json`));
  await runTypeChain({
    cwd: root,
    filesToProcess: allFiles,
    allFiles,
    outDir: typechainDir,
    target: 'ethers-v6',
    flags: { node16Modules: true, alwaysGenerateOverloads: false, discriminateTypes: false, environment: undefined },
  });
  writeFileSync(stampFile, hash);
  return { compiled: true, contracts: names };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  buildContracts({ force: process.argv.includes('--force') })
    .then(({ compiled, contracts }) => {
      console.log(`${compiled ? 'compiled' : 'up to date'}: ${contracts.length} contracts (${Date.now() - t0} ms)`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
