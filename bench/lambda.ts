/**
 * npm run bench:lambda — the size of every Lambda bundle and its cold import time.
 *
 * Bundles each handler of the route table (shared/http/routes.ts) and the two chain workers (indexer tick, relayer
 * consumer) with esbuild and the options the CDK uses (infra/lib/constructs/provenaFunction.ts: ESM, node22,
 * minified, the `require` banner, the `PROVENA_BUNDLE` define, everything bundled), into a temporary directory.
 * Then, per bundle, a fresh `node` process imports it and exits. Three times per process:
 * - `importMs`: the wall time of the `import()` itself, measured inside the process (Node's own start-up is not in
 *   it): the cold import the target (< 150 ms) is about;
 * - `importCpuMs`: the CPU time (user + system) the process spent in that import: less sensitive to the shared
 *   machine's load than any wall time;
 * - `coldImportMs`: the wall time of the whole process (spawn to exit), read against `floorMs`, the same for an empty
 *   module, measured right before it (paired, so both see the same load).
 * BENCH_LAMBDA_REPEAT (default 3) processes per bundle; medians count.
 *
 * BENCH_LAMBDA_BASE=<git ref> also bundles the same handlers from that commit (`git archive` into a temporary
 * directory that shares node_modules and the generated contract bindings) and measures both in the same run, each
 * "before" process right next to its "after" one: every row then has its `before` figures, under the same load.
 * BENCH_LAMBDA_ONLY=name,name limits the run to some bundles (a quick check; the JSON says so).
 * Writes bench/results/lambda.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { routes } from '../shared/http/routes.js';
import { machineNow } from './lib/figures.js';
import { percentile } from './lib/load.js';

const REPEAT = Number(process.env.BENCH_LAMBDA_REPEAT ?? 3);
const ONLY = process.env.BENCH_LAMBDA_ONLY ? new Set(process.env.BENCH_LAMBDA_ONLY.split(',')) : undefined;
const BASE = process.env.BENCH_LAMBDA_BASE;
const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
/** The CDK's banner (infra/lib/constructs/provenaFunction.ts): esbuild's ESM output has no `require`. */
const REQUIRE_BANNER = "import { createRequire as __provenaCreateRequire } from 'node:module'; const require = __provenaCreateRequire(import.meta.url);";
/** Lambdas that serve no route (infra/lib/constructs/ChainWorkers.ts). */
const WORKERS = ['functions/indexer/tick.ts', 'functions/relayer/consume.ts'];
/** What each importer prints: the import's own wall and CPU time. */
const IMPORTER = (file: string) =>
  `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(`./${file}`)}); const ms = performance.now() - t; const d = process.cpuUsage(c); console.log(JSON.stringify({ ms, cpu: (d.user + d.system) / 1000 }));\n`;

/**
 * The heavy dependencies alone, each as its own minified bundle (what a handler's bundle pays for it): the measured
 * reasons behind a bundle over its targets. Each uses what the adapters use.
 */
const COMPONENTS: Record<string, string> = {
  zod: "import * as z from 'zod'; export const s = z.object({ a: z.string(), b: z.number().int() });",
  'ethers (request verifier, JsonRpcProvider, Contract)': "export { TypedDataEncoder, BaseWallet, JsonRpcProvider, Contract, Interface, AbiCoder } from 'ethers';",
  '@aws-sdk/client-dynamodb (bare client + 4 commands)': "import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'; export const c = new DynamoDBClient({ region: 'us-east-1' }); export { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand };",
  '@aws-sdk/client-s3 + s3-request-presigner': "import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3'; import { getSignedUrl } from '@aws-sdk/s3-request-presigner'; export const c = new S3Client({ region: 'us-east-1' }); export { PutObjectCommand, getSignedUrl };",
  'kubo-rpc-client': "export { create } from 'kubo-rpc-client';",
  '@aws-lambda-powertools/logger': "import { Logger } from '@aws-lambda-powertools/logger'; export const l = new Logger({ serviceName: 'x' });",
};

interface Sample {
  wall: number;
  ms: number;
  cpu: number;
}

/** One fresh process importing `file` (an importer): its wall time, and the import's wall and CPU time. */
function once(file: string): Sample {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${basename(file)} exited ${r.status}: ${r.stderr.slice(0, 400)}`);
  const { ms, cpu } = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; cpu: number };
  return { wall, ms, cpu };
}

const med = (xs: number[]) => +percentile([...xs].sort((a, b) => a - b), 50).toFixed(1);

/** The eight largest packages (or repository folders) in one output file, KiB each: what a bundle is made of. */
function heaviest(metafile: Metafile, file: string): Record<string, number> {
  const output = Object.entries(metafile.outputs).find(([path]) => file.endsWith(path.replace(/^.*\//, '')))?.[1];
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return Object.fromEntries([...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => [k, +(v / 1024).toFixed(1)]));
}

/** Bundles `handlers` (paths relative to `from`) into `outdir` as the CDK does. */
async function bundle(from: string, handlers: string[], outdir: string): Promise<{ names: string[]; metafile: Metafile; seconds: number }> {
  const present = handlers.filter((h) => existsSync(join(from, h)));
  const entryPoints = Object.fromEntries(present.map((h) => [nameOf(h), join(from, h)]));
  const t0 = performance.now();
  const result = await build({ entryPoints, outdir, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node22', mainFields: ['module', 'main'], banner: { js: REQUIRE_BANNER }, define: { 'process.env.PROVENA_BUNDLE': '"lambda"' }, minify: true, metafile: true, logLevel: 'error', absWorkingDir: from });
  for (const name of Object.keys(entryPoints)) await writeFile(join(outdir, `import-${name}.mjs`), IMPORTER(`${name}.mjs`));
  return { names: Object.keys(entryPoints), metafile: result.metafile, seconds: (performance.now() - t0) / 1000 };
}

const nameOf = (h: string) => h.replace(/^functions\//, '').replace(/\.ts$/, '').replace(/\//g, '-');

/** A checkout of `ref` in `dir` that shares this repository's node_modules and generated contract bindings. */
function checkout(ref: string, dir: string): string {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`], { cwd: root });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(root, 'contracts', 'typechain'), join(dir, 'contracts', 'typechain'), { recursive: true });
  return commit;
}

interface Row extends Measured {
  name: string;
  heaviest: Record<string, number>;
  before?: Omit<Measured, 'floorMs'> & { heaviest: Record<string, number> };
}

interface Measured {
  kib: number;
  gzipKiB: number;
  importMs: number;
  importCpuMs: number;
  coldImportMs: number;
  floorMs: number;
}

async function main(): Promise<void> {
  const machine = machineNow();
  const dir = await mkdtemp(join(tmpdir(), 'provena-bench-lambda-'));
  try {
    const handlers = [...new Set([...Object.values(routes).map((r) => r.handler as string), ...WORKERS])].filter((h) => existsSync(join(root, h)) && (!ONLY || ONLY.has(nameOf(h))));
    const after = await bundle(root, handlers, join(dir, 'after'));
    let before: { commit: string; names: string[]; metafile: Metafile } | undefined;
    if (BASE) {
      const commit = checkout(BASE, join(dir, 'base'));
      before = { commit, ...(await bundle(join(dir, 'base'), handlers, join(dir, 'before'))) };
    }
    await writeFile(join(dir, 'empty.mjs'), '');
    // The components, bundled alike from stdin-free entry files that resolve packages from this repository.
    const compDir = join(dir, 'components');
    mkdirSync(compDir, { recursive: true });
    const compNames = Object.keys(COMPONENTS).map((label, i) => ({ label, name: `component-${i}` }));
    for (const { label, name } of compNames) await writeFile(join(compDir, `${name}.ts`), COMPONENTS[label]!);
    await build({ entryPoints: compNames.map(({ name }) => join(compDir, `${name}.ts`)), outdir: compDir, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node22', mainFields: ['module', 'main'], banner: { js: REQUIRE_BANNER }, minify: true, logLevel: 'error', nodePaths: [join(root, 'node_modules')] });
    for (const { name } of compNames) await writeFile(join(compDir, `import-${name}.mjs`), IMPORTER(`${name}.mjs`));
    await writeFile(join(dir, 'import-empty.mjs'), IMPORTER('empty.mjs'));
    const rows: Row[] = [];
    for (const name of after.names) {
      const sides = [{ key: 'after', out: join(dir, 'after') }, ...(before?.names.includes(name) ? [{ key: 'before', out: join(dir, 'before') }] : [])];
      const samples: Record<string, Sample[]> = { floor: [], after: [], before: [] };
      // Interleaved: floor, after, before, floor, after, before…: each sees the load the others see.
      for (let i = 0; i < REPEAT; i++) {
        samples.floor!.push(once(join(dir, 'import-empty.mjs')));
        for (const s of sides) samples[s.key]!.push(once(join(s.out, `import-${name}.mjs`)));
      }
      const measured = (key: string, out: string): Measured => {
        const file = join(out, `${name}.mjs`);
        const xs = samples[key]!;
        return {
          kib: +(statSync(file).size / 1024).toFixed(1),
          gzipKiB: +(gzipSync(readFileSync(file)).length / 1024).toFixed(1),
          importMs: med(xs.map((x) => x.ms)),
          importCpuMs: med(xs.map((x) => x.cpu)),
          coldImportMs: med(xs.map((x) => x.wall)),
          floorMs: med(samples.floor!.map((x) => x.wall)),
        };
      };
      const a = measured('after', join(dir, 'after'));
      const b = sides.length > 1 ? measured('before', join(dir, 'before')) : undefined;
      rows.push({ name, ...a, heaviest: heaviest(after.metafile, `${name}.mjs`), ...(b ? { before: { kib: b.kib, gzipKiB: b.gzipKiB, importMs: b.importMs, importCpuMs: b.importCpuMs, coldImportMs: b.coldImportMs, heaviest: heaviest(before!.metafile, `${name}.mjs`) } } : {}) });
      console.log(`${name}: ${a.kib} KiB, import ${a.importMs} ms (cpu ${a.importCpuMs})${b ? `; before ${b.kib} KiB, import ${b.importMs} ms (cpu ${b.importCpuMs})` : ''}`);
    }
    const components = compNames.map(({ label, name }) => {
      const xs = Array.from({ length: REPEAT }, () => once(join(compDir, `import-${name}.mjs`)));
      return { component: label, kib: +(statSync(join(compDir, `${name}.mjs`)).size / 1024).toFixed(1), importMs: med(xs.map((x) => x.ms)), importCpuMs: med(xs.map((x) => x.cpu)) };
    });
    for (const c of components) console.log(`component ${c.component}: ${c.kib} KiB, import ${c.importMs} ms (cpu ${c.importCpuMs})`);
    const stats = (pick: (r: Row) => number | undefined) => {
      const xs = rows.map(pick).filter((x): x is number => x !== undefined).sort((p, q) => p - q);
      return xs.length ? { median: percentile(xs, 50), max: xs[xs.length - 1]! } : undefined;
    };
    const largest = rows.reduce((p, q) => (q.kib > p.kib ? q : p));
    const out = {
      bench: 'lambda',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: machineNow().loadavgStart },
      setup: `esbuild ${rows.length} Lambdas as the CDK bundles them (ESM, node22, minified, all bundled) in ${after.seconds.toFixed(1)} s; per bundle ${REPEAT} fresh node processes, interleaved with an empty module${before ? ` and with the same bundle built from ${before.commit}` : ''}; medians`,
      ...(ONLY ? { only: [...ONLY] } : {}),
      targets: { kib: 1024, importMs: 150 },
      floorImportMs: med(rows.map((r) => r.floorMs)),
      medianKiB: stats((r) => r.kib)!.median,
      maxKiB: stats((r) => r.kib)!.max,
      medianImportMs: stats((r) => r.coldImportMs)!.median,
      medianInProcessImportMs: stats((r) => r.importMs)!.median,
      maxInProcessImportMs: stats((r) => r.importMs)!.max,
      medianImportCpuMs: stats((r) => r.importCpuMs)!.median,
      maxImportCpuMs: stats((r) => r.importCpuMs)!.max,
      largest: { name: largest.name, kib: largest.kib },
      overTarget: rows.filter((r) => r.kib > 1024 || r.importMs > 150).map((r) => ({ name: r.name, kib: r.kib, importMs: r.importMs, importCpuMs: r.importCpuMs })),
      ...(before
        ? {
            before: {
              commit: before.commit,
              medianKiB: stats((r) => r.before?.kib)?.median,
              maxKiB: stats((r) => r.before?.kib)?.max,
              medianImportMs: stats((r) => r.before?.coldImportMs)?.median,
              medianInProcessImportMs: stats((r) => r.before?.importMs)?.median,
              maxInProcessImportMs: stats((r) => r.before?.importMs)?.max,
              medianImportCpuMs: stats((r) => r.before?.importCpuMs)?.median,
              maxImportCpuMs: stats((r) => r.before?.importCpuMs)?.max,
            },
          }
        : {}),
      components,
      bundles: rows,
    };
    await writeFile(join(here, 'results', 'lambda.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(
      `${rows.length} bundles: median ${out.medianKiB} KiB, max ${out.maxKiB} KiB (${largest.name}); in-process import median ${out.medianInProcessImportMs} ms, max ${out.maxInProcessImportMs} ms (CPU median ${out.medianImportCpuMs} ms); process ${out.medianImportMs} ms vs empty module ${out.floorImportMs} ms` +
        (out.before ? `\nbefore (${out.before.commit}): median ${out.before.medianKiB} KiB, max ${out.before.maxKiB} KiB; import median ${out.before.medianInProcessImportMs} ms, max ${out.before.maxInProcessImportMs} ms (CPU median ${out.before.medianImportCpuMs} ms)` : ''),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
