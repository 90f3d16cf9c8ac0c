import { describe, expect, it, beforeEach } from '@jest/globals';
import fc from 'fast-check';
import { Signature, SigningKey, Wallet, computeAddress, hexlify } from 'ethers';
import { clearKnownKeys, recoverStrict, recoverStrictFor } from './signatures.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');

/** The same signature with the recovery id flipped (27 <-> 28): it recovers another key. */
function flipV(sig: string): string {
  const v = Number.parseInt(sig.slice(130, 132), 16);
  return `${sig.slice(0, 130)}${(v === 27 ? 28 : 27).toString(16)}`;
}

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => {
  const k = BigInt(hexlify(b));
  return k > 0n && k < N;
});
const digestArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));

describe('recoverStrictFor', () => {
  beforeEach(() => clearKnownKeys());

  it('answers what recoverStrict answers, before and after the address key is cached, for genuine, flipped, tampered and foreign signatures', () => {
    fc.assert(
      fc.property(keyArb, keyArb, digestArb, digestArb, (k1, k2, d1, d2) => {
        const signer = new SigningKey(hexlify(k1));
        const other = new SigningKey(hexlify(k2));
        const address = computeAddress(signer.publicKey);
        const good = signer.sign(d1).serialized;
        const cases = [
          [d1, good],
          [d1, flipV(good)],
          [d2, good],
          [d1, other.sign(d1).serialized],
          [d1, `${good.slice(0, 2)}${hex32((BigInt(`0x${good.slice(2, 66)}`) + 1n) % N)}${good.slice(66)}`],
        ] as const;
        // Twice: the first pass recovers (and caches the key on a match), the second takes the cached-key path.
        for (let pass = 0; pass < 2; pass++) {
          for (const [digest, sig] of cases) expect(recoverStrictFor(digest, sig, address)).toEqual(recoverStrict(digest, sig));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('accepts a cached signer only with the exact recovery id: the v-flipped twin recovers another address', () => {
    const wallet = Wallet.createRandom();
    const digest = hexlify(new Uint8Array(32).fill(7));
    const sig = wallet.signingKey.sign(digest).serialized;
    expect(recoverStrictFor(digest, sig, wallet.address)).toEqual({ ok: true, address: wallet.address });
    const twin = recoverStrictFor(digest, flipV(sig), wallet.address);
    expect(twin.ok && twin.address).not.toBe(wallet.address);
  });

  it('refuses a high-s twin and a compact 64-byte signature with the codes recoverStrict uses', () => {
    const wallet = Wallet.createRandom();
    const digest = hexlify(new Uint8Array(32).fill(9));
    const sig = Signature.from(wallet.signingKey.sign(digest));
    recoverStrictFor(digest, sig.serialized, wallet.address);
    const highS = `0x${sig.r.slice(2)}${hex32(N - BigInt(sig.s))}${(sig.v === 27 ? 28 : 27).toString(16)}`;
    expect(recoverStrictFor(digest, highS, wallet.address)).toEqual({ ok: false, error: 'SIGNATURE_MALLEABLE' });
    expect(recoverStrictFor(digest, sig.compactSerialized, wallet.address)).toEqual({ ok: false, error: 'SIGNATURE_MALFORMED' });
  });
});
