/**
 * The Nitro Secure Module (NSM) client of the `nitro-nsm` attestor. Inside a Nitro enclave, `/dev/nsm` answers CBOR
 * requests (the `aws-nitro-enclaves-nsm-api` crate's serde shapes, externally tagged enums):
 *
 *   request  `{"Attestation": {"user_data": bytes|null, "nonce": bytes|null, "public_key": bytes|null}}`
 *   response `{"Attestation": {"document": bytes}}` or `{"Error": "InvalidArgument" | ...}`
 *
 * The bytes travel through an {@link NsmTransport} (the ioctl helper in production, ./ioctlTransport.ts; an
 * emulator in tests, ./nsmEmulator.ts). The client builds the request, checks the response's shape, and checks that
 * the document it got binds what it asked for (nonce, public key, user data) before the worker posts it: a transport
 * that returned another document fails here, not at the API.
 */
import { Decoder, Encoder } from 'cbor-x';
import { decodeCoseSign1, decodeNitroPayload, type NitroPayload } from '../../../shared/attestation/nitro.js';
import { ProvenaError } from '../../../shared/errors.js';

/** Field limits of the NSM (aws-nitro-enclaves-nsm-api): larger fields are refused with `InputTooLarge`. */
export const NSM_LIMITS = { userData: 512, nonce: 512, publicKey: 1024 } as const;
/** Largest request and response the NSM driver takes and gives (bytes). */
export const NSM_REQUEST_MAX_BYTES = 0x1000;
export const NSM_RESPONSE_MAX_BYTES = 0x3000;
/** The NSM's error codes (`ErrorCode` in the nsm-api crate). */
export const NSM_ERROR_CODES = ['InvalidArgument', 'InvalidIndex', 'InvalidResponse', 'ReadOnlyIndex', 'InvalidOperation', 'BufferTooSmall', 'InputTooLarge', 'InternalError'] as const;

/** Carries one raw CBOR request to the NSM and returns its raw CBOR response. */
export interface NsmTransport {
  request(bytes: Uint8Array): Promise<Uint8Array>;
}

/** What an attestation request binds (each optional, as the NSM allows). */
export interface NsmAttestationRequest {
  userData?: Uint8Array;
  nonce?: Uint8Array;
  publicKey?: Uint8Array;
}

// Maps as CBOR maps with text keys, Uint8Array as plain byte strings (no tag 64): what serde_cbor reads.
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

const invalid = (message: string, cause?: unknown): ProvenaError => new ProvenaError('WORKER_NSM_RESPONSE_INVALID', message, cause === undefined ? {} : { cause });

/** The CBOR of an `Attestation` request. Throws `WORKER_NSM_ERROR` for a field over the NSM's limit. */
export function encodeAttestationRequest(r: NsmAttestationRequest): Buffer {
  for (const [field, limit] of Object.entries(NSM_LIMITS) as [keyof NsmAttestationRequest, number][]) {
    const v = r[field];
    if (v !== undefined && v.length > limit) throw new ProvenaError('WORKER_NSM_ERROR', `NSM ${field} is ${v.length} bytes, over its ${limit}-byte limit`);
  }
  const bytes = (b: Uint8Array | undefined): Buffer | null => (b === undefined ? null : Buffer.from(b));
  const inner = new Map<string, Buffer | null>([
    ['user_data', bytes(r.userData)],
    ['nonce', bytes(r.nonce)],
    ['public_key', bytes(r.publicKey)],
  ]);
  return Buffer.from(encoder.encode(new Map([['Attestation', inner]])));
}

/**
 * The document of an `Attestation` response. Throws `WORKER_NSM_ERROR` for an NSM `Error` answer (naming its code),
 * `WORKER_NSM_RESPONSE_INVALID` for anything else that is not `{Attestation: {document: bytes}}`.
 */
export function decodeAttestationResponse(bytes: Uint8Array): Buffer {
  if (bytes.length > NSM_RESPONSE_MAX_BYTES) throw invalid(`an NSM response of ${bytes.length} bytes is over ${NSM_RESPONSE_MAX_BYTES}`);
  let top: unknown;
  try {
    top = decoder.decode(bytes);
  } catch (cause) {
    throw invalid('the NSM response is not CBOR', cause);
  }
  if (!(top instanceof Map) || top.size !== 1) throw invalid('the NSM response is not a map of one variant');
  const error: unknown = top.get('Error');
  if (error !== undefined) {
    const code = typeof error === 'string' && (NSM_ERROR_CODES as readonly string[]).includes(error) ? error : 'unknown';
    throw new ProvenaError('WORKER_NSM_ERROR', `the NSM refused the attestation request: ${code}`, { details: { nsmError: code } });
  }
  const att: unknown = top.get('Attestation');
  if (!(att instanceof Map)) throw invalid(`the NSM answered ${String([...top.keys()][0])}, not Attestation`);
  const document: unknown = att.get('document');
  if (!(document instanceof Uint8Array) || document.length === 0) throw invalid('the NSM Attestation response has no document bytes');
  return Buffer.from(document);
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0);

/**
 * Decodes the document's payload and checks it binds exactly what was asked (`WORKER_NSM_RESPONSE_INVALID`
 * otherwise). The signature and chain are the API's to verify (shared/attestation/nitro.ts).
 */
export function checkDocumentBinding(document: Uint8Array, asked: NsmAttestationRequest): NitroPayload {
  let payload: NitroPayload;
  try {
    payload = decodeNitroPayload(decodeCoseSign1(document).payload);
  } catch (cause) {
    throw invalid('the NSM document is not a Nitro attestation document', cause);
  }
  for (const [field, got] of [['nonce', payload.nonce], ['publicKey', payload.publicKey], ['userData', payload.userData]] as const) {
    if (!same(asked[field], got)) throw invalid(`the NSM document's ${field} is not the one requested`);
  }
  return payload;
}

/**
 * Asks the NSM for an attestation document binding `r`; returns it with its decoded payload.
 *
 * @example
 * ```ts
 * const { document, payload } = await nsmAttest(ioctlTransport(), { nonce, publicKey });
 * const pcr0 = payload.pcrs.get(0)?.toString('hex');
 * ```
 */
export async function nsmAttest(transport: NsmTransport, r: NsmAttestationRequest): Promise<{ document: Buffer; payload: NitroPayload }> {
  const request = encodeAttestationRequest(r);
  if (request.length > NSM_REQUEST_MAX_BYTES) throw new ProvenaError('WORKER_NSM_ERROR', `an NSM request of ${request.length} bytes is over ${NSM_REQUEST_MAX_BYTES}`);
  const document = decodeAttestationResponse(await transport.request(request));
  return { document, payload: checkDocumentBinding(document, r) };
}
