/**
 * A stack of its own, for the demo and the benchmarks: the caller's data folder and free loopback ports, so that a
 * running `npm start` (or another bench) is left alone.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { startStack, type RunningStack } from './stack.js';

/** A free TCP port on 127.0.0.1 (free when asked: another process may take it before it is bound again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the embedded stack in `dataDir` on free ports with its request log off; `overrides` (PROVENA_* settings)
 * win over those defaults and over this process's environment. The caller owns `dataDir` (and removes it).
 */
export async function startFreshStack(dataDir: string, overrides: Record<string, string> = {}, log?: (line: string) => void): Promise<RunningStack> {
  return startStack(
    {
      ...process.env,
      PROVENA_DATA_DIR: dataDir,
      PROVENA_API_PORT: String(await freePort()),
      PROVENA_CHAIN_PORT: String(await freePort()),
      PROVENA_DYNAMODB_PORT: String(await freePort()),
      PROVENA_S3_PORT: String(await freePort()),
      PROVENA_LOG_LEVEL: 'SILENT',
      ...overrides,
    },
    log,
  );
}
