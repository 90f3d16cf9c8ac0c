/** Dataset listings through the API of the embedded stack: real DynamoDB (dynalite), IPFS store and chain. */
import { describe, expect, it } from '@jest/globals';
import { signRequest } from '../shared/auth/signedRequest.js';
import type { ApiError } from '../shared/sdk/client.js';
import { DatasetManifest } from '../shared/schemas/dataset.js';
import { LocalUnixfsContentStore } from '../shared/adapters/ipfs/LocalUnixfsContentStore.js';
import { routes } from '../shared/http/routes.js';
import { listing } from './support/fixtures.js';
import { clientFor, newWallet, stackInfo } from './support/stack.js';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

async function rawPost(body: string, wallet = newWallet()) {
  const { chainId, apiUrl } = stackInfo();
  const headers = await signRequest(wallet, { chainId, method: 'POST', path: '/v1/datasets', body });
  const res = await fetch(`${apiUrl}/v1/datasets`, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string; details: { path: (string | number)[]; message: string }[] } } };
}

describe('dataset listings', () => {
  it('creates a listing, returns it with a manifest CID whose content matches, and reads it back', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const created = await api.createDataset(listing(owner.address));
    expect(created).toMatchObject({ owner: owner.address, version: 1, status: 'active', title: 'Retail transactions 2024' });
    expect(created.id).toMatch(/^ds_[0-9a-z]{26}$/);
    expect(await api.getDataset(created.id)).toEqual(created);

    const store = new LocalUnixfsContentStore({ dir: stackInfo().ipfsDir });
    const manifest = DatasetManifest.parse(await store.getJson(created.manifestCid));
    expect(manifest).toMatchObject({ datasetId: created.id, version: 1, owner: owner.address, status: 'active' });
    expect(manifest.listing.license.pricePerSample).toBe('25');
  });

  it('treats a retried create with the same Idempotency-Key as one listing', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const a = await api.createDataset(listing(owner.address), { idempotencyKey: 'retry-key-0001' });
    const b = await api.createDataset(listing(owner.address), { idempotencyKey: 'retry-key-0001' });
    expect(b).toEqual(a);
    expect((await api.listDatasets({ owner: owner.address })).items).toHaveLength(1);
    const conflict = await rejection(api.createDataset(listing(owner.address, { title: 'Different' }), { idempotencyKey: 'retry-key-0001' }));
    expect(conflict.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers a retried create with the first result (version 1 as created), even after the listing was updated', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const first = await api.createDataset(listing(owner.address), { idempotencyKey: 'retry-after-update' });
    await api.updateDataset(first.id, { description: 'edited' });
    const retried = await api.createDataset(listing(owner.address), { idempotencyKey: 'retry-after-update' });
    expect(retried).toEqual(first);
    expect((await api.getDataset(first.id)).version).toBe(2);
    expect((await api.listDatasets({ owner: owner.address })).items).toHaveLength(1);
  });

  it('updates a listing as a new version with a new manifest linked to the previous one', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const v1 = await api.createDataset(listing(owner.address));
    const v2 = await api.updateDataset(v1.id, { title: 'Retail transactions 2024 (cleaned)', expectedVersion: 1 });
    expect(v2).toMatchObject({ version: 2, title: 'Retail transactions 2024 (cleaned)', createdAt: v1.createdAt });
    expect(v2.manifestCid).not.toBe(v1.manifestCid);
    const store = new LocalUnixfsContentStore({ dir: stackInfo().ipfsDir });
    expect(DatasetManifest.parse(await store.getJson(v2.manifestCid)).previous).toBe(v1.manifestCid);
  });

  it('refuses an update against a stale version and keeps the listing as it was', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const v1 = await api.createDataset(listing(owner.address));
    await api.updateDataset(v1.id, { description: 'second' });
    const err = await rejection(api.updateDataset(v1.id, { description: 'third', expectedVersion: 1 }));
    expect(err.code).toBe('VERSION_CONFLICT');
    expect((await api.getDataset(v1.id)).description).toBe('second');
  });

  it('forbids another address to update or delist, and changes nothing', async () => {
    const owner = newWallet();
    const v1 = await clientFor(owner).createDataset(listing(owner.address));
    const other = clientFor(newWallet());
    const upd = await rejection(other.updateDataset(v1.id, { title: 'hijacked' }));
    expect([upd.httpStatus, upd.code]).toEqual([403, 'FORBIDDEN_NOT_OWNER']);
    const del = await rejection(other.delistDataset(v1.id));
    expect([del.httpStatus, del.code]).toEqual([403, 'FORBIDDEN_NOT_OWNER']);
    expect(await clientFor().getDataset(v1.id)).toEqual(v1);
  });

  it('delists: the listing stays readable, leaves the active list, and cannot be edited', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const v1 = await api.createDataset(listing(owner.address));
    const gone = await api.delistDataset(v1.id);
    expect(gone).toMatchObject({ status: 'delisted', version: 2 });
    expect((await api.listDatasets({ owner: owner.address })).items).toHaveLength(0);
    expect((await api.listDatasets({ owner: owner.address, status: 'delisted' })).items.map((d) => d.id)).toEqual([v1.id]);
    expect((await rejection(api.updateDataset(v1.id, { title: 'again' }))).code).toBe('DATASET_DELISTED');
    expect((await rejection(api.delistDataset(v1.id))).code).toBe('DATASET_DELISTED');
  });

  it('answers DATASET_NOT_FOUND for an unknown id and VALIDATION_FAILED for a malformed one', async () => {
    const api = clientFor();
    const missing = await rejection(api.getDataset('ds_0000000000000000000000000a'));
    expect([missing.httpStatus, missing.code]).toEqual([404, 'DATASET_NOT_FOUND']);
    const bad = await rejection(api.getDataset('nope'));
    expect([bad.httpStatus, bad.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  describe('search and pagination', () => {
    it('filters by tag, owner and text and pages with a cursor, newest first, without repeats', async () => {
      const owner = newWallet();
      const api = clientFor(owner);
      const tag = `t${Date.now().toString(36)}`;
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        const ds = await api.createDataset(listing(owner.address, { title: `Weather station ${i}`, tags: [tag, i % 2 ? 'odd' : 'even'] }));
        made.push(ds.id);
      }
      await api.createDataset(listing(owner.address, { title: 'Unrelated', tags: ['other'] }));

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await api.listDatasets({ tag, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((d) => d.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...made].reverse());

      const odd = await api.listDatasets({ owner: owner.address, tag: 'odd', limit: 100 });
      expect(odd.items.map((d) => d.title).sort()).toEqual(['Weather station 1', 'Weather station 3', 'Weather station 5']);
      const text = await api.listDatasets({ owner: owner.address, q: 'STATION 4' });
      expect(text.items.map((d) => d.title)).toEqual(['Weather station 4']);
      expect((await api.listDatasets({ owner: owner.address })).items).toHaveLength(8);
    });

    it('rejects a forged cursor with CURSOR_INVALID and an out-of-range limit with VALIDATION_FAILED', async () => {
      const api = clientFor();
      expect((await rejection(api.listDatasets({ cursor: 'garbage' }))).code).toBe('CURSOR_INVALID');
      expect((await rejection(api.listDatasets({ limit: 1000 }))).code).toBe('VALIDATION_FAILED');
    });
  });

  describe('invalid bodies get 400 with field paths and write nothing', () => {
    const cases: [string, (owner: string) => unknown, (string | number)[]][] = [
      ['a missing title', (o) => ({ ...listing(o), title: undefined }), ['body', 'title']],
      ['splits not summing to 10000', (o) => listing(o, { royaltySplit: [{ recipient: o, bps: 6000 }, { recipient: newWallet().address, bps: 3000 }] }), ['body', 'royaltySplit']],
      ['a negative price', (o) => ({ ...listing(o), license: { ...listing(o).license, pricePerSample: '-5' } }), ['body', 'license', 'pricePerSample']],
      ['a 1 MB title', (o) => listing(o, { title: 'x'.repeat(1024 * 1024) }), ['body', 'title']],
      ['an anonymized column not in the schema', (o) => listing(o, { anonymization: { identifierColumns: ['ssn'], redactTextPii: true } }), ['body', 'anonymization', 'identifierColumns', 0]],
      ['an unknown field', (o) => ({ ...listing(o), secret: true }), ['body']],
    ];
    it.each(cases)('%s', async (_name, make, path) => {
      const owner = newWallet();
      const r = await rawPost(JSON.stringify(make(owner.address)), owner);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(r.body.error.details.map((d) => d.path)).toContainEqual(path);
      expect((await clientFor().listDatasets({ owner: owner.address })).items).toHaveLength(0);
    });

    it('answers BODY_NOT_JSON for a body that is not JSON', async () => {
      const r = await rawPost('{"title": ');
      expect([r.status, r.body.error.code]).toEqual([400, 'BODY_NOT_JSON']);
    });
  });

  it('answers ROUTE_NOT_FOUND and METHOD_NOT_ALLOWED with the error envelope', async () => {
    const { apiUrl } = stackInfo();
    const a = await fetch(`${apiUrl}/v1/nothing`);
    expect([a.status, ((await a.json()) as { error: { code: string } }).error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const b = await fetch(`${apiUrl}/v1/health`, { method: 'PUT' });
    expect([b.status, ((await b.json()) as { error: { code: string } }).error.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('reports every component healthy and serves an OpenAPI document covering every route', async () => {
    const api = clientFor();
    const health = await api.health();
    expect(health.status).toBe('ok');
    expect(Object.keys(health.components).sort()).toEqual(['attestor', 'chain', 'datasets', 'indexer', 'ipfs', 'jobQueue', 'jobs', 'keyGate', 'nonces', 'relayer', 's3', 'uploads']);
    // The relayer's funded account and its balance, never its key.
    expect(health.components.relayer?.detail).toMatch(/^relayer 0x[0-9a-fA-F]{40} balance [0-9]+ wei$/);
    const doc = (await (await fetch(`${stackInfo().apiUrl}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/datasets/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
  });
});

describe('rate limits (issue 8, item 6)', () => {
  it('answers a burst of listings above the per-client limit with 429 RATE_LIMITED, and creates only the ones it accepted', async () => {
    const owner = newWallet();
    const api = clientFor(owner);
    const limit = routes.createDataset.rateLimit.perClient.burst;

    const results = await Promise.allSettled(Array.from({ length: limit + 10 }, (_, i) => api.createDataset(listing(owner.address, { title: `Burst ${i}` }))));

    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ApiError] : []));
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused.every((e) => e.httpStatus === 429 && e.code === 'RATE_LIMITED')).toBe(true);
    const listed = await api.listDatasets({ owner: owner.address, limit: 100 });
    expect(listed.items).toHaveLength(created.length);
    // Refused before the handler (no signature needed to be refused), and told when to come back.
    const raw = await Promise.all(
      Array.from({ length: limit + 5 }, () => fetch(`${stackInfo().apiUrl}/v1/datasets`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-provena-address': owner.address }, body: '{}' })),
    );
    const limited = raw.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(raw.every((r) => r.status === 429 || r.status === 401)).toBe(true);
    expect((await api.listDatasets({ owner: owner.address, limit: 100 })).items).toHaveLength(created.length);
  });
});
