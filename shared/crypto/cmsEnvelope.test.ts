import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildEnvelopedData } from '../../test/support/aws/cmsBuilder.js';
import { codeOfSync } from '../../test/support/attestation/testkit.js';
import { CMS_OIDS, openCiphertextForRecipient, parseEnvelopedData } from './cmsEnvelope.js';

// Made by OpenSSL 3.0 (`openssl cms -encrypt -aes256 -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256`, DER,
// and the same with -stream: BER with indefinite lengths), an implementation independent of ours.
const fixture = (name: string): Buffer => readFileSync(new URL(`../../test/support/aws/fixtures/${name}`, import.meta.url));
const opensslKey = createPrivateKey(fixture('enclave-rsa-test-key.pem'));
const opensslPlaintext = fixture('openssl-cms-plaintext.bin');

describe('openCiphertextForRecipient', () => {
  it.each(['openssl-cms-oaep-aes256.der', 'openssl-cms-oaep-aes256-stream.der'])('opens OpenSSL\'s EnvelopedData %s with the recipient key', (name) => {
    expect(openCiphertextForRecipient(fixture(name), opensslKey).equals(opensslPlaintext)).toBe(true);
  });

  it('reads the algorithms KMS uses: RSAES-OAEP and AES-256-CBC with a 16-byte IV', () => {
    const parts = parseEnvelopedData(fixture('openssl-cms-oaep-aes256.der'));

    expect(parts).toMatchObject({ keyEncryptionAlgorithm: CMS_OIDS.rsaesOaep, contentEncryptionAlgorithm: CMS_OIDS.aes256Cbc });
    expect(parts.iv).toHaveLength(16);
    expect(parts.encryptedKey).toHaveLength(256);
  });

  it('opens what the fake KMS builds (test/support/aws/cmsBuilder.ts) with the attested key only', () => {
    const enclave = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dataKey = Buffer.alloc(32, 7);
    const der = buildEnvelopedData(dataKey, enclave.publicKey);

    expect(openCiphertextForRecipient(der, enclave.privateKey).equals(dataKey)).toBe(true);
    expect(codeOfSync(() => openCiphertextForRecipient(der, other.privateKey))).toBe('KEY_UNWRAP_FAILED');
  });

  it('refuses an altered envelope, a truncated one and one that is not CMS (KEY_UNWRAP_FAILED)', () => {
    const der = fixture('openssl-cms-oaep-aes256.der');
    const altered = Buffer.from(der);
    altered[altered.length - 5] = (altered[altered.length - 5] as number) ^ 0x01;

    expect(codeOfSync(() => openCiphertextForRecipient(altered, opensslKey))).toBe('KEY_UNWRAP_FAILED');
    expect(codeOfSync(() => openCiphertextForRecipient(der.subarray(0, 200), opensslKey))).toBe('KEY_UNWRAP_FAILED');
    expect(codeOfSync(() => openCiphertextForRecipient(Buffer.from('not cms'), opensslKey))).toBe('KEY_UNWRAP_FAILED');
  });
});
