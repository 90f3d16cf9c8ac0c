import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Decoder, Encoder } from 'cbor-x';
import { Wallet } from 'ethers';
import { AttestationPolicy } from '../../../shared/attestation/types.js';
import { BUILTIN_VERIFIERS } from '../../../shared/attestation/verifiers.js';
import { verifyEvidence } from '../../../shared/attestation/verifyEvidence.js';
import { nsmAttestor } from '../attestor.js';
import { ioctlTransport, runHelper } from './ioctlTransport.js';
import { encodeAttestationRequest, nsmAttest, type NsmTransport } from './nsmClient.js';
import { NsmEmulator } from './nsmEmulator.js';

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: { code?: string }) => e.code);

function policyFor(nsm: NsmEmulator, pin = true) {
  return AttestationPolicy.parse({
    production: false,
    kinds: ['nitro'],
    modes: ['nitro'],
    measurements: { nitro: [{ PCR0: Buffer.from(nsm.pcrs.get(0)!).toString('hex') }] },
    maxAgeSeconds: 300,
    extraRoots: pin ? { nitro: [nsm.rootFingerprint] } : {},
  });
}

const freshInput = () => ({ publicKey: Wallet.createRandom().signingKey.publicKey, nonce: randomBytes(32).toString('hex') });

describe('the nitro-nsm attestor against an emulated NSM', () => {
  it('produces Nitro evidence that the production Nitro verifier accepts with the test root pinned, binding key and nonce', async () => {
    const nsm = new NsmEmulator();
    const input = freshInput();

    const { evidence, measurement } = await nsmAttestor(nsm).attest(input);
    const verified = await verifyEvidence(evidence, { policy: policyFor(nsm), now: new Date(), expectedNonce: input.nonce, expectedPublicKey: input.publicKey, verifiers: BUILTIN_VERIFIERS });

    expect(evidence.kind).toBe('nitro');
    expect(verified.mode).toBe('nitro');
    expect(verified.evidence.rootFingerprint).toBe(nsm.rootFingerprint);
    expect(measurement).toBe(verified.evidence.measurements['PCR0']);
  });

  it('is refused with ATTESTATION_ROOT_UNTRUSTED when the emulator root is not pinned', async () => {
    const nsm = new NsmEmulator();
    const input = freshInput();
    const { evidence } = await nsmAttestor(nsm).attest(input);

    expect(await codeOf(verifyEvidence(evidence, { policy: policyFor(nsm, false), now: new Date(), expectedNonce: input.nonce, expectedPublicKey: input.publicKey, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('is refused with ATTESTATION_KEY_NOT_BOUND for another key than the one it attested', async () => {
    const nsm = new NsmEmulator();
    const input = freshInput();
    const { evidence } = await nsmAttestor(nsm).attest(input);

    expect(await codeOf(verifyEvidence(evidence, { policy: policyFor(nsm), now: new Date(), expectedNonce: input.nonce, expectedPublicKey: Wallet.createRandom().signingKey.publicKey, verifiers: BUILTIN_VERIFIERS }))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });
});

describe('the NSM client', () => {
  it('encodes the Attestation request as serde does: a map of one variant, byte strings untagged, absent fields null', () => {
    const nonce = randomBytes(32);
    const publicKey = randomBytes(65);

    const decoded = decoder.decode(encodeAttestationRequest({ nonce, publicKey })) as Map<string, Map<string, unknown>>;

    expect([...decoded.keys()]).toEqual(['Attestation']);
    const att = decoded.get('Attestation')!;
    expect(att.get('user_data')).toBeNull();
    expect(Buffer.from(att.get('nonce') as Uint8Array).equals(nonce)).toBe(true);
    expect(Buffer.from(att.get('public_key') as Uint8Array).equals(publicKey)).toBe(true);
  });

  it('refuses a nonce over the NSM limit with WORKER_NSM_ERROR before calling the device', async () => {
    let called = false;
    const transport: NsmTransport = { request: async () => ((called = true), new Uint8Array()) };

    expect(await codeOf(nsmAttest(transport, { nonce: randomBytes(513) }))).toBe('WORKER_NSM_ERROR');
    expect(called).toBe(false);
  });

  it('answers WORKER_NSM_ERROR naming the code when the NSM returns an Error variant', async () => {
    const transport: NsmTransport = { request: async () => encoder.encode(new Map([['Error', 'InternalError']])) };

    const err = await nsmAttest(transport, { nonce: randomBytes(32) }).catch((e: { code: string; message: string }) => e);

    expect(err).toMatchObject({ code: 'WORKER_NSM_ERROR' });
    expect((err as { message: string }).message).toContain('InternalError');
  });

  it('refuses with WORKER_NSM_RESPONSE_INVALID a document that binds another nonce than the one asked', async () => {
    const nsm = new NsmEmulator({ tamper: (f) => ({ ...f, nonce: randomBytes(32) }) });

    expect(await codeOf(nsmAttestor(nsm).attest(freshInput()))).toBe('WORKER_NSM_RESPONSE_INVALID');
  });

  it.each([
    ['bytes that are not CBOR', Buffer.from([0xff, 0x00, 0x13])],
    ['another variant', encoder.encode(new Map([['DescribePCR', new Map([['lock', false]])]]))],
    ['an Attestation without a document', encoder.encode(new Map([['Attestation', new Map([['document', null]])]]))],
    ['a document that is not COSE_Sign1', encoder.encode(new Map([['Attestation', new Map([['document', Buffer.from('not a document')]])]]))],
  ])('refuses with WORKER_NSM_RESPONSE_INVALID %s', async (_what, response) => {
    expect(await codeOf(nsmAttest({ request: async () => response }, { nonce: randomBytes(32) }))).toBe('WORKER_NSM_RESPONSE_INVALID');
  });
});

describe('the ioctl helper', () => {
  it('computes NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw) = 0xC0200A00 over two 16-byte iovecs', async () => {
    const r = await runHelper(['--describe'], new Uint8Array());

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toEqual({ ioctl: 0xc0200a00, structSize: 32, requestMax: 0x1000, responseMax: 0x3000 });
  });

  it('answers WORKER_NSM_UNAVAILABLE where there is no NSM device', async () => {
    expect(await codeOf(ioctlTransport({ device: '/dev/nsm-absent-here' }).request(encodeAttestationRequest({ nonce: randomBytes(32) })))).toBe('WORKER_NSM_UNAVAILABLE');
  });
});
