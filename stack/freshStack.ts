/**
 * A stack of its own, for the demo and the benchmarks: the caller's data folder and loopback ports the OS picks
 * (port 0: each server reports the port it bound, so nothing can take one between picking and binding), so that a
 * running `npm start` (or another bench) is left alone.
 */
import { startStack, type RunningStack } from './stack.js';

/**
 * Starts the embedded stack in `dataDir` on ports the OS picks, with its request log off; `overrides` (PROVENA_*
 * settings) win over those defaults and over this process's environment. The caller owns `dataDir` (and removes it).
 */
export async function startFreshStack(dataDir: string, overrides: Record<string, string> = {}, log?: (line: string) => void): Promise<RunningStack> {
  return startStack(
    {
      ...process.env,
      PROVENA_DATA_DIR: dataDir,
      PROVENA_API_PORT: '0',
      PROVENA_CHAIN_PORT: '0',
      PROVENA_DYNAMODB_PORT: '0',
      PROVENA_S3_PORT: '0',
      PROVENA_LOG_LEVEL: 'SILENT',
      ...overrides,
    },
    log,
  );
}
