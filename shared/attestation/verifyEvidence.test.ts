import { describe, it, expect, beforeAll } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { codeOf } from '../../test/support/errors.js';
import type { AttestationNonces, IssuedAttestationNonce } from '../ports/AttestationNonces.js';
import { DEV_ROOT_FILES, DevAttestor, devAttestationPolicy } from './devAttestor.js';
import { bindingDigest } from './policy.js';
import { nitroFixture, snpFixture, syntheticSnp } from '../../test/support/attestation/testkit.js';
import { AttestationPolicy, type EvidenceBundle } from './types.js';
import { verifyEvidence, type VerifyEvidenceParameters } from './verifyEvidence.js';
import { BUILTIN_VERIFIERS } from './verifiers.js';

/** An in-memory AttestationNonces with the port's semantics (single use, expiry), for these tests only. */
class MemoryNonces implements AttestationNonces {
  readonly items = new Map<string, IssuedAttestationNonce & { consumed: boolean }>();
  async issue(jobId: string, opts: { now: Date; ttlSeconds: number }): Promise<IssuedAttestationNonce> {
    const n = { nonce: randomBytes(32).toString('hex'), jobId, expiresAt: Math.floor(opts.now.getTime() / 1000) + opts.ttlSeconds };
    this.items.set(n.nonce, { ...n, consumed: false });
    return n;
  }
  async consume(nonce: string, now: Date): Promise<{ jobId: string } | null> {
    const it = this.items.get(nonce);
    if (it === undefined || it.consumed || it.expiresAt <= now.getTime() / 1000) return null;
    it.consumed = true;
    return { jobId: it.jobId };
  }
}

const nitroBundle = (doc: Buffer = nitroFixture.document()): EvidenceBundle => ({ kind: 'nitro', documents: { document: doc.toString('base64') } });
const snpBundle = (): EvidenceBundle => ({
  kind: 'sev-snp',
  documents: { report: snpFixture.report().toString('base64'), vcek: snpFixture.vcek().toString('base64'), chain: snpFixture.chainPem().toString('base64') },
});

/** The production policy a deployment would run with (measurements of some real image). */
const production = AttestationPolicy.parse({
  production: true,
  kinds: ['nitro', 'sev-snp', 'tdx', 'nvidia-gpu'],
  modes: ['nitro', 'confidential-gpu'],
  maxAgeSeconds: 300,
  measurements: { nitro: [{ PCR0: 'ab'.repeat(48) }], 'sev-snp': [{ MEASUREMENT: 'cd'.repeat(48) }], tdx: [{ MRTD: 'ef'.repeat(48) }] },
});

/** A non-production policy under which the real (debug) Nitro fixture passes every rule, to test each rule alone. */
function lenientNitro(over: Partial<AttestationPolicy> = {}): AttestationPolicy {
  return AttestationPolicy.parse({ production: false, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 300, ...over });
}

const atFixture = (over: Partial<VerifyEvidenceParameters> = {}): VerifyEvidenceParameters => ({
  policy: lenientNitro(),
  now: nitroFixture.at,
  expectedNonce: nitroFixture.nonce,
  expectedPublicKey: nitroFixture.publicKey,
  verifiers: BUILTIN_VERIFIERS,
  ...over,
});

describe('verifyEvidence: the real Nitro fixture under a policy', () => {
  it('is refused by the production policy with ATTESTATION_DEBUG_REFUSED (PCR0 all zeros)', async () => {
    const err = await verifyEvidence(nitroBundle(), atFixture({ policy: production })).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'ATTESTATION_DEBUG_REFUSED', status: 403 });
    expect((err as Error).message).toMatch(/debug mode \(PCR0 is all zeros\)/);
  });

  it('passes a non-production policy when nonce and key are the ones it binds, with an evidence hash', async () => {
    const r = await verifyEvidence(nitroBundle(), atFixture());

    expect(r.mode).toBe('nitro');
    expect(r.evidence.kind).toBe('nitro');
    expect(r.evidenceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.evidenceHash).toBe((await verifyEvidence({ documents: nitroBundle().documents, kind: 'nitro' }, atFixture())).evidenceHash);
  });

  it('passes when the measurements are on the allow-list', async () => {
    const fixture = await verifyEvidence(nitroBundle(), atFixture());
    const allowed = { PCR0: fixture.evidence.measurements['PCR0']!, PCR3: fixture.evidence.measurements['PCR3']! };

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy: lenientNitro({ measurements: { nitro: [{ PCR3: 'aa'.repeat(48) }, allowed] } }) })))).toBe('OK');
  });

  it('is refused with ATTESTATION_MEASUREMENT_UNEXPECTED when no allowed set matches', async () => {
    const policy = lenientNitro({ measurements: { nitro: [{ PCR3: 'aa'.repeat(48) }] } });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy })))).toBe('ATTESTATION_MEASUREMENT_UNEXPECTED');
  });

  it('is refused with ATTESTATION_STALE once older than maxAgeSeconds (certificates still valid)', async () => {
    const now = new Date(nitroFixture.at.getTime() + 301_000);

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ now })))).toBe('ATTESTATION_STALE');
  });

  it('is refused with ATTESTATION_NONCE_MISMATCH for another nonce', async () => {
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ expectedNonce: '00'.repeat(19) + '02' })))).toBe('ATTESTATION_NONCE_MISMATCH');
  });

  it('is refused with ATTESTATION_KEY_NOT_BOUND for another worker key', async () => {
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ expectedPublicKey: Buffer.from('other').toString('hex') })))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('is refused with ATTESTATION_KIND_REFUSED when the policy does not accept Nitro evidence', async () => {
    const policy = AttestationPolicy.parse({ production: false, kinds: ['sev-snp'], modes: ['confidential-gpu'], maxAgeSeconds: 300 });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy })))).toBe('ATTESTATION_KIND_REFUSED');
  });

  it('is refused with ATTESTATION_MODE_REFUSED when the policy allows only confidential-GPU mode', async () => {
    const policy = lenientNitro({ modes: ['confidential-gpu'] });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy })))).toBe('ATTESTATION_MODE_REFUSED');
  });

  it('is refused with ATTESTATION_CERT_EXPIRED through the entry point too', async () => {
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ now: new Date('2025-01-01T00:00:00Z') })))).toBe('ATTESTATION_CERT_EXPIRED');
  });

  it.each([
    ['an unknown kind', { kind: 'sgx', documents: { document: 'AAAA' } }],
    ['a document that is not base64', { kind: 'nitro', documents: { document: 'not base64!' } }],
    ['an extra field', { kind: 'nitro', documents: { document: 'AAAA' }, extra: 1 }],
    ['no documents', { kind: 'nitro' }],
  ])('is refused with ATTESTATION_MALFORMED for a bundle with %s', async (_what, bundle) => {
    expect(await codeOf(verifyEvidence(bundle, atFixture()))).toBe('ATTESTATION_MALFORMED');
  });

  it('is refused with ATTESTATION_VERIFIER_MISSING when no verifier is configured for the kind', async () => {
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ verifiers: {} })))).toBe('ATTESTATION_VERIFIER_MISSING');
  });
});

describe("verifyEvidence: every policy of a job's datasets", () => {
  it('is refused when one of the policies refuses, though the other accepts', async () => {
    const policy = [lenientNitro(), lenientNitro({ measurements: { nitro: [{ PCR3: 'aa'.repeat(48) }] } })];

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy })))).toBe('ATTESTATION_MEASUREMENT_UNEXPECTED');
  });

  it('passes when every policy accepts, consuming the nonce once', async () => {
    const store = new MemoryNonces();
    store.items.set(nitroFixture.nonce, { nonce: nitroFixture.nonce, jobId: 'job-1', expiresAt: nitroFixture.at.getTime() / 1000 + 60, consumed: false });

    const r = await verifyEvidence(nitroBundle(), atFixture({ policy: [lenientNitro(), lenientNitro({ maxAgeSeconds: 60 })], nonces: { store, jobId: 'job-1' } }));

    expect(r.mode).toBe('nitro');
    expect(store.items.get(nitroFixture.nonce)?.consumed).toBe(true);
  });

  it('is refused with ATTESTATION_KIND_REFUSED for an empty list of policies', async () => {
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy: [] })))).toBe('ATTESTATION_KIND_REFUSED');
  });
});

describe('verifyEvidence: single-use nonces', () => {
  it('consumes the nonce once: a replay of the same evidence is refused with ATTESTATION_NONCE_REUSED', async () => {
    const store = new MemoryNonces();
    store.items.set(nitroFixture.nonce, { nonce: nitroFixture.nonce, jobId: 'job-1', expiresAt: nitroFixture.at.getTime() / 1000 + 60, consumed: false });
    const p = atFixture({ nonces: { store, jobId: 'job-1' } });

    expect(await codeOf(verifyEvidence(nitroBundle(), p))).toBe('OK');
    expect(await codeOf(verifyEvidence(nitroBundle(), p))).toBe('ATTESTATION_NONCE_REUSED');
    expect(store.items.get(nitroFixture.nonce)?.consumed).toBe(true);
  });

  it('does not consume the nonce when the evidence is refused', async () => {
    const store = new MemoryNonces();
    store.items.set(nitroFixture.nonce, { nonce: nitroFixture.nonce, jobId: 'job-1', expiresAt: nitroFixture.at.getTime() / 1000 + 60, consumed: false });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ policy: production, nonces: { store, jobId: 'job-1' } })))).toBe('ATTESTATION_DEBUG_REFUSED');
    expect(store.items.get(nitroFixture.nonce)?.consumed).toBe(false);
  });

  it('is refused with ATTESTATION_NONCE_REUSED for a nonce never issued or expired', async () => {
    const store = new MemoryNonces();
    store.items.set(nitroFixture.nonce, { nonce: nitroFixture.nonce, jobId: 'job-1', expiresAt: nitroFixture.at.getTime() / 1000 - 1, consumed: false });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ nonces: { store, jobId: 'job-1' } })))).toBe('ATTESTATION_NONCE_REUSED');
    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ nonces: { store: new MemoryNonces(), jobId: 'job-1' } })))).toBe('ATTESTATION_NONCE_REUSED');
  });

  it('is refused with ATTESTATION_NONCE_MISMATCH for a nonce issued for another job', async () => {
    const store = new MemoryNonces();
    store.items.set(nitroFixture.nonce, { nonce: nitroFixture.nonce, jobId: 'job-2', expiresAt: nitroFixture.at.getTime() / 1000 + 60, consumed: false });

    expect(await codeOf(verifyEvidence(nitroBundle(), atFixture({ nonces: { store, jobId: 'job-1' } })))).toBe('ATTESTATION_NONCE_MISMATCH');
  });
});

describe('verifyEvidence: the real SEV-SNP fixture under a policy', () => {
  const snpAt = (policy: AttestationPolicy): VerifyEvidenceParameters => ({ policy, now: snpFixture.at, expectedNonce: 'aa'.repeat(32), expectedPublicKey: '04' + 'bb'.repeat(64), verifiers: BUILTIN_VERIFIERS });

  it('is refused by the production policy with ATTESTATION_DEBUG_REFUSED (guest policy allows debug)', async () => {
    const err = await verifyEvidence(snpBundle(), snpAt(production)).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'ATTESTATION_DEBUG_REFUSED' });
    expect((err as Error).message).toMatch(/guest policy allows debugging/);
  });

  it('is refused with ATTESTATION_KEY_NOT_BOUND when REPORT_DATA is not SHA-512(key ‖ nonce)', async () => {
    const policy = AttestationPolicy.parse({ production: false, kinds: ['sev-snp'], modes: ['confidential-gpu'], maxAgeSeconds: 300 });

    expect(await codeOf(verifyEvidence(snpBundle(), snpAt(policy)))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('is refused with ATTESTATION_MODE_REFUSED without a GPU report, once everything else holds', async () => {
    const policy = AttestationPolicy.parse({ production: false, kinds: ['sev-snp'], modes: ['confidential-gpu'], maxAgeSeconds: 300 });
    // a verifier that vouches for binding lets the mode rule be reached on the real report
    const bound: VerifyEvidenceParameters['verifiers'] = {
      'sev-snp': async (docs, ctx) => ({ ...(await BUILTIN_VERIFIERS['sev-snp']!(docs, ctx)), bindings: { reportData: bindingDigest('04' + 'bb'.repeat(64), 'aa'.repeat(32)).toString('hex') } }),
    };

    expect(await codeOf(verifyEvidence(snpBundle(), { ...snpAt(policy), verifiers: bound }))).toBe('ATTESTATION_MODE_REFUSED');
  });
});

describe('verifyEvidence: confidential-GPU mode (generated SNP chain, stand-in GPU verifier)', () => {
  const key = '04' + 'bb'.repeat(64);
  const nonce = 'aa'.repeat(32);
  const digest = bindingDigest(key, nonce);
  // The NVIDIA verifier is another module's; this stand-in returns what a verified GPU report normalizes to.
  const gpuSaying = (gpuNonce: string): VerifyEvidenceParameters['verifiers'] => ({
    ...BUILTIN_VERIFIERS,
    'nvidia-gpu': () => ({ kind: 'nvidia-gpu', measurements: {}, debug: false, bindings: { nonce: gpuNonce }, rootFingerprint: '00'.repeat(32) }),
  });
  const setup = () => {
    const s = syntheticSnp({ reportData: digest });
    const bundle: EvidenceBundle = {
      kind: 'sev-snp',
      documents: {
        report: s.input.report.toString('base64'),
        vcek: s.input.vcek.toString('base64'),
        chain: Buffer.from(s.input.chain.map((d) => `-----BEGIN CERTIFICATE-----\n${d.toString('base64')}\n-----END CERTIFICATE-----\n`).join('')).toString('base64'),
      },
      gpu: { kind: 'nvidia-gpu', documents: { report: 'AAAA' } },
    };
    const policy = AttestationPolicy.parse({ production: false, kinds: ['sev-snp', 'nvidia-gpu'], modes: ['confidential-gpu'], maxAgeSeconds: 300, extraRoots: { 'sev-snp': [s.root] } });
    return { bundle, policy };
  };

  it('accepts a CPU report and a GPU report bound to the same key and nonce', async () => {
    const { bundle, policy } = setup();

    const r = await verifyEvidence(bundle, { policy, now: snpFixture.at, expectedNonce: nonce, expectedPublicKey: key, verifiers: gpuSaying(digest.subarray(0, 32).toString('hex')) });

    expect(r.mode).toBe('confidential-gpu');
    expect(r.evidence.bindings.reportData).toBe(digest.toString('hex'));
    expect(r.gpu?.kind).toBe('nvidia-gpu');
  });

  it('is refused with ATTESTATION_KEY_NOT_BOUND when the GPU report carries another nonce', async () => {
    const { bundle, policy } = setup();

    expect(await codeOf(verifyEvidence(bundle, { policy, now: snpFixture.at, expectedNonce: nonce, expectedPublicKey: key, verifiers: gpuSaying('cc'.repeat(32)) }))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('is refused with ATTESTATION_KIND_REFUSED when the policy does not accept GPU reports', async () => {
    const { bundle } = setup();
    const policy = AttestationPolicy.parse({ production: false, kinds: ['sev-snp'], modes: ['confidential-gpu'], maxAgeSeconds: 300 });

    expect(await codeOf(verifyEvidence(bundle, { policy, now: snpFixture.at, expectedNonce: nonce, expectedPublicKey: key, verifiers: gpuSaying('') }))).toBe('ATTESTATION_KIND_REFUSED');
  });
});

describe('AttestationPolicy', () => {
  it('refuses a production policy that accepts dev evidence or extra roots', () => {
    expect(AttestationPolicy.safeParse({ production: true, kinds: ['dev'], modes: ['nitro'], maxAgeSeconds: 60 }).success).toBe(false);
    expect(
      AttestationPolicy.safeParse({ production: true, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 60, measurements: { nitro: [{ PCR0: 'ab' }] }, extraRoots: { nitro: ['00'.repeat(32)] } }).success,
    ).toBe(false);
  });

  it('refuses a production policy without an allow-list for a CPU TEE kind it accepts', () => {
    expect(AttestationPolicy.safeParse({ production: true, kinds: ['nitro'], modes: ['nitro'], maxAgeSeconds: 60 }).success).toBe(false);
  });
});

describe('Development attestor', () => {
  let dir: string;
  let attestor: DevAttestor;
  const now = new Date();
  const workerKey = '04' + randomBytes(64).toString('hex');
  const nonce = randomBytes(32).toString('hex');
  const devAt = (over: Partial<VerifyEvidenceParameters> = {}): VerifyEvidenceParameters => ({
    policy: devAttestationPolicy(attestor.rootFingerprint),
    now,
    expectedNonce: nonce,
    expectedPublicKey: workerKey,
    verifiers: BUILTIN_VERIFIERS,
    ...over,
  });

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'provena-attest-'));
    attestor = DevAttestor.open(dir, { now });
  });

  it('round-trips: the development policy accepts its document, bound to the worker key and nonce', async () => {
    const r = await verifyEvidence(attestor.bundle({ nonce, publicKey: workerKey, now }), devAt());

    expect(r.evidence.kind).toBe('dev');
    expect(r.evidence.debug).toBe(false);
    expect(r.evidence.rootFingerprint).toBe(attestor.rootFingerprint);
    expect(r.evidence.bindings).toMatchObject({ nonce, publicKey: workerKey.toLowerCase() });
  });

  it('binds the key through user_data = SHA-512(key ‖ nonce) as well', async () => {
    const bundle = attestor.bundle({ nonce, userData: bindingDigest(workerKey, nonce).toString('hex'), now });

    expect(await codeOf(verifyEvidence(bundle, devAt()))).toBe('OK');
  });

  it('writes untagged documents that verify too', async () => {
    const doc = attestor.attest({ nonce, publicKey: workerKey, now }, { tagged: false });

    expect(doc[0]).toBe(0x84);
    expect(await codeOf(verifyEvidence({ kind: 'dev', documents: { document: doc.toString('base64') } }, devAt()))).toBe('OK');
  });

  it('is refused by the production policy with ATTESTATION_DEV_ROOT_REFUSED', async () => {
    expect(await codeOf(verifyEvidence(attestor.bundle({ nonce, publicKey: workerKey, now }), devAt({ policy: production })))).toBe('ATTESTATION_DEV_ROOT_REFUSED');
  });

  it('is refused by the production policy with ATTESTATION_DEV_ROOT_REFUSED when passed off as nitro evidence', async () => {
    const doc = attestor.attest({ nonce, publicKey: workerKey, now });

    expect(await codeOf(verifyEvidence({ kind: 'nitro', documents: { document: doc.toString('base64') } }, devAt({ policy: production })))).toBe('ATTESTATION_DEV_ROOT_REFUSED');
  });

  it('is refused with ATTESTATION_KEY_NOT_BOUND for another worker key, and ATTESTATION_NONCE_MISMATCH for another nonce', async () => {
    const bundle = attestor.bundle({ nonce, publicKey: workerKey, now });

    expect(await codeOf(verifyEvidence(bundle, devAt({ expectedPublicKey: '04' + randomBytes(64).toString('hex') })))).toBe('ATTESTATION_KEY_NOT_BOUND');
    expect(await codeOf(verifyEvidence(bundle, devAt({ expectedNonce: randomBytes(32).toString('hex') })))).toBe('ATTESTATION_NONCE_MISMATCH');
  });

  it("is refused when signed by another machine's development root", async () => {
    const other = DevAttestor.open(mkdtempSync(path.join(tmpdir(), 'provena-attest-')), { now });

    expect(await codeOf(verifyEvidence(other.bundle({ nonce, publicKey: workerKey, now }), devAt()))).toBe('ATTESTATION_DEV_ROOT_REFUSED');
  });

  it('keeps its root across restarts, with the key readable by its owner only', () => {
    const again = DevAttestor.open(dir, { now });

    expect(again.rootFingerprint).toBe(attestor.rootFingerprint);
    expect(statSync(path.join(dir, DEV_ROOT_FILES.key)).mode & 0o777).toBe(0o600);
    expect(createHash('sha256').update(again.rootCertificate).digest('hex')).toBe(attestor.rootFingerprint);
  });

  it('refuses to start with a root key that group or others can read (CONFIG_INVALID)', () => {
    const loose = mkdtempSync(path.join(tmpdir(), 'provena-attest-'));
    DevAttestor.open(loose, { now });
    chmodSync(path.join(loose, DEV_ROOT_FILES.key), 0o644);

    expect(() => DevAttestor.open(loose, { now })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
