import { z } from 'zod';
import { DatasetIdParams } from '../datasets/params.js';

/** Path parameters of `/v1/datasets/{id}/uploads/{uploadId}`. */
export const UploadParams = DatasetIdParams.extend({ uploadId: z.string().regex(/^up_[0-9a-z]{26}$/, 'must be an upload id (up_ + 26 base32 characters)') });
