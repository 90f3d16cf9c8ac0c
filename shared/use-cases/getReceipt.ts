import { ProvenaError, type DependencyError } from '../errors.js';
import type { ContentStore } from '../ports/ContentStore.js';
import { SignedReceipt } from '../schemas/job.js';
import { MAX_RECEIPT_BYTES, type StoredReceipt } from '../schemas/receipt.js';

export interface GetReceiptDeps {
  content: ContentStore;
}
export interface GetReceiptParameters {
  cid: string;
}
export type GetReceiptReturnType = StoredReceipt;
/** `CONTENT_NOT_FOUND`, `RECEIPT_TOO_LARGE`, `RECEIPT_MALFORMED` (the CID holds something else), or the store's errors. */
export type GetReceiptErrorType = ProvenaError | DependencyError;

/**
 * Reads a receipt's bytes from the content store, reading no more than {@link MAX_RECEIPT_BYTES} (the route is
 * public: it must not become a proxy for large or arbitrary content), and answers them only when they are a
 * `SignedReceipt`. The caller recomputes the CID from the bytes; nothing here is to be trusted for it.
 */
export async function getReceipt(deps: GetReceiptDeps, params: GetReceiptParameters): Promise<GetReceiptReturnType> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of deps.content.cat(params.cid)) {
    size += part.length;
    if (size > MAX_RECEIPT_BYTES) throw new ProvenaError('RECEIPT_TOO_LARGE', `${params.cid} holds more than ${MAX_RECEIPT_BYTES} bytes: it is not a receipt`);
    parts.push(part);
  }
  const bytes = Buffer.concat(parts);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ProvenaError('RECEIPT_MALFORMED', `${params.cid} is not JSON: it is not a receipt`);
  }
  if (!SignedReceipt.safeParse(parsed).success) throw new ProvenaError('RECEIPT_MALFORMED', `${params.cid} is not a signed receipt (provena.receipt/v1)`);
  return { cid: params.cid, size, base64: bytes.toString('base64') };
}
