/**
 * Errors as a person reads them: the API's stable code, then a plain sentence. The code is what support and the
 * docs search by; the sentence says what happened and what to do.
 */
import { ProvenaError } from '../../shared/errors.js';

/** A failure to show: a code and a sentence (and the API's own message when it adds something). */
export interface ShownError {
  code: string;
  sentence: string;
  detail?: string;
}

/** A failure of the console itself (no wallet, cancelled review, wrong network), with a code like the API's. */
export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? code);
  }
}

const PLAIN: Record<string, string> = {
  CANCELLED: 'You cancelled; nothing was signed or sent.',
  WALLET_NOT_CONNECTED: 'Connect your wallet first (the button at the top right).',
  API_UNREACHABLE: 'The Provena API is not answering. Check that it is running (npm start) and reload the page.',
  NO_WALLET: 'No wallet was found in this browser. Install an Ethereum wallet extension (or open the console in a browser that has one) to sign and pay.',
  WALLET_REJECTED: 'You declined the request in your wallet; nothing was signed or sent.',
  WALLET_WRONG_CHAIN: 'Your wallet is on another network than this deployment.',
  VALIDATION_FAILED: 'Some input is not valid; correct the fields named below and try again.',
  AUTH_MISSING: 'This action must be signed: connect your wallet first.',
  AUTH_SIGNATURE_INVALID: 'The signature does not match your account for this request.',
  AUTH_TIMESTAMP_OUT_OF_RANGE: "Your computer's clock is too far from the server's; fix the clock and retry.",
  AUTH_NONCE_REUSED: 'This signed request was already used; retry to sign a fresh one.',
  FORBIDDEN_NOT_OWNER: 'Only the owner of this listing may do that.',
  FORBIDDEN: 'Your account may not do that.',
  NOT_FOUND: 'Nothing was found at this address.',
  DATASET_NOT_FOUND: 'There is no dataset with this id.',
  LICENSE_NOT_FOUND: 'There is no license with this id (a new one shows up a few seconds after its purchase is mined).',
  DATASET_DELISTED: 'This dataset is delisted: it cannot be licensed any more.',
  DATASET_NOT_REGISTERED: 'This dataset is not registered on chain yet, so it cannot be licensed.',
  DATASET_ALREADY_REGISTERED: 'The registry already holds this version of the listing.',
  LICENSE_PRICE_ABOVE_MAX: 'The price went up above the cap you accepted: nothing was bought or paid.',
  LICENSE_EXPIRED: 'This license has expired.',
  JOB_NOT_ACTIVE: 'This job is not active on chain.',
  ROYALTY_NOTHING_TO_CLAIM: 'There is nothing to claim right now.',
  ROYALTY_NOT_RECIPIENT: 'This address receives no royalties from these datasets.',
  CLAIM_EXPIRED: 'The signed claim expired before it was relayed; claim again.',
  CLAIM_SIGNATURE_INVALID: 'The claim signature was not accepted by the contract.',
  JOB_NOT_FOUND: 'There is no job with this id here.',
  JOB_UNKNOWN_ON_CHAIN: 'The chain has no such job: it must be opened on chain (openJob) first.',
  JOB_NOT_LICENSE_HOLDER: 'Only the holder of the license may submit or see this job as its lab.',
  JOB_DATASET_NOT_LISTED: 'A dataset of this license has no listing on this API.',
  JOB_ALREADY_FINISHED: 'This job is already finished on chain.',
  JOB_SUBMIT_CONFLICT: 'This job was already submitted with another recipe or model key.',
  JOB_MODEL_NOT_READY: 'The model is not ready yet: the job has not finished.',
  RATE_LIMITED: 'Too many requests: wait a few seconds and retry.',
  RELAYER_QUOTA_EXCEEDED: "You have used today's gasless transactions: claim on chain instead (you pay the gas).",
  RELAYER_BUDGET_EXHAUSTED: "The relayer's budget for today is spent: claim on chain instead (you pay the gas).",
  CHAIN_UNAVAILABLE: 'The API cannot reach the blockchain right now; retry in a moment.',
  CONTENT_STORE_UNAVAILABLE: 'The content store (IPFS) is not answering; retry in a moment.',
  DEPENDENCY_FAILED: 'A service the API depends on failed; retry in a moment.',
  RESPONSE_INVALID: "The API's answer was not what this console expects: the console and the API may be different versions.",
  INTERNAL: 'The API failed unexpectedly; the request was not completed.',
  CHAIN_REVERTED: 'The transaction would fail on chain; nothing was sent.',
  MODEL_KEY_MISSING: "This browser does not hold the job's model key: choose your model key file (the private key saved at submit, or the CLI's).",
  MODEL_KEY_MISMATCH: "This key file is not the job's model key: the model was sealed to another key.",
  KEY_UNWRAP_FAILED: "The model's sealed key did not open with this key, or it was altered: nothing was decrypted.",
  MODEL_HASH_MISMATCH: 'The decrypted model is not the one the receipt and the job name: it was not offered for download.',
  CHUNK_DIGEST_MISMATCH: 'The downloaded model was altered in storage or in transit: nothing was decrypted.',
  CHUNK_AUTH_FAILED: 'The downloaded model failed authentication: nothing was decrypted.',
  DATA_KEY_MISMATCH: "The opened key is not this model's key: nothing was decrypted.",
  MANIFEST_MISMATCH: "The download is not this job's encrypted model.",
  RECEIPT_NOT_VERIFIED: 'The receipt did not verify, so the model cannot be checked against it: fix that first.',
  CONTENT_NOT_FOUND: 'The content store has nothing under this CID.',
  UPLOAD_NOT_FOUND: 'There is no such upload for this dataset.',
  CURSOR_INVALID: 'The page link is stale or altered: start again from the first page.',
};

function isRejection(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 4; i++) {
    const c = (e as { code?: unknown }).code;
    if (c === 4001 || c === 'ACTION_REJECTED') return true;
    e = (e as { error?: unknown }).error ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Turns anything thrown into a {@link ShownError}. */
export function toShown(err: unknown): ShownError {
  if (err instanceof ConsoleError) {
    const sentence = PLAIN[err.code] ?? err.message;
    return { code: err.code, sentence, ...(err.message !== err.code && err.message !== sentence ? { detail: err.message } : {}) };
  }
  if (err instanceof ProvenaError) {
    const sentence = PLAIN[err.code] ?? err.message;
    return { code: err.code, sentence, ...(sentence !== err.message ? { detail: err.message } : {}) };
  }
  if (isRejection(err)) return { code: 'WALLET_REJECTED', sentence: PLAIN.WALLET_REJECTED as string };
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) return { code: 'API_UNREACHABLE', sentence: PLAIN.API_UNREACHABLE as string, detail: err.message };
  const shown = err as { code?: unknown; shortMessage?: unknown; message?: unknown };
  if (shown.code === 'CALL_EXCEPTION') return { code: 'CHAIN_REVERTED', sentence: PLAIN.CHAIN_REVERTED as string, detail: String(shown.shortMessage ?? shown.message ?? '') };
  const message = String(shown.shortMessage ?? shown.message ?? err);
  return { code: typeof shown.code === 'string' ? shown.code : 'ERROR', sentence: message };
}

/** A plain sentence for a code (the console's own codes included). */
export function plain(code: string): string {
  return PLAIN[code] ?? code;
}

/** An error box: the code, the sentence, and the API's message when it says more. */
export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (error === undefined || error === null) return null;
  const e = toShown(error);
  return (
    <div className="error" role="alert" data-code={e.code}>
      <strong className="code">{e.code}</strong> <span>{e.sentence}</span>
      {e.detail ? <div className="detail">{e.detail}</div> : null}
      {onDismiss ? (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
