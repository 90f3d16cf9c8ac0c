import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTree, importsOf, layerOf, sourceFiles, violation } from './support/architecture.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('architecture: imports only point down', () => {
  it('finds no upward or forbidden import in shared/ and functions/', () => {
    expect(checkTree(root)).toEqual([]);
  });

  it('reports a port that imports an adapter', () => {
    const [edge] = importsOf('shared/ports/KeyGate.ts', "import { EvmChain } from '../adapters/chain/EvmChain.js';");
    expect(edge && violation(edge)).toMatch(/upward import/);
  });

  it('reports a use case that imports an adapter', () => {
    const [edge] = importsOf('shared/use-cases/registerListing.ts', "import type { RegistryRelayer } from '../adapters/chain/RegistryRelayer.js';");
    expect(edge && violation(edge)).toMatch(/upward import/);
  });

  it('reports a port that imports ethers or crypto code', () => {
    const [pkg] = importsOf('shared/ports/AccessConditions.ts', "import { getAddress } from 'ethers';");
    const [crypto] = importsOf('shared/ports/KeyGate.ts', "import type { SealedBox } from '../crypto/ecies.js';");
    expect(pkg && violation(pkg)).toMatch(/may not import the package ethers/);
    expect(crypto && violation(crypto)).toMatch(/may never import crypto/);
  });

  it('reports the SDK building a server-side adapter', () => {
    const [edge] = importsOf('shared/sdk/fetchData.ts', "import { LocalUnixfsContentStore } from '../adapters/ipfs/LocalUnixfsContentStore.js';");
    expect(edge && violation(edge)).toMatch(/sdk may never import adapters/);
  });

  it('reports a handler that builds an adapter instead of using the runtime', () => {
    const [edge] = importsOf('functions/datasets/get.ts', "import { DynamoDatasetRepo } from '../../shared/adapters/aws/DynamoDatasetRepo.js';");
    expect(edge && violation(edge)).toMatch(/handlers may never import adapters/);
  });

  it('lets the composition root wire adapters', () => {
    const [edge] = importsOf('functions/_lib/runtime.ts', "import { EvmChain } from '../../shared/adapters/chain/EvmChain.js';");
    expect(edge && violation(edge)).toBeUndefined();
    expect(layerOf('functions/_lib/runtime.ts')?.name).toBe('composition');
  });
});

/** `import { z } from 'zod'` keeps all of zod (446 KiB with its locales) in every Lambda bundle; `import * as z` shakes. */
const NAMED_ZOD = /^import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/m;

describe('architecture: bundles stay small', () => {
  it("finds no value import of zod's `z` by name in code that reaches a Lambda or worker bundle", () => {
    const offenders = sourceFiles(root, ['shared', 'functions', 'gpu-workers']).filter((f) => NAMED_ZOD.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('reports the named form and lets the namespace and type-only forms pass', () => {
    expect(NAMED_ZOD.test("import { z } from 'zod';")).toBe(true);
    expect(NAMED_ZOD.test("import { ZodError, z } from 'zod';")).toBe(true);
    expect(NAMED_ZOD.test("import * as z from 'zod';")).toBe(false);
    expect(NAMED_ZOD.test("import type { z } from 'zod';")).toBe(false);
  });
});
