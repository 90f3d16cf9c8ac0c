/**
 * An in-process stand-in for a Lit network (Datil, SDK v7 `LitNodeClient`), at the adapter's client seam
 * (`LitClientLike`). What it does for real: Lit's `dataToEncryptHash` (SHA-256 of the plaintext, hex), the
 * ciphertext bound to the identity Lit derives from the conditions and that hash
 * (`lit-accesscontrolcondition://<conditions hash>/<dataToEncryptHash>`), so a key cannot be decrypted under other
 * conditions, and a refusal worded as Lit's nodes word it when the conditions fail for the session's address.
 *
 * What it imitates instead of doing: Lit encrypts with BLS12-381 identity-based encryption to the network's
 * public key and decrypts by combining BLS signature shares of a threshold of nodes, each of which evaluates the
 * conditions on chain and checks the session signatures (SIWE + ReCap). Here one AES-256-GCM network key stands in
 * for the BLS key pair, `canAccess(address)` stands in for the nodes' on-chain evaluation, and a session
 * signature is trusted for the `address` it names (no SIWE check). The conditions hash is SHA-256 of their JSON,
 * not Lit's canonical form. No wire protocol (the nodes' HTTP handshake and `/web/encryption/sign`) is spoken.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { LitClientLike } from '../../../shared/adapters/lit/LitKeyGate.js';

/** What the fake network records, for assertions. */
export interface FakeLitNetwork {
  client: LitClientLike;
  encrypts: number;
  decrypts: { address: string; granted: boolean }[];
}

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A fake Lit network whose conditions pass for the addresses `canAccess` accepts. */
export function fakeLitNetwork(canAccess: (address: string) => boolean): FakeLitNetwork {
  const networkKey = randomBytes(32);
  const identity = (conditions: unknown, dataToEncryptHash: string) => `lit-accesscontrolcondition://${sha256Hex(JSON.stringify(conditions))}/${dataToEncryptHash}`;
  const net: FakeLitNetwork = {
    encrypts: 0,
    decrypts: [],
    client: {
      async connect() {},
      async disconnect() {},
      async encrypt({ evmContractConditions, dataToEncrypt }) {
        net.encrypts++;
        const dataToEncryptHash = sha256Hex(dataToEncrypt);
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', networkKey, iv).setAAD(Buffer.from(identity(evmContractConditions, dataToEncryptHash)));
        const body = Buffer.concat([cipher.update(dataToEncrypt), cipher.final()]);
        return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), dataToEncryptHash };
      },
      async decrypt({ evmContractConditions, ciphertext, dataToEncryptHash, sessionSigs }) {
        const address = Object.values(sessionSigs).map((s) => (s as { address?: string }).address).find((a) => typeof a === 'string');
        if (address === undefined) throw new Error('Invalid sessionSigs: no session signature names an address');
        const granted = canAccess(address);
        net.decrypts.push({ address, granted });
        if (!granted) throw new Error(`NodeAccessControlConditionsReturnedNotAuthorized: The access control conditions check failed for ${address}`);
        const raw = Buffer.from(ciphertext, 'base64');
        const decipher = createDecipheriv('aes-256-gcm', networkKey, raw.subarray(0, 12)).setAAD(Buffer.from(identity(evmContractConditions, dataToEncryptHash)));
        decipher.setAuthTag(raw.subarray(12, 28));
        return { decryptedData: new Uint8Array(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()])) };
      },
    },
  };
  return net;
}
