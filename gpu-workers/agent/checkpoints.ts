/**
 * Checkpoints leave the worker only encrypted (shared/crypto/artifact.ts, under the job's checkpoint key):
 * upload through a presigned PUT, then commit with the position and the samples it covers. A resuming worker
 * downloads the committed one, checks its SHA-256 against the commit, and decrypts it into its tmpfs work dir.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptArtifact, encryptArtifact, sha256Hex } from '../../shared/crypto/artifact.js';
import { IntegrityError } from '../../shared/crypto/errors.js';
import { ProvenaError } from '../../shared/errors.js';
import type { ArtifactUpload, JobCheckpoint, TrainingPosition } from '../../shared/schemas/job.js';
import type { Samples } from './metering.js';

/** The API calls checkpoints need (fenced by the caller). */
export interface ArtifactApi {
  createUpload(kind: 'checkpoint' | 'model', bytes: number, sha256: string): Promise<ArtifactUpload>;
  commit(input: { objectKey: string; sha256: string; bytes: number; position: TrainingPosition; samples: Record<string, number> }): Promise<JobCheckpoint>;
}

/** PUTs `body` to a presigned URL. */
export async function putObject(url: string, body: Uint8Array): Promise<void> {
  const res = await fetch(url, { method: 'PUT', body, headers: { 'content-length': String(body.length) } });
  if (!res.ok) throw new ProvenaError('DEPENDENCY_FAILED', `artifact upload failed: HTTP ${res.status}`);
  await res.body?.cancel();
}

/** Encrypts, uploads and commits the trainer's checkpoint file at `path`. */
export async function commitCheckpoint(api: ArtifactApi, key: Uint8Array, jobId: string, path: string, position: TrainingPosition, samples: Samples): Promise<JobCheckpoint> {
  const plain = await readFile(path);
  const object = await encryptArtifact(plain, key, { kind: 'checkpoint', jobId });
  plain.fill(0);
  const sha256 = sha256Hex(object);
  const upload = await api.createUpload('checkpoint', object.length, sha256);
  await putObject(upload.uploadUrl, object);
  return api.commit({ objectKey: upload.objectKey, sha256, bytes: object.length, position, samples: { ...samples } });
}

/** Downloads the committed checkpoint, verifies and decrypts it into `dir`; returns the plaintext file's path. */
export async function restoreCheckpoint(from: JobCheckpoint & { downloadUrl: string }, key: Uint8Array, jobId: string, dir: string): Promise<string> {
  const res = await fetch(from.downloadUrl);
  if (!res.ok) throw new ProvenaError('DEPENDENCY_FAILED', `checkpoint download failed: HTTP ${res.status}`);
  const object = Buffer.from(await res.arrayBuffer());
  if (sha256Hex(object) !== from.sha256) throw new IntegrityError('MANIFEST_MISMATCH', 'the checkpoint object is not the one committed');
  const plain = await decryptArtifact(object, key, { kind: 'checkpoint', jobId });
  const path = join(dir, `resume-${from.position.globalStep}.pt`);
  await writeFile(path, plain, { mode: 0o600 });
  plain.fill(0);
  return path;
}
