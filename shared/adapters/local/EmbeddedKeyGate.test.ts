import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { hexlify, randomBytes, Signature, Wallet } from 'ethers';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptToBuffer, encryptStream, generateDataKey } from '../../crypto/chunkedAead.js';
import type { EncryptedChunk } from '../../crypto/chunkedAead.js';
import { decryptReleasedKey } from '../../crypto/keyRelease.js';
import { keyRequestDomain } from '../../eip712.js';
import { signKeyRequest } from '../../crypto/keyRequest.js';
import { attestedWorkerCondition, licenseHolderCondition } from '../chain/provenaConditions.js';
import type { AccessConditionList } from '../../schemas/accessConditions.js';
import type { KeyGrant, ReleaseDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import type { NonceStore } from '../../ports/NonceStore.js';
import { EvmConditionEvaluator } from '../chain/EvmConditionEvaluator.js';
import { deployAccessWorld } from '../../../test/support/accessWorld.js';
import type { AccessWorld } from '../../../test/support/accessWorld.js';
import { EmbeddedKeyGate, loadOrCreateMasterKey } from './EmbeddedKeyGate.js';

/** In-memory NonceStore with the port's semantics (single use until expiry). */
class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  async consume(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    const k = `${scope}\u0000${nonce}`;
    const exp = this.seen.get(k);
    if (exp !== undefined && exp >= Math.floor(Date.now() / 1000)) return false;
    this.seen.set(k, expiresAt);
    return true;
  }
  async health() {
    return { status: 'ok' as const };
  }
}

const domain = keyRequestDomain(31337n);
let w: AccessWorld;
let dir: string;
let gate: EmbeddedKeyGate;
let logger: Logger;
let warn: ReturnType<typeof jest.spyOn>;

beforeAll(async () => {
  w = await deployAccessWorld();
  dir = await mkdtemp(join(tmpdir(), 'provena-gate-'));
});

beforeEach(async () => {
  logger = new Logger({ serviceName: 'keygate-test', logLevel: 'SILENT' });
  warn = jest.spyOn(logger, 'warn');
  gate = await EmbeddedKeyGate.open({
    masterKeyFile: join(dir, 'keys', 'gate.key'),
    evaluator: new EvmConditionEvaluator({ hardhat: w.sys.chain.provider }),
    nonceStore: new MemoryNonceStore(),
    logger,
    domain,
  });
});

// The gate's dataset ids are the on-chain ones here (the API maps its own ids to them).
const A = () => w.ds.a.toString();
const B = () => w.ds.b.toString();
const C = () => w.ds.c.toString();
const licenseConds = (datasetId: string): AccessConditionList => licenseHolderCondition({ licenseManager: w.manager, chain: 'hardhat', datasetId });
const workerConds = (datasetId: string): AccessConditionList =>
  attestedWorkerCondition({ attestationRegistry: w.attestations, licenseManager: w.manager, chain: 'hardhat', datasetId });
const licenseGrant = (licenseId: bigint): KeyGrant => ({ type: 'license', licenseId: licenseId.toString() });
const jobGrant = (jobId: bigint): KeyGrant => ({ type: 'job', jobId: jobId.toString() });

async function request(
  who: Wallet,
  wrapped: WrappedKey,
  conditions: AccessConditionList,
  grant: KeyGrant,
  over: { datasetId?: string; version?: number; issuedAt?: number; signer?: Wallet } = {},
): Promise<ReleaseDataKeyParams> {
  const datasetId = over.datasetId ?? A();
  const version = over.version ?? 1;
  const proof = await signKeyRequest(over.signer ?? who, domain, {
    datasetId,
    version,
    grant,
    requesterPublicKey: who.signingKey.publicKey,
    ...(over.issuedAt === undefined ? {} : { issuedAt: over.issuedAt }),
  });
  return { wrapped, datasetId, version, conditions, grant, requester: { address: who.address, publicKey: who.signingKey.publicKey }, proof };
}

describe('EmbeddedKeyGate', () => {
  describe('master key file', () => {
    it('is created with mode 0600 at first start and reused afterwards', async () => {
      const path = join(dir, 'fresh', 'k.key');

      const a = await loadOrCreateMasterKey(path);
      const b = await loadOrCreateMasterKey(path);

      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(a.equals(b)).toBe(true);
      expect(a.length).toBe(32);
    });

    it.each(['640', '604', '644'])('refuses to start when the file has mode %s', async (octal) => {
      const mode = parseInt(octal, 8);
      const path = join(dir, `loose-${octal}.key`);
      await writeFile(path, `${'ab'.repeat(32)}\n`);
      await chmod(path, mode);

      await expect(loadOrCreateMasterKey(path)).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    });

    it('refuses a file that does not hold a 32-byte hex key', async () => {
      const path = join(dir, 'bad.key');
      await writeFile(path, 'not a key', { mode: 0o600 });

      await expect(loadOrCreateMasterKey(path)).rejects.toMatchObject({ code: 'KEY_GATE_MISCONFIGURED' });
    });
  });

  it('releases the data key sealed to a licensed requester, who decrypts the dataset with it', async () => {
    const dataKey = generateDataKey();
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey, conditions });
    const plain = Buffer.from('id,label\n1,cat\n2,dog\n');
    const enc = encryptStream((async function* () { yield plain; })(), { key: dataKey, datasetId: A(), version: 1, chunkSize: 8 });
    const chunks: EncryptedChunk[] = [];
    for await (const c of enc) chunks.push(c);

    const released = await gate.releaseDataKey(await request(w.holder, wrapped, conditions, licenseGrant(w.license)));
    const key = decryptReleasedKey(w.holder.privateKey, released, { datasetId: A(), version: 1 });
    const out = await decryptToBuffer((async function* () { yield Buffer.concat(chunks.map((c) => c.ciphertext)); })(), { key, datasetId: A(), version: 1, params: enc.summary().params, chunks: enc.summary().chunks });

    expect(key.equals(dataKey)).toBe(true);
    expect(out.equals(plain)).toBe(true);
    expect(JSON.stringify(released)).not.toContain(dataKey.toString('hex'));
    expect(JSON.stringify(released)).not.toContain(dataKey.toString('base64'));
  });

  it('releases to an attested worker for a job on a license of the dataset', async () => {
    const dataKey = generateDataKey();
    const conditions = workerConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey, conditions });

    const released = await gate.releaseDataKey(await request(w.worker, wrapped, conditions, jobGrant(w.job)));

    expect(decryptReleasedKey(w.worker.privateKey, released).equals(dataKey)).toBe(true);
  });

  it('seals so that another private key cannot open the release', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });
    const released = await gate.releaseDataKey(await request(w.holder, wrapped, conditions, licenseGrant(w.license)));

    expect(() => decryptReleasedKey(w.other.privateKey, released)).toThrow(expect.objectContaining({ code: 'KEY_UNWRAP_FAILED' }));
  });

  const stranger = new Wallet(hexlify(randomBytes(32)));
  it.each([
    ['without a license (citing a license it does not own)', () => stranger, A, () => w.license, 'KEY_ACCESS_DENIED'],
    // The real views never revert: an unknown license is simply not active.
    ['citing a license id that does not exist', () => stranger, A, () => w.license + 1000n, 'LICENSE_EXPIRED'],
    ['with an expired license', () => w.holder, C, () => w.expiredLicense, 'LICENSE_EXPIRED'],
    ['with a license for another dataset', () => w.other, A, () => w.otherLicense, 'LICENSE_WRONG_DATASET'],
  ] as const)('refuses a request %s and logs the refusal', async (_label, who, dataset, license, code) => {
    const datasetId = dataset();
    const licenseId = license().toString();
    const conditions = licenseConds(datasetId);
    const wrapped = await gate.wrapDataKey({ datasetId, version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(who(), wrapped, conditions, { type: 'license', licenseId }, { datasetId }));

    await expect(p).rejects.toMatchObject({ code });
    expect(warn).toHaveBeenCalledWith('key release refused', expect.objectContaining({ code, datasetId, requester: who().address }));
  });

  it('refuses an unapproved worker key and logs it', async () => {
    const conditions = workerConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(w.worker, wrapped, conditions, jobGrant(w.unapprovedJob)));

    await expect(p).rejects.toMatchObject({ code: 'KEY_ACCESS_DENIED' });
    expect(warn).toHaveBeenCalledWith('key release refused', expect.objectContaining({ code: 'KEY_ACCESS_DENIED', grant: jobGrant(w.unapprovedJob) }));
  });

  it('refuses the still-approved worker of a job the lab ended: JOB_NOT_ACTIVE, and logs it', async () => {
    const conditions = workerConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(w.worker, wrapped, conditions, jobGrant(w.endedJob)));

    await expect(p).rejects.toMatchObject({ code: 'JOB_NOT_ACTIVE' });
    expect(await w.sys.attestations.isApproved(w.endedJob, w.worker.address)).toBe(true);
    expect(warn).toHaveBeenCalledWith('key release refused', expect.objectContaining({ code: 'JOB_NOT_ACTIVE', grant: jobGrant(w.endedJob) }));
  });

  it("refuses the holder's own license when it is for another dataset: LICENSE_WRONG_DATASET", async () => {
    const conditions = licenseConds(C());
    const wrapped = await gate.wrapDataKey({ datasetId: C(), version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(w.holder, wrapped, conditions, licenseGrant(w.license), { datasetId: C() }));

    await expect(p).rejects.toMatchObject({ code: 'LICENSE_WRONG_DATASET' });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('refuses a replayed key request: KEY_REQUEST_REPLAYED', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });
    const req = await request(w.holder, wrapped, conditions, licenseGrant(w.license));

    await gate.releaseDataKey(req);
    const replay = gate.releaseDataKey(req);

    await expect(replay).rejects.toMatchObject({ code: 'KEY_REQUEST_REPLAYED' });
    expect(warn).toHaveBeenCalledWith('key release refused', expect.objectContaining({ code: 'KEY_REQUEST_REPLAYED' }));
  });

  it('refuses a stale request: KEY_REQUEST_EXPIRED', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(w.holder, wrapped, conditions, licenseGrant(w.license), { issuedAt: Math.floor(Date.now() / 1000) - 3600 }));

    await expect(p).rejects.toMatchObject({ code: 'KEY_REQUEST_EXPIRED' });
  });

  it('refuses a request signed by someone else than the requester: KEY_REQUEST_SIGNATURE_INVALID', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });

    const p = gate.releaseDataKey(await request(w.holder, wrapped, conditions, licenseGrant(w.license), { signer: new Wallet(hexlify(randomBytes(32))) }));

    await expect(p).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
  });

  it('refuses a request whose signed fields were changed after signing', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });
    const req = await request(w.holder, wrapped, conditions, licenseGrant(w.license));

    await expect(gate.releaseDataKey({ ...req, version: 2 })).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
  });

  it("signs a job grant's licenseId: changing it after signing is KEY_REQUEST_SIGNATURE_INVALID", async () => {
    const conditions = workerConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });
    const req = await request(w.worker, wrapped, conditions, { type: 'job', jobId: w.job.toString(), licenseId: w.license.toString() });

    const altered = { ...req, grant: { type: 'job' as const, jobId: w.job.toString(), licenseId: (w.license + 1n).toString() } };

    await expect(gate.releaseDataKey(altered)).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
  });

  it('refuses the 64-byte compact (EIP-2098) form of a valid signature, as the API does, and spends no nonce', async () => {
    const conditions = licenseConds(A());
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions });
    const req = await request(w.holder, wrapped, conditions, licenseGrant(w.license));
    const compact = Signature.from(req.proof.signature).compactSerialized;
    expect(compact.length).toBe(2 + 128);

    await expect(gate.releaseDataKey({ ...req, proof: { ...req.proof, signature: compact } })).rejects.toMatchObject({ code: 'KEY_REQUEST_SIGNATURE_INVALID' });
    // The same request with its full signature still goes through: the refusal consumed nothing.
    await expect(gate.releaseDataKey(req)).resolves.toMatchObject({ kind: 'sealed' });
  });

  it('binds the wrapped key to its dataset: presenting it for another dataset fails KEY_UNWRAP_FAILED', async () => {
    // The holder's license covers dataset B too, so every check passes except the unwrap.
    const conditionsB = licenseConds(B());
    const wrappedForA = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions: conditionsB });

    const p = gate.releaseDataKey(await request(w.holder, wrappedForA, conditionsB, licenseGrant(w.license), { datasetId: B() }));

    await expect(p).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
  });

  it('binds the wrapped key to its conditions: weaker conditions are refused (MANIFEST_MISMATCH)', async () => {
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions: licenseConds(A()) });
    const weaker = licenseConds(B());

    const p = gate.releaseDataKey(await request(w.holder, wrapped, weaker, licenseGrant(w.license)));

    await expect(p).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
  });

  it('does not keep the master key in the wrapped output', async () => {
    const master = (await readFile(join(dir, 'keys', 'gate.key'), 'utf8')).trim();
    const wrapped = await gate.wrapDataKey({ datasetId: A(), version: 1, dataKey: generateDataKey(), conditions: licenseConds(A()) });

    expect(JSON.stringify(wrapped)).not.toContain(master);
    expect(wrapped).toMatchObject({ backend: 'embedded', masterKeyId: expect.stringMatching(/^mk_[0-9a-f]{16}$/) });
  });
});
