import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { DependencyError, NotFoundError, ProvenaError, ValidationError } from '../../errors.js';
import type { BlobHead, BlobStore, UploadedPart } from '../../ports/BlobStore.js';
import type { ComponentHealth } from '../../ports/Health.js';
import { probeHealth } from '../probeHealth.js';

/** Where and how to reach S3 (AWS or the embedded s3rver). */
export interface S3ClientOptions {
  region: string;
  /** Set for s3rver / other S3-compatible servers, e.g. `http://127.0.0.1:4568`. Leave unset for AWS. */
  endpoint?: string;
  /** Path-style URLs (`/bucket/key`); needed for s3rver, whose buckets have no DNS names. */
  forcePathStyle?: boolean;
  /** Static credentials; unset uses the SDK's default chain (the Lambda role on AWS). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Constructor input of {@link S3BlobStore}: a ready client, or the options to build one. */
export type S3BlobStoreOptions = { bucket: string; client: S3Client } | ({ bucket: string } & S3ClientOptions);

/**
 * Builds an S3 client that computes and validates checksums only when an operation requires them.
 *
 * Why always: with the SDK's default (`WHEN_SUPPORTED`) checksums, s3rver stores streamed bodies with the
 * aws-chunked framing inside the object, and presigned PUT URLs carry the checksum of an empty body, so a
 * browser's PUT fails. AWS accepts `WHEN_REQUIRED` too, so one setting serves both.
 *
 * @example
 * ```ts
 * const client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true,
 *   credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
 * ```
 */
export function createS3Client(cfg: S3ClientOptions): S3Client {
  return new S3Client({
    region: cfg.region,
    ...(cfg.endpoint === undefined ? {} : { endpoint: cfg.endpoint }),
    ...(cfg.forcePathStyle === undefined ? {} : { forcePathStyle: cfg.forcePathStyle }),
    ...(cfg.credentials === undefined ? {} : { credentials: cfg.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Part size used when `put` gets a stream of unknown length and falls back to a multipart upload. */
const STREAM_PART_SIZE = 8 * 1024 * 1024;
/** S3's limits on presigned URL lifetime (SigV4: at most 7 days). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * {@link BlobStore} over `@aws-sdk/client-s3`, for AWS S3 and for s3rver alike (only the endpoint differs).
 * ETags are returned without the surrounding double quotes S3 puts on the wire.
 *
 * Errors: a missing object is `BLOB_NOT_FOUND` (also a missing multipart upload, with `details.uploadId`);
 * bad arguments are `VALIDATION_FAILED`; everything else from S3 or the network is a
 * {@link DependencyError} `DEPENDENCY_FAILED` whose `cause` is the SDK error.
 *
 * @example
 * ```ts
 * const blobs = new S3BlobStore({ bucket: 'provena-blobs', region: 'us-east-1', endpoint: s3.endpoint,
 *   forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
 * await blobs.put('datasets/1/part-0', bytes, { contentType: 'application/octet-stream' });
 * ```
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly client: S3Client;
  readonly #detail: string;

  constructor(options: S3BlobStoreOptions) {
    if (options.bucket === '') throw new ValidationError('bucket must not be empty', [{ path: ['bucket'], message: 'empty' }]);
    this.bucket = options.bucket;
    if ('client' in options) {
      this.client = options.client;
      this.#detail = `s3://${options.bucket}`;
    } else {
      const { bucket, ...cfg } = options;
      this.client = createS3Client(cfg);
      this.#detail = `s3://${bucket}` + (cfg.endpoint === undefined ? '' : ` at ${cfg.endpoint}`);
    }
  }

  /** Probes `HeadBucket`: proves the endpoint answers, the credentials work and the bucket exists. */
  health(): Promise<ComponentHealth> {
    return probeHealth(this.#detail, () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /**
   * Stores `body` under `key`. A stream without `contentLength` is uploaded in 8 MiB multipart parts (S3
   * rejects a PutObject without a length), so memory stays bounded for any size.
   */
  async put(key: string, body: Uint8Array | Readable, options: { contentType?: string; contentLength?: number } = {}): Promise<{ etag: string }> {
    checkKey(key);
    if (options.contentLength !== undefined && !(Number.isSafeInteger(options.contentLength) && options.contentLength >= 0)) {
      throw new ValidationError('contentLength must be a non-negative integer', [{ path: ['contentLength'], message: 'invalid' }]);
    }
    if (body instanceof Readable && options.contentLength === undefined) return this.#putUnknownLength(key, body, options.contentType);
    const out = await this.#send(key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
          ...(options.contentLength === undefined ? {} : { ContentLength: options.contentLength }),
        }),
      ),
    );
    return { etag: unquote(out.ETag) };
  }

  async #putUnknownLength(key: string, body: Readable, contentType: string | undefined): Promise<{ etag: string }> {
    const parts = chunksOf(body, STREAM_PART_SIZE);
    const first = await parts.next();
    const firstBytes = first.done === true ? new Uint8Array(0) : first.value;
    if (firstBytes.byteLength < STREAM_PART_SIZE) {
      // The whole stream fit into one part: a plain PutObject is cheaper than a multipart round trip.
      return this.put(key, firstBytes, contentType === undefined ? {} : { contentType });
    }
    const { uploadId } = await this.createMultipartUpload(key, contentType === undefined ? {} : { contentType });
    try {
      const done: { partNumber: number; etag: string }[] = [];
      let chunk: Uint8Array | undefined = firstBytes;
      while (chunk !== undefined) {
        const partNumber = done.length + 1;
        const bytes: Uint8Array = chunk;
        const out = await this.#send(key, () =>
          this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: bytes })),
        );
        done.push({ partNumber, etag: unquote(out.ETag) });
        const next = await parts.next();
        chunk = next.done === true || next.value.byteLength === 0 ? undefined : next.value;
      }
      return await this.completeMultipartUpload(key, uploadId, done);
    } catch (err) {
      // Leave no orphaned parts (they are billed on AWS); the original error is the one worth reporting.
      await this.abortMultipartUpload(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  /** Streams the object (or the inclusive byte `range`). Throws `BLOB_NOT_FOUND`. */
  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    checkKey(key);
    if (range !== undefined && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new ValidationError('range must satisfy 0 <= start <= end', [{ path: ['range'], message: 'invalid' }]);
    }
    const out = await this.#send(key, () =>
      this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }) }),
      ),
    );
    // In Node the SDK's body is an http.IncomingMessage, i.e. already a Readable.
    if (!(out.Body instanceof Readable)) throw new DependencyError('DEPENDENCY_FAILED', `S3 returned no readable body for ${key}`);
    return out.Body;
  }

  /** Metadata of `key`, or undefined when there is no such object. */
  async head(key: string): Promise<BlobHead | undefined> {
    checkKey(key);
    try {
      const out = await this.#send(key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: unquote(out.ETag),
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      };
    } catch (err) {
      if (err instanceof ProvenaError && err.code === 'BLOB_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Deletes `key`; deleting a missing key succeeds, as in S3. */
  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#send(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /** One page (at most `limit`, default and maximum 1000) of keys under `prefix`; pass `cursor` back for the next. */
  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<{ items: BlobHead[]; cursor?: string }> {
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError('limit must be an integer in 1..1000', [{ path: ['limit'], message: 'out of range' }]);
    }
    if (options.cursor === '') throw new ValidationError('cursor must not be empty', [{ path: ['cursor'], message: 'empty' }]);
    const out = await this.#send(prefix, () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: limit,
          ...(options.cursor === undefined ? {} : { ContinuationToken: options.cursor }),
        }),
      ),
    );
    const items: BlobHead[] = (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0, etag: unquote(o.ETag) }));
    return out.IsTruncated === true && out.NextContinuationToken !== undefined ? { items, cursor: out.NextContinuationToken } : { items };
  }

  /** Starts a multipart upload; parts then go straight from the client via {@link presignUploadPart}. */
  async createMultipartUpload(key: string, options: { contentType?: string } = {}): Promise<{ uploadId: string }> {
    checkKey(key);
    const out = await this.#send(key, () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
        }),
      ),
    );
    if (out.UploadId === undefined) throw new DependencyError('DEPENDENCY_FAILED', `S3 returned no UploadId for ${key}`);
    return { uploadId: out.UploadId };
  }

  /** A URL to PUT part `partNumber` (1..10000) to; the response's `ETag` header is what completion needs. */
  async presignUploadPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    checkKey(key);
    checkUploadId(uploadId);
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new ValidationError('partNumber must be an integer in 1..10000', [{ path: ['partNumber'], message: 'out of range' }]);
    }
    checkExpiry(expiresInSeconds);
    return this.#send(key, () =>
      getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn: expiresInSeconds,
      }),
    );
  }

  /** Every part uploaded so far, in part-number order (follows S3's pagination). */
  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    checkKey(key);
    checkUploadId(uploadId);
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await this.#send(
        key,
        () =>
          this.client.send(
            new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, ...(marker === undefined ? {} : { PartNumberMarker: marker }) }),
          ),
        uploadId,
      );
      for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, etag: unquote(p.ETag), size: p.Size ?? 0 });
      if (out.IsTruncated !== true || out.NextPartNumberMarker === undefined || out.NextPartNumberMarker === marker) break;
      marker = out.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Assembles the object from `parts` (sorted here, as S3 requires ascending order). */
  async completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<{ etag: string }> {
    checkKey(key);
    checkUploadId(uploadId);
    if (parts.length === 0) throw new ValidationError('at least one part is required', [{ path: ['parts'], message: 'empty' }]);
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (sorted.some((p, i) => i > 0 && p.partNumber === sorted[i - 1]?.partNumber)) {
      throw new ValidationError('part numbers must be unique', [{ path: ['parts'], message: 'duplicate partNumber' }]);
    }
    const out = await this.#send(
      key,
      () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: `"${unquote(p.etag)}"` })) },
          }),
        ),
      uploadId,
    );
    return { etag: unquote(out.ETag) };
  }

  /** Drops an unfinished upload and its parts. Throws `BLOB_NOT_FOUND` for an unknown upload. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    checkKey(key);
    checkUploadId(uploadId);
    await this.#send(key, () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })), uploadId);
  }

  /** A URL to GET `key` from. Signing is local: it neither checks that the object exists nor calls S3. */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    checkKey(key);
    checkExpiry(expiresInSeconds);
    return this.#send(key, () => getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds }));
  }

  /**
   * A URL to PUT one whole object (at most 5 GB, S3's single-PUT limit) to `key`. Local signing, like
   * {@link presignGet}; the size is not bound into the URL, so a caller that needs one checks it with {@link head}.
   */
  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    checkKey(key);
    checkExpiry(expiresInSeconds);
    return this.#send(key, () => getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds }));
  }

  /** Runs one SDK call and maps its failure onto the error root. */
  async #send<T>(key: string, call: () => Promise<T>, uploadId?: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw mapS3Error(err, this.bucket, key, uploadId);
    }
  }
}

/**
 * Maps an SDK failure to a {@link ProvenaError}. Exported for the adapter's unit tests.
 *
 * `NoSuchKey` (GET) and `NotFound` (HEAD has no body, so the SDK names it by status) are `BLOB_NOT_FOUND`;
 * `NoSuchUpload` too, with the upload id in `details`. `InvalidRange` is the caller's mistake:
 * `VALIDATION_FAILED`. Anything else is `DEPENDENCY_FAILED`, keeping the SDK error as `cause`.
 */
export function mapS3Error(err: unknown, bucket: string, key: string, uploadId?: string): ProvenaError {
  if (err instanceof ProvenaError) return err;
  // Duck-typed: errors from Node's fetch/http can come from another realm (e.g. jest's vm), failing instanceof.
  const e = typeof err === 'object' && err !== null ? (err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } }) : {};
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'NoSuchKey' || name === 'NotFound') {
    return new NotFoundError('BLOB_NOT_FOUND', `No object ${key} in bucket ${bucket}`, { cause: err, details: { bucket, key } });
  }
  if (name === 'NoSuchUpload') {
    return new NotFoundError('BLOB_NOT_FOUND', `No multipart upload ${uploadId ?? ''} for ${key} in bucket ${bucket}`, {
      cause: err,
      details: { bucket, key, ...(uploadId === undefined ? {} : { uploadId }) },
    });
  }
  if (name === 'InvalidRange') {
    return new ValidationError(`Range not satisfiable for ${key}`, [{ path: ['range'], message: 'not satisfiable' }], err);
  }
  const status = e.$metadata?.httpStatusCode;
  const what = typeof e.message === 'string' ? `${name}: ${e.message}` : String(err);
  return new DependencyError('DEPENDENCY_FAILED', `S3 failed on ${bucket}/${key}: ${what}`, {
    cause: err,
    ...(status === undefined ? {} : { details: { status } }),
  });
}

function checkKey(key: string): void {
  // S3 keys are 1..1024 bytes of UTF-8.
  if (key === '' || Buffer.byteLength(key, 'utf8') > 1024) {
    throw new ValidationError('key must be 1..1024 bytes', [{ path: ['key'], message: 'invalid length' }]);
  }
}

function checkUploadId(uploadId: string): void {
  if (uploadId === '') throw new ValidationError('uploadId must not be empty', [{ path: ['uploadId'], message: 'empty' }]);
}

function checkExpiry(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new ValidationError(`expiresInSeconds must be an integer in 1..${MAX_PRESIGN_SECONDS}`, [{ path: ['expiresInSeconds'], message: 'out of range' }]);
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

/** Re-chunks a byte stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* chunksOf(source: Readable, size: number): AsyncGenerator<Uint8Array> {
  let buf = Buffer.alloc(size);
  let filled = 0;
  for await (const piece of source) {
    // A Readable in object mode could yield strings; the port promises bytes, so encode strings as UTF-8.
    let chunk: Buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece as Uint8Array);
    while (chunk.byteLength > 0) {
      const n = Math.min(size - filled, chunk.byteLength);
      chunk.copy(buf, filled, 0, n);
      filled += n;
      chunk = chunk.subarray(n);
      if (filled === size) {
        yield buf;
        buf = Buffer.alloc(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}
