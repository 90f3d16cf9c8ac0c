import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { encryptArtifact, sha256Hex } from './artifact.js';
import { sealToPublicKey } from './ecies.js';
import { decryptArtifactWeb, openSealedBoxWeb, sha256HexWeb } from './webArtifact.js';

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);

describe('the browser opener of delivered models (WebCrypto), against the Node sealer and encryptor', () => {
  const lab = Wallet.createRandom();
  const context = 'provena-model:7';

  it("opens a box Node sealed to the lab's public key, giving back the same bytes", async () => {
    const secret = randomBytes(32);
    const box = sealToPublicKey(lab.signingKey.compressedPublicKey, secret, context);
    expect(Buffer.from(await openSealedBoxWeb(lab.privateKey, box))).toEqual(secret);
  });

  it('refuses a box with another key, or with its context changed, as KEY_UNWRAP_FAILED', async () => {
    const box = sealToPublicKey(lab.signingKey.publicKey, randomBytes(32), context);
    expect(await codeOf(openSealedBoxWeb(Wallet.createRandom().privateKey, box))).toBe('KEY_UNWRAP_FAILED');
    expect(await codeOf(openSealedBoxWeb(lab.privateKey, { ...box, context: 'provena-model:8' }))).toBe('KEY_UNWRAP_FAILED');
  });

  it('decrypts a multi-chunk model Node encrypted, to the same plaintext and hash', async () => {
    const plain = randomBytes(2 * 1024 * 1024 + 123); // three chunks of 1 MiB, the last partial
    const key = randomBytes(32);
    const object = await encryptArtifact(plain, key, { kind: 'model', jobId: '7' });
    const opened = await decryptArtifactWeb(object, key, { kind: 'model', jobId: '7' });
    expect(await sha256HexWeb(opened)).toBe(sha256Hex(plain));
    expect(opened.length).toBe(plain.length);
  });

  it("refuses another job's model, a wrong key and a flipped byte, each with its code", async () => {
    const key = randomBytes(32);
    const object = await encryptArtifact(randomBytes(5000), key, { kind: 'model', jobId: '7' });
    expect(await codeOf(decryptArtifactWeb(object, key, { kind: 'model', jobId: '8' }))).toBe('MANIFEST_MISMATCH');
    expect(await codeOf(decryptArtifactWeb(object, randomBytes(32), { kind: 'model', jobId: '7' }))).toBe('DATA_KEY_MISMATCH');
    const flipped = Buffer.from(object);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(await codeOf(decryptArtifactWeb(flipped, key, { kind: 'model', jobId: '7' }))).toBe('CHUNK_DIGEST_MISMATCH');
  });
});
