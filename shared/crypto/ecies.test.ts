import { describe, it, expect } from '@jest/globals';
import { Wallet, hexlify, randomBytes } from 'ethers';
import { openSealedBox, sealToPublicKey } from './ecies.js';

const newWallet = (): Wallet => new Wallet(hexlify(randomBytes(32)));

describe('ECIES over secp256k1', () => {
  it('round-trips to the holder of the private key (uncompressed and compressed public keys)', () => {
    const w = newWallet();
    const secret = Buffer.from(randomBytes(32));

    const a = sealToPublicKey(w.signingKey.publicKey, secret, 'ctx');
    const b = sealToPublicKey(w.signingKey.compressedPublicKey, secret, 'ctx');

    expect(openSealedBox(w.privateKey, a).equals(secret)).toBe(true);
    expect(openSealedBox(w.privateKey, b).equals(secret)).toBe(true);
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
  });

  it('fails with KEY_UNWRAP_FAILED for another private key', () => {
    const box = sealToPublicKey(newWallet().signingKey.publicKey, randomBytes(32), 'ctx');

    expect(() => openSealedBox(newWallet().privateKey, box)).toThrow(expect.objectContaining({ code: 'KEY_UNWRAP_FAILED' }));
  });

  it('fails when the bound context is changed', () => {
    const w = newWallet();
    const box = sealToPublicKey(w.signingKey.publicKey, randomBytes(32), '{"datasetId":"a"}');

    expect(() => openSealedBox(w.privateKey, { ...box, context: '{"datasetId":"b"}' })).toThrow(expect.objectContaining({ code: 'KEY_UNWRAP_FAILED' }));
  });

  it('rejects a public key that is not on the curve', () => {
    expect(() => sealToPublicKey('0x02' + '00'.repeat(32), randomBytes(32), 'ctx')).toThrow(expect.objectContaining({ code: 'KEY_UNWRAP_FAILED' }));
  });
});
