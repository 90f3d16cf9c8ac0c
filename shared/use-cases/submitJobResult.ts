import { id, verifyMessage } from 'ethers';
import { canonicalJson } from '../encoding/canonicalJson.js';
import { cidOfBytes } from '../encoding/unixfs.js';
import { ProvenaError, type ConflictError, type DependencyError, type ForbiddenError } from '../errors.js';
import type { JobRecord } from '../ports/JobRepo.js';
import type { JobResultInput, JobResultResult } from '../schemas/job.js';
import { artifactPrefix } from './createArtifactUpload.js';
import { checkLease, requireJob, type JobDeps } from './jobDeps.js';
import { settlePrivacy } from './privacyBudget.js';
import { recordReport, reportSamples } from './submitUsageReport.js';

export interface SubmitJobResultParameters {
  caller: string;
  jobId: string;
  input: JobResultInput;
}
export type SubmitJobResultReturnType = JobResultResult;
/**
 * The lease codes; `JOB_RECEIPT_INVALID` (another job or license, or samples below the final report's),
 * `JOB_RECEIPT_SIGNATURE_INVALID`, `JOB_RECEIPT_CID_MISMATCH`, `JOB_ARTIFACT_*` for the model, `JOB_REPORT_*` and
 * `RELAYER_*` from `finalizeJob`.
 */
export type SubmitJobResultErrorType = ConflictError | ForbiddenError | DependencyError | ProvenaError;

/** The receipt is this job's, signed (EIP-191 over its body's canonical JSON) by a key approved for the job. */
async function checkReceipt(deps: JobDeps, record: JobRecord, input: JobResultInput): Promise<void> {
  const { body, signature } = input.receipt;
  if (body.jobId !== record.jobId || body.licenseId !== record.licenseId) throw new ProvenaError('JOB_RECEIPT_INVALID', `The receipt is for job ${body.jobId} of license ${body.licenseId}`);
  let signer: string;
  try {
    signer = verifyMessage(canonicalJson(body), signature);
  } catch (err) {
    throw new ProvenaError('JOB_RECEIPT_SIGNATURE_INVALID', 'The receipt signature does not recover', { cause: err });
  }
  if (signer !== body.worker.address || !(await deps.chain.approval(record.jobId, signer)).approved) {
    throw new ProvenaError('JOB_RECEIPT_SIGNATURE_INVALID', `The receipt is signed by ${signer}, not by the key the receipt names and the AttestationRegistry approved for job ${record.jobId}`);
  }
  const samples = reportSamples(record, input.report);
  for (const [datasetId, count] of Object.entries(samples)) {
    const receipted = body.datasets.find((d) => d.datasetId === datasetId)?.samples ?? 0;
    if (count > receipted) throw new ProvenaError('JOB_RECEIPT_INVALID', `Dataset ${datasetId}: the final report pays ${count} samples, the receipt says ${receipted}`);
  }
}

/** The sealed model was uploaded under this lease, with the declared ciphertext size. */
async function checkModel(deps: JobDeps, jobId: string, input: JobResultInput): Promise<void> {
  if (!input.model.objectKey.startsWith(artifactPrefix(jobId, 'model', input.fencingToken)) || input.model.objectKey.includes('..')) {
    throw new ProvenaError('JOB_ARTIFACT_KEY_INVALID', `${input.model.objectKey} is not a model upload of this lease`);
  }
  const head = await deps.blobs.head(input.model.objectKey);
  if (!head) throw new ProvenaError('JOB_ARTIFACT_MISSING', `No object ${input.model.objectKey}: upload the model first`);
  if (head.size !== input.model.encryptedBytes) throw new ProvenaError('JOB_ARTIFACT_SIZE_MISMATCH', `${input.model.objectKey} holds ${head.size} bytes, not ${input.model.encryptedBytes}`);
}

/**
 * Finishes a job: checks the receipt (signature by an approved key, this job) and the uploaded model, stores
 * `canonicalJson(receipt)` on IPFS and checks its CID is the `receiptCid` the final report signs, relays
 * `finalizeJob(report, receiptCid, signature)` (which anchors keccak256(CID) on chain), then records the model,
 * its sealed key and the receipt, marks the job `done`, settles its privacy reservations with the receipt's epsilon
 * (the unused part is released) and deletes its queue message.
 */
export async function submitJobResult(deps: JobDeps, params: SubmitJobResultParameters): Promise<SubmitJobResultReturnType> {
  const { input } = params;
  const record = await requireJob(deps, params.jobId);
  checkLease(record, params.caller, input.fencingToken, deps.now());
  await checkReceipt(deps, record, input);
  await checkModel(deps, params.jobId, input);
  const bytes = new TextEncoder().encode(canonicalJson(input.receipt));
  if ((await cidOfBytes(bytes)) !== input.receiptCid) throw new ProvenaError('JOB_RECEIPT_CID_MISMATCH', `canonicalJson(receipt) has another CID than ${input.receiptCid}`);
  const stored = await deps.content.add(bytes);
  if (stored.cid !== input.receiptCid) throw new ProvenaError('JOB_RECEIPT_CID_MISMATCH', `The content store gave the receipt CID ${stored.cid}, not ${input.receiptCid}`);

  const key = `jobs:finalize:${id(`${params.jobId}:${input.receiptCid}`)}`;
  const mined = await deps.chain.relayFinalize(input.report, input.receiptCid, input.signature, key);
  const samples = reportSamples(record, input.report);
  const { body } = input.receipt;
  let handle: string | undefined;
  let finishedHere = false;
  const finished = await recordReport(deps, params.jobId, mined, samples, true, (current) => {
    handle = current.lease?.receiptHandle;
    // A concurrent retry of this call may have written `done` first: then it settles, not this one.
    finishedHere = current.status !== 'done';
    const { lease: _ended, ...rest } = current;
    return {
      ...rest,
      status: 'done',
      model: input.model,
      sealedKey: input.sealedKey,
      receipt: { cid: input.receiptCid, txHash: mined.txHash },
      worker: current.worker ?? { address: body.worker.address, mode: body.worker.mode, evidenceHash: body.worker.evidenceHash, attestedAt: body.createdAt },
      datasets: current.datasets.map((d) => {
        const r = body.datasets.find((x) => x.datasetId === d.datasetId);
        return r ? { ...d, manifestCid: r.manifestCid } : d;
      }),
    };
  });
  // Once: only the call whose write moved the job to `done` settles. No DP in the receipt on a
  // reserved job spends the whole reservation.
  if (finishedHere) await settlePrivacy(deps, finished, body.dp?.epsilon ?? Number.POSITIVE_INFINITY);
  // Best effort: the job is done whatever the queue says, and a leftover message of a done job is deleted by the
  // next lease that receives it.
  if (handle) await deps.queue.delete(handle).catch(() => undefined);
  return { txHash: mined.txHash, receiptCid: input.receiptCid, paid: mined.paid };
}
