import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decryptArtifact, encryptArtifact } from './artifact.js';
import { ARTIFACT_MAGIC, artifactHead, parseArtifact } from './artifactLayout.js';
import { decryptArtifactWeb } from './webArtifact.js';

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);
const meta = { kind: 'model' as const, jobId: '7' };

describe('the artifact layout shared by the Node and browser decryptors', () => {
  it('splits what encryptArtifact wrote into its header and exactly the chunk bytes', async () => {
    const key = randomBytes(32);
    const object = await encryptArtifact(randomBytes(3000), key, meta);

    const { header, body } = parseArtifact(object, meta);

    expect(header.kind).toBe('model');
    expect(body.length).toBe(header.chunks.reduce((s, c) => s + c.ciphertextSize, 0));
    expect(Buffer.from(artifactHead(new TextEncoder().encode('{}')))).toEqual(Buffer.concat([Buffer.from('PVA1'), Buffer.from([0, 0, 0, 2]), Buffer.from('{}')]));
  });

  it('makes both decryptors refuse a wrong magic, a header longer than the object, a header that is not JSON and an appended byte with MANIFEST_MISMATCH', async () => {
    const key = randomBytes(32);
    const object = await encryptArtifact(randomBytes(100), key, meta);
    const magic = Buffer.from(object);
    magic[0] = ARTIFACT_MAGIC[0]! ^ 1;
    const long = Buffer.from(object);
    long.writeUInt32BE(object.length, 4);
    const notJson = Buffer.concat([artifactHead(new TextEncoder().encode('{kind')), object.subarray(8 + object.readUInt32BE(4))]);
    const appended = Buffer.concat([object, Buffer.from([0])]);

    for (const bad of [magic, long, notJson, appended]) {
      expect(await codeOf(decryptArtifact(bad, key, meta))).toBe('MANIFEST_MISMATCH');
      expect(await codeOf(decryptArtifactWeb(bad, key, meta))).toBe('MANIFEST_MISMATCH');
    }
  });
});
