import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decryptArtifact, deriveCheckpointKey, encryptArtifact } from './artifact.js';

const key = randomBytes(32);
const plain = randomBytes(2.5 * 1024 * 1024);
const meta = { kind: 'checkpoint' as const, jobId: '42' };

describe('encrypted job artifacts', () => {
  it('round-trips a multi-chunk checkpoint', async () => {
    const obj = await encryptArtifact(plain, key, meta);

    expect(obj.length).toBeGreaterThan(plain.length);
    expect((await decryptArtifact(obj, key, meta)).equals(plain)).toBe(true);
  });

  it('refuses a flipped byte, a cut body, another job, another kind and a wrong key', async () => {
    const obj = await encryptArtifact(plain, key, meta);
    const flipped = Buffer.from(obj);
    flipped[flipped.length - 100]! ^= 1;

    await expect(decryptArtifact(flipped, key, meta)).rejects.toMatchObject({ code: expect.stringMatching(/^CHUNK_/) });
    await expect(decryptArtifact(obj.subarray(0, obj.length - 1), key, meta)).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
    await expect(decryptArtifact(obj, key, { ...meta, jobId: '43' })).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
    await expect(decryptArtifact(obj, key, { ...meta, kind: 'model' })).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
    await expect(decryptArtifact(obj, randomBytes(32), meta)).rejects.toMatchObject({ code: 'DATA_KEY_MISMATCH' });
  });

  it('derives the same checkpoint key from the same data keys in any order, and another one for another job or key', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);

    const k1 = deriveCheckpointKey('7', new Map([['ds_a', a], ['ds_b', b]]));
    const k2 = deriveCheckpointKey('7', new Map([['ds_b', b], ['ds_a', a]]));

    expect(k1.equals(k2)).toBe(true);
    expect(k1.equals(deriveCheckpointKey('8', new Map([['ds_a', a], ['ds_b', b]])))).toBe(false);
    expect(k1.equals(deriveCheckpointKey('7', new Map([['ds_a', a], ['ds_b', randomBytes(32)]])))).toBe(false);
  });
});
