/**
 * Receipts as a lab reads and checks them: `GET /v1/receipts/{cid}` answers the stored bytes (so the reader can
 * recompute the CID itself: the API is not trusted for it), and `verifyReceipt` (shared/sdk/receipt.ts) answers
 * one verdict per check. The receipt's own shape is `SignedReceipt` in ./job.ts.
 */
import * as z from 'zod';
import { CidString } from './common.js';

/** The most bytes a stored receipt may have (a receipt lists at most 64 datasets: a few tens of KiB). */
export const MAX_RECEIPT_BYTES = 256 * 1024;

/** Path parameters of `/v1/receipts/{cid}`. */
export const ReceiptCidParams = z.object({ cid: CidString });
export type ReceiptCidParams = z.output<typeof ReceiptCidParams>;

/** `GET /v1/receipts/{cid}`: the receipt's bytes exactly as stored (canonical JSON), base64. */
export const StoredReceipt = z.object({
  cid: CidString,
  size: z.number().int().min(1).max(MAX_RECEIPT_BYTES),
  base64: z.string().max(Math.ceil(MAX_RECEIPT_BYTES / 3) * 4),
});
export type StoredReceipt = z.output<typeof StoredReceipt>;

/**
 * The checks of a receipt, in the order they run: `cid` (the bytes hash to the CID asked for), `schema` (a
 * `SignedReceipt`), `signature` (EIP-191 over `canonicalJson(body)` recovers to `body.worker.address`), `anchored`
 * (`receiptOf(jobId) == keccak256(cid)` on the receipt's LicenseManager), `workerApproved` (the
 * AttestationRegistry approved that key for the job), `evidence` (`evidenceOf(jobId, worker) ==
 * body.worker.evidenceHash`), `manifests` (each manifest CID is one the listing published).
 */
export const ReceiptCheckName = z.enum(['cid', 'schema', 'signature', 'anchored', 'workerApproved', 'evidence', 'manifests']);
export type ReceiptCheckName = z.output<typeof ReceiptCheckName>;

/** One check's verdict; `code` (a stable error code) names the failure; `skipped` when an earlier failure made it moot. */
export const ReceiptCheck = z.object({
  check: ReceiptCheckName,
  ok: z.boolean(),
  skipped: z.boolean().optional(),
  code: z.string().optional(),
  message: z.string(),
});
export type ReceiptCheck = z.output<typeof ReceiptCheck>;
