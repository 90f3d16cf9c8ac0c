/**
 * The embedded chain: a real `hardhat node` (JSON-RPC over HTTP on loopback, chain id 31337) as a child
 * process. Its output goes to a log file; its well-known dev accounts are funded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HDNodeWallet } from 'ethers';

export interface EmbeddedChain {
  rpcUrl: string;
  port: number;
  chainId: number;
  logFile: string;
  close(): Promise<void>;
}

/** Hardhat's public dev mnemonic: its accounts are funded on the local node. Test-only: never use on a real chain. */
export const HARDHAT_DEV_MNEMONIC = 'test test test test test test test test test test test junk';

/** The i-th funded dev account's private key (m/44'/60'/0'/0/i), as Hardhat derives it. */
export function devAccountKey(index: number): string {
  return HDNodeWallet.fromPhrase(HARDHAT_DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

async function rpc(url: string, method: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/** The line `hardhat node` prints once it listens, with the address it bound (the port chosen when asked for 0). */
const LISTENING = /Started HTTP and WebSocket JSON-RPC server at (http:\/\/127\.0\.0\.1:([0-9]{1,5}))\//;
/** How much of the node's first output is searched for {@link LISTENING} (it is the first line). */
const BANNER_MAX_CHARS = 64 * 1024;

/**
 * Starts `hardhat node` on 127.0.0.1:`port` (0: a port the OS picks) and waits until it prints the address it
 * bound and answers `eth_chainId` there. The address comes from this child's own output, never from probing the
 * port: a port taken by another node (another stack's chain) makes this child exit, and is not mistaken for it.
 */
export async function startEmbeddedChain(options: { root: string; port: number; logDir: string; timeoutMs?: number }): Promise<EmbeddedChain> {
  const require = createRequire(join(options.root, 'package.json'));
  const cli = join(dirname(require.resolve('hardhat/package.json')), 'internal', 'cli', 'bootstrap.js');
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, 'chain.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--config', join(options.root, 'hardhat.config.cjs'), 'node', '--hostname', '127.0.0.1', '--port', String(options.port)],
    { cwd: options.root, env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  let banner = '';
  let bound: { rpcUrl: string; port: number } | undefined;
  const watch = (chunk: Buffer): void => {
    banner += chunk.toString('utf8');
    const m = LISTENING.exec(banner);
    if (m) bound = { rpcUrl: m[1]!, port: Number(m[2]) };
    if (bound || banner.length > BANNER_MAX_CHARS) child.stdout?.off('data', watch);
  };
  child.stdout?.on('data', watch);

  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let chainId = 0;
  for (;;) {
    if (exited !== null) throw new Error(`hardhat node exited with code ${exited}; see ${logFile}`);
    try {
      if (bound) {
        chainId = Number(await rpc(bound.rpcUrl, 'eth_chainId'));
        break;
      }
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hardhat node did not ${bound ? `answer on ${bound.rpcUrl}` : 'say where it listens'} within ${timeoutMs} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const { rpcUrl, port } = bound;

  return {
    rpcUrl,
    port,
    chainId,
    logFile,
    close: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
