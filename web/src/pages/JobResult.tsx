/**
 * A finished job's receipt, verified in the browser, and its model, downloaded and decrypted in the browser.
 *
 * The receipt's bytes come from `GET /v1/receipts/{cid}` and are trusted for nothing: `verifyReceipt` (the SDK's,
 * bundled here) recomputes the CID from them, checks the EIP-191 signature by the worker key, and reads through
 * the wallet's RPC that the chain anchored this CID for the job and approved that key on the evidence named; the
 * console adds that the receipt names this job, its license, its attested worker and its model hash. Each check
 * shows pass or fail.
 *
 * The model: the sealed key opens with the lab's model key (kept in this browser at submit, else a key file the
 * user picks), the ciphertext is decrypted with WebCrypto, and its SHA-256 must equal the job's record and the
 * verified receipt's before `model.safetensors` is offered.
 */
import { BrowserProvider } from 'ethers';
import { useEffect, useId, useState, type ChangeEvent } from 'react';
import { routes } from '../../../shared/http/routes.js';
import type { Job, SignedReceipt } from '../../../shared/schemas/job.js';
import { publishedManifestsFromApi, receiptChainReader, verifyReceipt } from '../../../shared/sdk/receipt.js';
import { openModelWeb } from '../../../shared/sdk/openModelWeb.js';
import { useApi, useHealth, useLoad } from '../api.js';
import { ConsoleError, ErrorBox } from '../errors.js';
import { Tx } from '../ui.js';
import { keptModelKeyFor, opensModelKey, parseKeyFile } from '../modelKey.js';

/** A check as the console shows it: the SDK's names plus the console's own against the job. */
interface ShownCheck {
  check: string;
  ok: boolean;
  skipped?: boolean | undefined;
  code?: string | undefined;
  message: string;
}

const LABELS: Record<string, string> = {
  cid: 'Content matches its CID',
  schema: 'A well-formed signed receipt',
  signature: 'Signed by the worker key',
  anchored: 'Anchored on chain for this job',
  workerApproved: 'Worker key approved (attested) on chain',
  evidence: 'Attestation evidence matches',
  manifests: 'Trained on data its listings published',
  job: 'Names this job, license and attested worker',
  model: "Model hash matches the job's model",
};

export interface ReceiptVerdict {
  ok: boolean;
  checks: ShownCheck[];
  receipt?: SignedReceipt;
}

function base64Bytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** The console's checks of a (signature-checked) receipt against the job the API reports. */
function jobChecks(job: Job, receipt: SignedReceipt | undefined): ShownCheck[] {
  if (!receipt) return ['job', 'model'].map((check) => ({ check, ok: false, skipped: true, message: 'not checked: the receipt could not be read' }));
  const b = receipt.body;
  const wrong = [
    b.jobId !== job.id ? `job ${b.jobId}, not ${job.id}` : '',
    b.licenseId !== job.licenseId ? `license ${b.licenseId}, not ${job.licenseId}` : '',
    job.worker && b.worker.address.toLowerCase() !== job.worker.address.toLowerCase() ? `worker ${b.worker.address}, not the attested ${job.worker.address}` : '',
  ].filter(Boolean);
  const model = job.model;
  return [
    wrong.length
      ? { check: 'job', ok: false, code: 'RECEIPT_MALFORMED', message: `the receipt names ${wrong.join('; ')}` }
      : { check: 'job', ok: true, message: `job ${b.jobId}, license ${b.licenseId}, worker ${b.worker.address}` },
    !model
      ? { check: 'model', ok: false, skipped: true, message: 'not checked: the job records no model yet' }
      : model.sha256 === b.model.sha256 && model.bytes === b.model.bytes
        ? { check: 'model', ok: true, message: `sha256 ${b.model.sha256} (${b.model.bytes} bytes)` }
        : { check: 'model', ok: false, code: 'MODEL_HASH_MISMATCH', message: `the receipt names sha256 ${b.model.sha256} (${b.model.bytes} bytes), the job ${model.sha256} (${model.bytes} bytes)` },
  ];
}

/** Fetches and verifies the job's receipt (chain reads through the wallet's provider). */
export function useReceiptVerdict(job: Job): { verdict?: ReceiptVerdict; error?: unknown; loading: boolean } {
  const { client } = useApi();
  const health = useHealth();
  const cid = job.receipt?.cid;
  const r = useLoad(async (): Promise<ReceiptVerdict | undefined> => {
    if (!cid || !window.ethereum) return undefined;
    const stored = await client.call(routes.getReceipt, { params: { cid } });
    const chain = receiptChainReader(new BrowserProvider(window.ethereum), health.chainId, {
      licenseManager: health.contracts.LicenseManager as string,
      attestationRegistry: health.contracts.AttestationRegistry as string,
    });
    const v = await verifyReceipt({ cid, bytes: base64Bytes(stored.base64), chain, publishedManifests: publishedManifestsFromApi(client) });
    const checks: ShownCheck[] = [...v.checks, ...jobChecks(job, v.receipt)];
    return { ok: checks.every((c) => c.ok), checks, ...(v.receipt ? { receipt: v.receipt } : {}) };
  }, [client, cid, job.model?.sha256]);
  return { ...(r.data ? { verdict: r.data } : {}), ...(r.error ? { error: r.error } : {}), loading: r.loading };
}

export function ReceiptPanel({ job, verdict, error, loading }: { job: Job; verdict?: ReceiptVerdict | undefined; error?: unknown; loading: boolean }) {
  if (!job.receipt) return <p>No receipt yet: it is written when the job finishes.</p>;
  return (
    <>
      <p data-testid="receipt">
        Receipt <span className="mono wrap">{job.receipt.cid}</span>, anchored on chain by <Tx hash={job.receipt.txHash} />.
      </p>
      {!window.ethereum ? <p className="muted">Connect a wallet to verify the receipt against the chain (its RPC reads the contracts).</p> : null}
      <ErrorBox error={error} />
      {loading && !verdict ? <p aria-live="polite">Verifying the receipt in this browser …</p> : null}
      {verdict ? (
        <>
          <p className={verdict.ok ? 'ok' : 'warn'} data-testid="receipt-verdict" role="status">
            {verdict.ok
              ? `Verified in this browser: all ${verdict.checks.length} checks passed.`
              : `Not verified: ${verdict.checks.filter((c) => !c.ok && !c.skipped).length} check(s) failed${verdict.checks.find((c) => !c.ok && c.code)?.code ? ` (${verdict.checks.find((c) => !c.ok && c.code)?.code})` : ''}.`}
          </p>
          <ul className="checks" data-testid="receipt-checks">
            {verdict.checks.map((c) => {
              const state = c.ok ? 'pass' : c.skipped ? 'skipped' : 'fail';
              return (
                <li key={c.check} data-check={c.check} data-state={state} className={`check-${state}`}>
                  <span aria-hidden="true">{c.ok ? '✔' : c.skipped ? '–' : '✘'}</span> <strong>{LABELS[c.check] ?? c.check}</strong>: <span className="sr">{state}</span>
                  {c.code && !c.ok ? <code className="code"> {c.code}</code> : null} <span className="muted wrap">{c.message}</span>
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
    </>
  );
}

/** Decrypts the job's model in the browser and offers `model.safetensors`. */
export function ModelDownload({ job, verdict }: { job: Job; verdict?: ReceiptVerdict | undefined }) {
  const { client } = useApi();
  const inputId = useId();
  const kept = keptModelKeyFor(job.holder, job.modelKey);
  const [picked, setPicked] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [step, setStep] = useState('');
  const [file, setFile] = useState<{ url: string; sha256: string; bytes: number }>();
  useEffect(() => () => (file ? URL.revokeObjectURL(file.url) : undefined), [file]);
  const key = kept ?? picked;

  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    setError(undefined);
    const f = e.target.files?.[0];
    if (!f) return;
    const pk = parseKeyFile(await f.text());
    if (!pk) return setError(new ConsoleError('VALIDATION_FAILED', `${f.name} does not hold a private key (32 bytes of hex)`));
    if (!opensModelKey(pk, job.modelKey)) return setError(new ConsoleError('MODEL_KEY_MISMATCH', `${f.name} is not the private key of the job's model key ${job.modelKey}`));
    setPicked(pk);
  };

  const get = async () => {
    setError(undefined);
    setFile(undefined);
    try {
      if (!key) throw new ConsoleError('MODEL_KEY_MISSING');
      if (!verdict?.ok || !verdict.receipt) throw new ConsoleError('RECEIPT_NOT_VERIFIED');
      setStep('asking the API for the model …');
      const download = await client.call(routes.getJobModel, { params: { jobId: job.id } });
      if (download.receiptCid !== job.receipt?.cid) throw new ConsoleError('RECEIPT_NOT_VERIFIED', `the model names receipt ${download.receiptCid}, not the verified ${job.receipt?.cid}`);
      setStep(`downloading ${download.model.encryptedBytes} encrypted bytes …`);
      const res = await fetch(download.downloadUrl);
      if (!res.ok) throw new ConsoleError('DEPENDENCY_FAILED', `downloading the model answered HTTP ${res.status}`);
      const ciphertext = new Uint8Array(await res.arrayBuffer());
      setStep('decrypting and checking the hash …');
      const opened = await openModelWeb({ download, ciphertext, privateKey: key, receipt: verdict.receipt.body });
      setFile({ url: URL.createObjectURL(new Blob([opened.model], { type: 'application/octet-stream' })), sha256: opened.sha256, bytes: opened.model.length });
      setStep('');
    } catch (err) {
      setStep('');
      setError(err);
    }
  };

  return (
    <div className="model">
      <h3>Model</h3>
      {kept ? (
        <p className="muted">This browser holds the job&rsquo;s model key (kept when you submitted); it never leaves the browser.</p>
      ) : (
        <label htmlFor={inputId}>
          Your model key file (the private key saved at submit, or the CLI&rsquo;s; it stays in this browser)
          <input id={inputId} type="file" accept=".txt,.key,text/plain" onChange={pick} data-testid="model-key-file" />
        </label>
      )}
      {picked ? <p className="ok">Key file accepted: it opens this job&rsquo;s model key.</p> : null}
      <button type="button" onClick={get} disabled={!key || !verdict?.ok}>
        Download and decrypt the model
      </button>
      {!verdict?.ok ? <small> (after the receipt verifies)</small> : null}
      {step ? <p aria-live="polite">{step}</p> : null}
      {file ? (
        <p data-testid="model-ready" className="ok">
          Decrypted in this browser; SHA-256 <span className="mono">{file.sha256}</span> ({file.bytes} bytes) equals the receipt&rsquo;s.{' '}
          <a className="button primary" href={file.url} download="model.safetensors">
            Save model.safetensors
          </a>
        </p>
      ) : null}
      <ErrorBox error={error} onDismiss={() => setError(undefined)} />
    </div>
  );
}
