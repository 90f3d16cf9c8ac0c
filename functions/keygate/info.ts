import { httpHandler } from '../../shared/http/handler.js';
import { getRuntime } from '../_lib/runtime.js';

/** `GET /v1/keygate`: the gate's backend and the public key owners seal data keys to. */
export const handler = httpHandler({ route: { name: 'getKeyGate', auth: 'public' }, runtime: getRuntime }, async () => {
  const rt = await getRuntime();
  // An unserved backend's inbox throws on use; make that the answer here too rather than a key of '0x'.
  if (rt.gate.backend !== 'embedded') rt.inbox.open({ scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1', ephemeralPublicKey: '0x', nonce: '0x', ciphertext: '0x', context: '' }, '');
  return { status: 200, body: { backend: rt.gate.backend, publicKey: rt.inbox.publicKey, scheme: 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1' } };
});
