/**
 * The chunked AEAD format's constants (see chunkedAead.ts), apart from the code so that schemas and the browser
 * SDK can read them without importing Node's crypto.
 */

/** The ciphertext layout version written to manifests. */
export const FORMAT_VERSION = 1 as const;
/** The associated-data layout version written to manifests. */
export const AAD_VERSION = 1 as const;
/** The cipher name written to manifests. */
export const CIPHER_ALG = 'AES-256-GCM' as const;
/** The nonce scheme written to manifests: HKDF per-stream key, 32 zero bits ‖ 64-bit chunk counter. */
export const NONCE_SCHEME = 'hkdf-sha256-stream-key+counter64' as const;
/** Default plaintext bytes per chunk: 4 MiB. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
/** Largest allowed chunk (256 MiB): bounds memory and stays far below GCM's 64 GiB per-message limit. */
export const MAX_CHUNK_SIZE = 256 * 1024 * 1024;
/** GCM tag length in bytes; each chunk's ciphertext is plaintext length + this. */
export const TAG_LENGTH = 16;
/** Most chunks in one stream (2^32): keeps the counter far from overflow and indices exact in JS numbers. */
export const MAX_CHUNKS = 2 ** 32;
