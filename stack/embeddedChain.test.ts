/**
 * The embedded chain's start: a real `hardhat node` child. Port 0 lets the OS pick (the child says which), and a
 * port already served by someone else (another stack's chain) is never taken for this child's: the start fails
 * with the child's exit instead of handing back the other node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startEmbeddedChain } from './embeddedChain.js';
import { ROOT } from './stack.js';

const logDir = mkdtempSync(join(tmpdir(), 'provena-chain-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

describe('startEmbeddedChain', () => {
  it('listens on a port the OS picks when asked for 0, and reports it', async () => {
    const chain = await startEmbeddedChain({ root: ROOT, port: 0, logDir });
    try {
      expect(chain.port).toBeGreaterThan(0);
      expect(chain.rpcUrl).toBe(`http://127.0.0.1:${chain.port}`);
      const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) });
      expect(((await res.json()) as { result: string }).result).toBe('0x0');
      expect(chain.chainId).toBe(31337);
    } finally {
      await chain.close();
    }
  }, 90_000);

  it('fails, instead of answering with the other node, when its port is already served', async () => {
    // An impostor chain on the port: it answers eth_chainId, as another stack's hardhat node would.
    const impostor: Server = createServer((_req, res) => res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: '0x7a69' })));
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', () => r()));
    const { port } = impostor.address() as AddressInfo;
    try {
      await expect(startEmbeddedChain({ root: ROOT, port, logDir })).rejects.toThrow(/hardhat node exited/);
    } finally {
      impostor.closeAllConnections();
      await new Promise((r) => impostor.close(r));
    }
  }, 90_000);
});
