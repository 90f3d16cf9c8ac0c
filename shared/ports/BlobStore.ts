import type { Readable } from 'node:stream';
import type { HealthCheck } from './Health.js';

/** Metadata of a stored object. */
export interface BlobHead {
  key: string;
  size: number;
  etag: string;
  contentType?: string;
}

/** One part of a multipart upload as S3 reports it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/**
 * Object storage with S3 semantics (one bucket per store). The same adapter (`S3BlobStore`) serves AWS S3 and
 * the embedded s3rver: only the endpoint differs. Presigned URLs let clients move ciphertext without the
 * bytes passing through a Lambda.
 */
export interface BlobStore extends HealthCheck {
  readonly bucket: string;
  put(key: string, body: Uint8Array | Readable, options?: { contentType?: string; contentLength?: number }): Promise<{ etag: string }>;
  /** Streams the object; throws `BLOB_NOT_FOUND`. `range` is inclusive, as in HTTP. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Undefined when there is no such object. */
  head(key: string): Promise<BlobHead | undefined>;
  delete(key: string): Promise<void>;
  /** Lists keys under `prefix`, a page at a time. */
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<{ items: BlobHead[]; cursor?: string }>;

  createMultipartUpload(key: string, options?: { contentType?: string }): Promise<{ uploadId: string }>;
  /** A URL the holder can PUT one part's bytes to, valid for `expiresInSeconds`. */
  presignUploadPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<{ etag: string }>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /** A URL the holder can GET the object from, valid for `expiresInSeconds`. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  /** A URL the holder can PUT one whole object (at most 5 GB) to, valid for `expiresInSeconds`. */
  presignPut(key: string, expiresInSeconds: number): Promise<string>;
}
