import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EncryptCommand } from '@aws-sdk/client-kms';
import { Wallet } from 'ethers';
import { DevAttestor, devPcrs } from '../../../shared/attestation/devAttestor.js';
import { FakeKms } from '../../../test/support/aws/fakeKms.js';
import { devAttestor } from '../attestor.js';
import { BOOT_ORIGIN, fetchEnclaveBoot, mergeBootEnv, OPERATOR_KEY_CONTEXT, provisionOperatorKey } from './boot.js';
import { withBootService } from './bootService.js';
import { loadParentConfig } from './config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provena-boot-'));
const root = DevAttestor.open(dir, { now: new Date() });
const pcr0 = (devPcrs().get(0) as Buffer).toString('hex');
const operator = Wallet.createRandom();
const noNetwork: typeof fetch = async (input) => {
  throw new Error(`no network in this test: ${String(input instanceof Request ? input.url : input)}`);
};

let kms: FakeKms;
beforeAll(async () => {
  kms = await FakeKms.start({ trustedRoots: [root.rootFingerprint] });
});
afterAll(() => kms.close());

async function seal(keyId: string, plaintext: Buffer): Promise<Buffer> {
  const out = await kms.client().send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { ...OPERATOR_KEY_CONTEXT } }));
  return Buffer.from(out.CiphertextBlob as Uint8Array);
}

/** The parent's boot service, recording every body it receives and answers. */
function parent(sealed: { ciphertext: Buffer; keyId: string } | undefined, env: Record<string, string> = {}) {
  const seen: string[] = [];
  const service = withBootService(
    { env, ...(sealed ? { sealedOperatorKey: { ...sealed, kms: kms.client() } } : {}), log: (m, f) => seen.push(`${m} ${JSON.stringify(f ?? {})}`) },
    noNetwork,
  );
  const f: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    seen.push(await req.clone().text());
    const res = await service(req);
    seen.push(await res.clone().text());
    return res;
  };
  return { fetch: f, seen };
}

describe('the enclave boot: settings and the operator key released by KMS to the attested enclave', () => {
  test('the sealed operator key reaches the enclave, and nothing the parent handled contains it', async () => {
    const keyId = kms.createSymmetricKey({ approvedImageSha384: pcr0 });
    const p = parent({ ciphertext: await seal(keyId, Buffer.from(operator.privateKey.slice(2), 'hex')), keyId });
    const key = await provisionOperatorKey({ fetch: p.fetch, attestor: devAttestor(dir) });
    expect(new Wallet(key).address).toBe(operator.address);
    const decrypts = kms.calls.filter((c) => c.operation === 'Decrypt');
    expect(decrypts.at(-1)?.body).toHaveProperty('Recipient.KeyEncryptionAlgorithm', 'RSAES_OAEP_SHA_256');
    const everything = p.seen.join('\n').toLowerCase();
    expect(everything).toContain('ciphertextforrecipient');
    expect(everything).not.toContain(operator.privateKey.slice(2).toLowerCase());
  });

  test('a key sealed as the text 0x… is accepted too', async () => {
    const keyId = kms.createSymmetricKey({ approvedImageSha384: pcr0 });
    const p = parent({ ciphertext: await seal(keyId, Buffer.from(operator.privateKey)), keyId });
    expect(await provisionOperatorKey({ fetch: p.fetch, attestor: devAttestor(dir) })).toBe(operator.privateKey);
  });

  test('KMS refuses an enclave whose image the key policy does not approve: WORKER_OPERATOR_KEY_UNAVAILABLE', async () => {
    const keyId = kms.createSymmetricKey({ approvedImageSha384: 'ab'.repeat(48) });
    const p = parent({ ciphertext: await seal(keyId, Buffer.from(operator.privateKey.slice(2), 'hex')), keyId });
    await expect(provisionOperatorKey({ fetch: p.fetch, attestor: devAttestor(dir) })).rejects.toMatchObject({ code: 'WORKER_OPERATOR_KEY_UNAVAILABLE', message: expect.stringContaining('AccessDeniedException') });
  });

  test('a parent with no sealed key says so, and the enclave gets no key', async () => {
    const p = parent(undefined);
    expect(await fetchEnclaveBoot(p.fetch)).toEqual({ env: {}, operatorKey: 'none' });
    await expect(provisionOperatorKey({ fetch: p.fetch, attestor: devAttestor(dir) })).rejects.toMatchObject({ code: 'WORKER_OPERATOR_KEY_UNAVAILABLE' });
  });

  test('the parent serves only the allowlisted settings, and the image\'s own settings win', async () => {
    const p = parent(undefined, { PROVENA_API_URL: 'https://api.example', PROVENA_WORKER_ID: 'w-1', AWS_SECRET_ACCESS_KEY: 'not-for-the-enclave', PROVENA_WORKER_OPERATOR_KEY: operator.privateKey });
    const boot = await fetchEnclaveBoot(p.fetch);
    expect(boot.env).toEqual({ PROVENA_API_URL: 'https://api.example', PROVENA_WORKER_ID: 'w-1' });
    expect(mergeBootEnv(boot, { PROVENA_API_URL: 'https://pinned.example', PROVENA_WORKER_ATTESTOR: 'nitro-nsm' })).toMatchObject({ PROVENA_API_URL: 'https://pinned.example', PROVENA_WORKER_ID: 'w-1', PROVENA_WORKER_ATTESTOR: 'nitro-nsm' });
  });

  test('the enclave refuses boot settings naming a variable outside the allowlist: WORKER_BOOT_INVALID', async () => {
    const evil: typeof fetch = async () => new Response(JSON.stringify({ env: { PROVENA_WORKER_OPERATOR_KEY: operator.privateKey }, operatorKey: 'none' }), { status: 200 });
    await expect(fetchEnclaveBoot(evil)).rejects.toMatchObject({ code: 'WORKER_BOOT_INVALID' });
  });

  test('requests to other origins go to the network unchanged', async () => {
    const seen: string[] = [];
    const f = withBootService({ env: {}, log: () => {} }, async (input) => {
      seen.push((input as Request).url);
      return new Response('ok');
    });
    expect(await (await f('https://api.example/v1/health')).text()).toBe('ok');
    expect(await (await f(`${BOOT_ORIGIN}/v1/elsewhere`)).status).toBe(404);
    expect(seen).toEqual(['https://api.example/v1/health']);
  });

  test('the parent refuses to start with the operator key in its environment: CONFIG_INVALID', () => {
    expect(() => loadParentConfig({ PROVENA_NITRO_SOCKET: '/tmp/p.sock', PROVENA_WORKER_OPERATOR_KEY: operator.privateKey })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(loadParentConfig({ PROVENA_NITRO_SOCKET: '/tmp/p.sock', PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT: 'AAAAAAAAAAAA' }).PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT).toBe('AAAAAAAAAAAA');
  });
});
