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

/** A value import of the whole route table (every route's schemas) or of a TypeChain factory (deployment bytecode). */
const ROUTE_TABLE = /^import\s+(?!type\b)[^;]*from\s*'[^']*\/http\/routes\.js'/m;
const TYPECHAIN_FACTORY = /^import\s+(?!type\b)[^;]*from\s*'[^']*contracts\/typechain\/(?:index|factories\/[^']*)\.js'/m;

describe('architecture: a Lambda bundle holds its own route and contract ABIs only', () => {
  const code = (dirs: string[]) => sourceFiles(root, dirs).filter((f) => !f.endsWith('.test.ts'));

  it("finds no handler importing the whole route table (a handler imports its area's module, shared/http/routes/*.ts)", () => {
    // The OpenAPI handler describes every route: it alone needs the whole table.
    const offenders = code(['functions']).filter((f) => f !== 'functions/docs/openapi.ts' && ROUTE_TABLE.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('finds no TypeChain factory (with bytecode) in adapters or handlers: they use the ABI-only contracts/typechain/abis.ts', () => {
    const offenders = code(['functions', 'shared/adapters']).filter((f) => TYPECHAIN_FACTORY.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('reports the table and a factory, and lets an area module, the ABI module and type imports pass', () => {
    expect(ROUTE_TABLE.test("import { routes } from '../../shared/http/routes.js';")).toBe(true);
    expect(ROUTE_TABLE.test("import { datasetRoutes as routes } from '../../shared/http/routes/datasets.js';")).toBe(false);
    expect(ROUTE_TABLE.test("import type { RouteName } from '../../shared/http/routes.js';")).toBe(false);
    expect(TYPECHAIN_FACTORY.test("import { LicenseManager__factory } from '../../../contracts/typechain/index.js';")).toBe(true);
    expect(TYPECHAIN_FACTORY.test("import { Errors__factory } from '../../../contracts/typechain/factories/Errors__factory.js';")).toBe(true);
    expect(TYPECHAIN_FACTORY.test("import { LicenseManager__abi } from '../../../contracts/typechain/abis.js';")).toBe(false);
    expect(TYPECHAIN_FACTORY.test("import type { LicenseManager } from '../../../contracts/typechain/index.js';")).toBe(false);
  });
});
