import { z } from 'zod';

/** Path parameters of `/v1/datasets/{id}`. */
export const DatasetIdParams = z.object({ id: z.string().regex(/^ds_[0-9a-z]{26}$/, 'must be a dataset id (ds_ + 26 base32 characters)') });
