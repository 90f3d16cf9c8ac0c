/**
 * npm run bench:lambda — the size of every route's Lambda bundle and its cold import time.
 *
 * Bundles each handler of the route table (shared/http/routes.ts) with esbuild and the options the CDK uses
 * (infra/lib/constructs/provenaFunction.ts: ESM, node22, minified, the `require` banner, the `PROVENA_BUNDLE`
 * define, everything bundled), into a
 * temporary directory. Then, per bundle, a fresh `node` process imports it and exits: the wall time of that
 * process (spawn to exit) is the cold import, read against the same for an empty module (Node's own start-up),
 * measured in the same run. BENCH_LAMBDA_REPEAT (default 3) processes per bundle; the median counts.
 * Writes bench/results/lambda.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build, type Metafile } from 'esbuild';
import { routes } from '../shared/http/routes.js';
import { machineNow } from './lib/figures.js';
import { percentile } from './lib/load.js';

const REPEAT = Number(process.env.BENCH_LAMBDA_REPEAT ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
/** The CDK's banner (infra/lib/constructs/HttpApi.ts): esbuild's ESM output has no `require`. */
const REQUIRE_BANNER = "import { createRequire as __provenaCreateRequire } from 'node:module'; const require = __provenaCreateRequire(import.meta.url);";

/** Median wall time (ms) of `node file` over REPEAT fresh processes. */
function coldMs(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`node ${basename(file)} exited ${r.status}: ${r.stderr.slice(0, 400)}`);
  }
  return percentile(times.sort((a, b) => a - b), 50);
}

/** The five largest packages (or repository folders) in one output file, KiB each: what a bundle is made of. */
function heaviest(metafile: Metafile, file: string): Record<string, number> {
  const output = Object.entries(metafile.outputs).find(([path]) => file.endsWith(path.replace(/^.*\//, '')))?.[1];
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return Object.fromEntries([...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => [k, +(v / 1024).toFixed(1)]));
}

async function main(): Promise<void> {
  const machine = machineNow();
  const dir = await mkdtemp(join(tmpdir(), 'provena-bench-lambda-'));
  try {
    const handlers = [...new Set(Object.values(routes).map((r) => r.handler))].filter((h) => existsSync(join(root, h)));
    const entryPoints = Object.fromEntries(handlers.map((h) => [h.replace(/^functions\//, '').replace(/\.ts$/, '').replace(/\//g, '-'), join(root, h)]));
    const t0 = performance.now();
    const result = await build({ entryPoints, outdir: dir, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node22', mainFields: ['module', 'main'], banner: { js: REQUIRE_BANNER }, define: { 'process.env.PROVENA_BUNDLE': '"lambda"' }, minify: true, metafile: true, logLevel: 'error' });
    const buildSeconds = (performance.now() - t0) / 1000;
    const empty = join(dir, 'empty.mjs');
    await writeFile(empty, '');
    const floorImportMs = coldMs(empty);
    const bundles = Object.keys(entryPoints).map((name) => {
      const file = join(dir, `${name}.mjs`);
      const importer = join(dir, `import-${name}.mjs`);
      return { name, file, importer };
    });
    const rows = [];
    for (const b of bundles) {
      await writeFile(b.importer, `await import(${JSON.stringify(`./${basename(b.file)}`)});\n`);
      const bytes = statSync(b.file).size;
      rows.push({ name: b.name, kib: +(bytes / 1024).toFixed(1), gzipKiB: +(gzipSync(readFileSync(b.file)).length / 1024).toFixed(1), coldImportMs: +coldMs(b.importer).toFixed(1), heaviest: heaviest(result.metafile, b.file) });
    }
    const kib = rows.map((r) => r.kib).sort((a, b) => a - b);
    const ms = rows.map((r) => r.coldImportMs).sort((a, b) => a - b);
    const largest = rows.reduce((a, b) => (b.kib > a.kib ? b : a));
    const out = {
      bench: 'lambda',
      date: new Date().toISOString(),
      machine: { ...machine, loadavgEnd: machineNow().loadavgStart },
      setup: `esbuild ${handlers.length} handlers as the CDK bundles them (ESM, node22, minified, all bundled) in ${buildSeconds.toFixed(1)} s; cold import = wall time of a fresh node process importing the bundle, median of ${REPEAT}`,
      floorImportMs: +floorImportMs.toFixed(1),
      medianKiB: percentile(kib, 50),
      medianImportMs: percentile(ms, 50),
      largest: { name: largest.name, kib: largest.kib },
      bundles: rows,
    };
    await writeFile(join(here, 'results', 'lambda.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`${rows.length} bundles: median ${out.medianKiB} KiB (largest ${largest.name} ${largest.kib} KiB); cold import median ${out.medianImportMs} ms vs empty module ${out.floorImportMs} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
