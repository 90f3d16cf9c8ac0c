import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { ProvenaError } from '../../errors.js';
import { KUBO_ADD_OPTIONS, KuboContentStore, mapKuboError } from './KuboContentStore.js';
import { codeOf } from '../../../test/support/errors.js';

/**
 * A real Kubo daemon is the production target and is not available here, so these tests cover what can be
 * checked honestly without one: the add options, error mapping, and clean failure against a closed port.
 * No fake node: a mock answering like Kubo would only test the mock.
 */

/** A loopback port nothing listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}


async function drain(it: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of it) void _;
}

describe('KuboContentStore', () => {
  it('adds with the pinned DAG settings Kubo needs to reproduce the local CIDs', () => {
    expect(KUBO_ADD_OPTIONS).toEqual({
      cidVersion: 1,
      rawLeaves: true,
      chunker: 'size-262144',
      hashAlg: 'sha2-256',
      trickle: false,
      wrapWithDirectory: false,
      pin: true,
    });
  });

  it('rejects a malformed RPC url with VALIDATION_FAILED', () => {
    expect(() => new KuboContentStore({ url: 'not a url' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('fails cleanly with CONTENT_STORE_UNAVAILABLE when no node listens on the port', async () => {
    const store = new KuboContentStore({ url: `http://127.0.0.1:${await closedPort()}` });

    expect(await codeOf(store.add(new Uint8Array([1, 2, 3])))).toBe('CONTENT_STORE_UNAVAILABLE');
    expect(await codeOf(store.addJson({ a: 1 }))).toBe('CONTENT_STORE_UNAVAILABLE');
    expect(await codeOf(drain(store.cat('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')))).toBe('CONTENT_STORE_UNAVAILABLE');
    expect(await codeOf(store.has('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'))).toBe('CONTENT_STORE_UNAVAILABLE');
  });

  it('keeps the connection error as the cause', async () => {
    const store = new KuboContentStore({ url: `http://127.0.0.1:${await closedPort()}` });
    const err = await store.add(new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvenaError);
    expect((err as ProvenaError).message).toMatch(/ECONNREFUSED/);
    // Not toBeInstanceOf(Error): fetch's TypeError comes from Node's realm, not jest's vm realm.
    expect((err as ProvenaError).cause).toMatchObject({ message: 'fetch failed' });
  });

  it('reports down health, naming the endpoint, when no node is running', async () => {
    const port = await closedPort();
    const h = await new KuboContentStore({ url: `http://127.0.0.1:${port}` }).health();
    expect(h.status).toBe('down');
    expect(h.detail).toContain(`127.0.0.1:${port}`);
    expect(h.error).toMatch(/unreachable/);
  });

  it('validates CIDs before calling the node', async () => {
    const store = new KuboContentStore({ url: `http://127.0.0.1:${await closedPort()}` });
    expect(await codeOf(drain(store.cat('nope')))).toBe('VALIDATION_FAILED');
    expect(await codeOf(store.addJson({ big: 1n }))).toBe('VALIDATION_FAILED');
  });

  it('maps Kubo lookup failures to CONTENT_NOT_FOUND and other RPC errors to DEPENDENCY_FAILED', () => {
    const notFound = Object.assign(new Error('block was not found locally (offline): ipld: could not find bafk...'), { name: 'HTTPError' });
    const deadline = Object.assign(new Error('context deadline exceeded'), { name: 'TimeoutError' });
    const other = Object.assign(new Error('pin: permission denied'), { name: 'HTTPError' });

    expect(mapKuboError(notFound, 'cat', 'bafk').code).toBe('CONTENT_NOT_FOUND');
    expect(mapKuboError(deadline, 'cat', 'bafk').code).toBe('CONTENT_NOT_FOUND');
    expect(mapKuboError(deadline, 'add').code).toBe('CONTENT_STORE_UNAVAILABLE');
    expect(mapKuboError(other, 'add').code).toBe('DEPENDENCY_FAILED');
    expect(mapKuboError(other, 'add').cause).toBe(other);
  });
});
