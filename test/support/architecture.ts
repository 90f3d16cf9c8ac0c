/**
 * The layer rules of the codebase, as data, and a checker over import statements. Arrows point down:
 * errors/encoding ← crypto/schemas ← ports ← domain/auth/attestation ← use-cases/http ← adapters/sdk ← edges
 * (functions, stack, cli, infra, bench, gpu-workers, scripts, contracts' scripts, tests). A port imports only
 * schemas and types; a use case never imports an adapter; the SDK never builds a server-side adapter.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** A layer: the folders (repo-relative prefixes) it holds and its rank (lower = more fundamental). */
interface Layer {
  name: string;
  prefixes: string[];
  rank: number;
  /** Layers it must not import even when their rank is lower or equal. */
  never?: string[];
  /** npm packages it may import (undefined: any). */
  packages?: RegExp;
}

export const LAYERS: Layer[] = [
  { name: 'foundation', prefixes: ['shared/errors.ts', 'shared/encoding/'], rank: 0 },
  { name: 'schemas', prefixes: ['shared/schemas/'], rank: 1 },
  { name: 'crypto', prefixes: ['shared/crypto/', 'shared/eip712'], rank: 1 },
  // Generated contract bindings (TypeChain over ethers): plain data and encoders.
  { name: 'bindings', prefixes: ['contracts/typechain/'], rank: 1 },
  // Ports: interfaces over schemas and types; no library's types (ethers), no crypto code.
  { name: 'ports', prefixes: ['shared/ports/'], rank: 2, never: ['crypto'], packages: /^(zod|node:stream)$/ },
  { name: 'domain', prefixes: ['shared/domain/', 'shared/auth/', 'shared/attestation/'], rank: 3 },
  { name: 'use-cases', prefixes: ['shared/use-cases/'], rank: 4 },
  { name: 'http', prefixes: ['shared/http/'], rank: 4, never: ['use-cases'] },
  { name: 'adapters', prefixes: ['shared/adapters/'], rank: 5, never: ['use-cases', 'http'] },
  // The SDK runs in a browser too: it never builds a server-side adapter or runs a use case.
  { name: 'sdk', prefixes: ['shared/sdk/'], rank: 5, never: ['adapters', 'use-cases'] },
  { name: 'handlers', prefixes: ['functions/'], rank: 6, never: ['adapters', 'stack'] },
  { name: 'composition', prefixes: ['functions/_lib/'], rank: 6 },
  { name: 'edges', prefixes: ['stack/', 'cli/', 'infra/', 'bench/', 'gpu-workers/', 'scripts/', 'contracts/', 'web/', 'test/'], rank: 8 },
];

/** The layer of a repo-relative path (longest matching prefix), or undefined for files outside the map. */
export function layerOf(path: string): Layer | undefined {
  let best: Layer | undefined;
  let bestLen = -1;
  for (const l of LAYERS) {
    for (const p of l.prefixes) {
      if (path.startsWith(p) && p.length > bestLen) {
        best = l;
        bestLen = p.length;
      }
    }
  }
  return best;
}

/** One import of one file. */
export interface ImportEdge {
  from: string;
  /** Repo-relative path for a relative import, else the package specifier. */
  to: string;
  relative: boolean;
}

/** Why an import breaks the rules, or undefined when it does not. */
export function violation(edge: ImportEdge): string | undefined {
  const from = layerOf(edge.from);
  if (!from) return undefined;
  if (!edge.relative) {
    if (from.packages && !from.packages.test(edge.to) && !edge.to.startsWith('node:')) return `${from.name} may not import the package ${edge.to}`;
    return undefined;
  }
  const to = layerOf(edge.to);
  if (!to) return undefined;
  if (to.rank > from.rank) return `${from.name} (rank ${from.rank}) imports ${to.name} (rank ${to.rank}): an upward import`;
  if (from.never?.includes(to.name)) return `${from.name} may never import ${to.name}`;
  return undefined;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import of a TypeScript file's text. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = (m[1] ?? m[2]) as string;
    if (spec.startsWith('.')) {
      edges.push({ from: file, to: normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'), relative: true });
    } else {
      edges.push({ from: file, to: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string), relative: false });
    }
  }
  return edges;
}

/** All `.ts` files under `dirs` (repo-relative), skipping tests: test helpers may reach anywhere. */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      if (name === 'node_modules' || name === 'typechain' || name === 'artifacts' || name.startsWith('.')) continue;
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(relative(root, p));
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out.sort();
}

/** Every rule broken in the tree under `root`. */
export function checkTree(root: string, dirs = ['shared', 'functions']): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(root, dirs)) {
    for (const edge of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
      const why = violation(edge);
      if (why) problems.push(`${edge.from} -> ${edge.to}: ${why}`);
    }
  }
  return problems;
}
