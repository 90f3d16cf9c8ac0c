/**
 * Signed API calls. Every mutating request carries an EIP-712 signature over
 * (method, path, sha256(body), timestamp, nonce) under the domain {name: 'Provena API', version: '1', chainId},
 * sent in four headers. EOAs sign with any ethers Signer or viem account; contract wallets (ERC-1271) are
 * checked against the chain.
 *
 * The server rejects, with 401 and a stable code and before any state changes: a timestamp outside the skew
 * window, a malformed or high-s signature, a signature that does not match (other body/path/method/chain), and
 * a reused nonce.
 */
// ethers' sha256 and randomBytes, not node:crypto: the SDK signs requests in a browser too (the web console).
import { BaseWallet, TypedDataEncoder, concat, hexlify, keccak256, randomBytes, sha256, toUtf8Bytes, type TypedDataDomain, type TypedDataField } from 'ethers';
import { isErc6492Signature, recoverStrictFor } from '../crypto/signatures.js';
import { checksumAddress } from '../encoding/address.js';
import { REQUEST_TYPES, requestDomain } from '../eip712.js';
import * as z from 'zod';
import { AuthError } from '../errors.js';
import type { NonceStore } from '../ports/NonceStore.js';
import type { SignatureVerifier } from '../ports/SignatureVerifier.js';
import { Address, Bytes32 } from '../schemas/common.js';

/** Header names (lowercase, as API Gateway v2 delivers them). */
export const AUTH_HEADERS = {
  address: 'x-provena-address',
  timestamp: 'x-provena-timestamp',
  nonce: 'x-provena-nonce',
  signature: 'x-provena-signature',
} as const;

/** The message a caller signs. `path` includes the query string, if any. */
export interface RequestMessage {
  /** The acting account (an EOA, or a smart account whose owner signs): part of what is signed. */
  account: string;
  method: string;
  path: string;
  bodyHash: string;
  timestamp: number;
  nonce: string;
}

/** sha256 of the raw body bytes, 0x-hex (the empty body hashes too). */
export function bodyHash(body: string | Uint8Array | undefined): string {
  return sha256(typeof body === 'string' ? toUtf8Bytes(body) : (body ?? new Uint8Array()));
}

/** Builds the message for a request; a fresh random nonce and the current time unless given. */
export function requestMessage(input: {
  account: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  timestamp?: number;
  nonce?: string;
}): RequestMessage {
  return {
    account: checksumAddress(input.account),
    method: input.method.toUpperCase(),
    path: input.path,
    bodyHash: bodyHash(input.body),
    timestamp: input.timestamp ?? Math.floor(Date.now() / 1000),
    nonce: input.nonce ?? hexlify(randomBytes(32)),
  };
}

// The request type never changes and a process sees one or two chain ids: building the encoder (type parsing) and
// the domain separator once per process instead of per request makes the digest about 3x cheaper.
const requestEncoder = TypedDataEncoder.from(REQUEST_TYPES);
const domainSeparators = new Map<number, string>();

/** The EIP-712 digest a signer signs for `message` on `chainId` (`TypedDataEncoder.hash`, with its parts cached). */
export function requestDigest(chainId: number, message: RequestMessage): string {
  let separator = domainSeparators.get(chainId);
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(requestDomain(chainId));
    domainSeparators.set(chainId, separator);
  }
  return keccak256(concat(['0x1901', separator, requestEncoder.hash(message)]));
}

/** Anything that signs EIP-712 typed data the ethers way (an ethers Signer, or an adapter over viem). */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/**
 * Signs a request and returns the headers to send.
 *
 * @param account the address the request is made for; defaults to the signer's own. For an ERC-1271 smart
 * account, pass the account's address and its owner's signer.
 * @example
 * ```ts
 * const headers = await signRequest(wallet, { chainId: 31337, method: 'POST', path: '/v1/datasets', body });
 * await fetch(url, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } });
 * ```
 */
export async function signRequest(
  signer: TypedDataSigner,
  input: { chainId: number; method: string; path: string; body?: string | Uint8Array; timestamp?: number; nonce?: string; account?: string },
): Promise<Record<string, string>> {
  const message = requestMessage({ ...input, account: input.account ?? (await signer.getAddress()) });
  // An ethers wallet signs the digest directly (same deterministic signature as its signTypedData, without
  // re-encoding the types); any other signer (browser wallet, viem adapter, smart-account owner) signs the typed data.
  const signature =
    signer instanceof BaseWallet
      ? signer.signingKey.sign(requestDigest(input.chainId, message)).serialized
      : await signer.signTypedData(requestDomain(input.chainId), REQUEST_TYPES, { ...message });
  return authHeaders(message.account, message, signature);
}

/** The four auth headers for a message and its signature. */
export function authHeaders(address: string, message: RequestMessage, signature: string): Record<string, string> {
  return {
    [AUTH_HEADERS.address]: checksumAddress(address),
    [AUTH_HEADERS.timestamp]: String(message.timestamp),
    [AUTH_HEADERS.nonce]: message.nonce,
    [AUTH_HEADERS.signature]: signature,
  };
}

const AuthHeadersSchema = z.object({
  [AUTH_HEADERS.address]: Address,
  [AUTH_HEADERS.timestamp]: z.string().regex(/^[0-9]{1,12}$/, 'must be unix seconds').transform(Number),
  [AUTH_HEADERS.nonce]: Bytes32,
  [AUTH_HEADERS.signature]: z.string().regex(/^0x([0-9a-fA-F]{2}){1,4096}$/, 'must be 0x-prefixed hex bytes'),
});

/** Half the secp256k1 group order: an `s` above it is the malleable twin of a valid signature (EIP-2). */

/** What the verifier needs. */
export interface VerifyDeps {
  chainId: number;
  nonces: NonceStore;
  chain: SignatureVerifier;
  /** Accepted skew, seconds. */
  maxSkewSeconds: number;
  /** Current time, epoch seconds. */
  now(): number;
}

/** An authenticated caller. */
export interface Caller {
  address: string;
  /**
   * `eoa` (ECDSA recovery), `erc1271` (a deployed contract wallet vouched for the signature) or `erc6492` (a
   * counterfactual smart account: the signature carries its deployment, simulated in an `eth_call`).
   */
  kind: 'eoa' | 'erc1271' | 'erc6492';
}


/** A signed request's parts the verifier reads. */
export interface SignedRequestParts {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string | Uint8Array | undefined;
}

/**
 * Authenticates a request. Throws {@link AuthError} (401) with a stable code; on success the nonce is spent.
 *
 * Order matters: cheap checks first, the chain only for contract wallets, and the nonce (a write) last, so
 * that a bad request never consumes anything.
 */
export async function verifySignedRequest(request: SignedRequestParts, deps: VerifyDeps): Promise<Caller> {
  const { caller, spendNonce } = await authenticateSignedRequest(request, deps);
  await spendNonce();
  return caller;
}

/**
 * Every check of {@link verifySignedRequest} but the nonce, which `spendNonce` spends (throwing
 * `AUTH_NONCE_REUSED` for a replay). The caller must not act on the request before `spendNonce` resolved; it may
 * overlap work that changes nothing a replay could exploit (parsing, content-addressed writes) with the spend.
 */
export async function authenticateSignedRequest(request: SignedRequestParts, deps: VerifyDeps): Promise<{ caller: Caller; spendNonce(): Promise<void> }> {
  const present = Object.values(AUTH_HEADERS).filter((h) => request.headers[h] !== undefined);
  if (present.length === 0) {
    throw new AuthError('AUTH_MISSING', `This route needs a signed request: send ${Object.values(AUTH_HEADERS).join(', ')}`);
  }
  const parsed = AuthHeadersSchema.safeParse(request.headers);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AuthError('AUTH_HEADER_INVALID', `Bad auth header ${String(first?.path[0] ?? '')}: ${first?.message ?? 'invalid'}`);
  }
  const h = parsed.data;
  const address = h[AUTH_HEADERS.address];
  const timestamp = h[AUTH_HEADERS.timestamp];
  const nonce = h[AUTH_HEADERS.nonce].toLowerCase();
  const signature = h[AUTH_HEADERS.signature];

  const now = deps.now();
  if (Math.abs(now - timestamp) > deps.maxSkewSeconds) {
    throw new AuthError('AUTH_TIMESTAMP_OUT_OF_RANGE', `Request timestamp ${timestamp} is more than ${deps.maxSkewSeconds}s from server time ${now}`);
  }

  const message: RequestMessage = {
    account: address,
    method: request.method.toUpperCase(),
    path: request.path,
    bodyHash: bodyHash(request.body),
    timestamp,
    nonce,
  };
  const digest = requestDigest(deps.chainId, message);

  let kind: Caller['kind'] | undefined;
  if (isErc6492Signature(signature)) {
    // A wrapped signature names a factory; the check simulates it and asks the account, whatever exists today.
    if (await deps.chain.isValidErc6492Signature(address, digest, signature)) kind = 'erc6492';
  } else {
    const eoa = recoverStrictFor(digest, signature, address);
    if (eoa.ok && eoa.address === address) {
      kind = 'eoa';
    } else if (await deps.chain.isContract(address)) {
      if (await deps.chain.isValidErc1271Signature(address, digest, signature)) kind = 'erc1271';
    } else if (!eoa.ok) {
      throw eoa.error === 'SIGNATURE_MALLEABLE'
        ? new AuthError('AUTH_SIGNATURE_MALLEABLE', 'Signature has a high s value (EIP-2); send the canonical low-s form')
        : new AuthError('AUTH_SIGNATURE_MALFORMED', 'Signature is not a 65-byte ECDSA signature (nor an ERC-6492 wrapped one)');
    }
  }
  if (!kind) {
    throw new AuthError('AUTH_SIGNATURE_INVALID', `Signature does not match ${address} for ${message.method} ${message.path} on chain ${deps.chainId}`);
  }

  return {
    caller: { address, kind },
    async spendNonce(): Promise<void> {
      // Keep the nonce a little longer than the window in which its timestamp is accepted.
      const fresh = await deps.nonces.consume(address, nonce, timestamp + deps.maxSkewSeconds + 60);
      if (!fresh) throw new AuthError('AUTH_NONCE_REUSED', `Nonce ${nonce} was already used by ${address}`);
    },
  };
}
