import type { z } from 'zod';
import type { DataFormat, ManifestFile } from '../schemas/encryptedManifest.js';
import type { HealthCheck } from './Health.js';

/** An upload session as stored (the S3 upload id and object key never leave the server). */
export interface StoredUpload {
  uploadId: string;
  datasetId: string;
  owner: string;
  dataVersion: number;
  status: 'open' | 'completed';
  format: DataFormat;
  plaintextSize: number;
  chunkSize: number;
  files?: z.output<typeof ManifestFile>[];
  objectKey: string;
  s3UploadId: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * Upload sessions. Adapter: `DynamoUploadRepo`. Completing is one conditional write (`status = open`), so two
 * concurrent completes cannot both publish.
 */
export interface UploadRepo extends HealthCheck {
  create(upload: StoredUpload): Promise<void>;
  get(uploadId: string): Promise<StoredUpload | undefined>;
  /** Marks the session completed; throws `CONFLICT` if it was not open. */
  markCompleted(uploadId: string): Promise<void>;
  /**
   * An owner's open sessions, newest first, not yet expired at `now` (`cursor`: the adapter's own, opaque). A
   * page may hold fewer than `limit` items while `nextCursor` is set (expired sessions are filtered out).
   */
  listOpenByOwner(owner: string, page: { limit: number; cursor?: string; now: Date }): Promise<{ items: StoredUpload[]; nextCursor?: string }>;
}
