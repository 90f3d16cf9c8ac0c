import * as z from 'zod';
import { hexBytes } from './common.js';

/** Body of `POST /v1/datasets/{id}/registration`: the owner's signature over the typed data from the GET. */
export const RegistrationBody = z.strictObject({
  nonce: z.string().regex(/^[0-9]{1,78}$/, 'must be the nonce from the typed data'),
  deadline: z.string().regex(/^[0-9]{1,20}$/, 'must be the deadline from the typed data'),
  signature: hexBytes(4096, 'must be 0x-prefixed hex'),
});
export type RegistrationBody = z.output<typeof RegistrationBody>;

/** `GET /v1/datasets/{id}/registration`: the EIP-712 typed data the owner signs (`Registration` or `Update`). */
export const RegistryTypedData = z.object({
  domain: z.object({ name: z.string().nullish(), version: z.string().nullish(), chainId: z.union([z.number(), z.string(), z.bigint()]).nullish(), verifyingContract: z.string().nullish() }),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.enum(['Registration', 'Update']),
  message: z.record(z.string(), z.unknown()).and(z.object({ nonce: z.string(), deadline: z.string() })),
});
export type RegistryTypedData = z.output<typeof RegistryTypedData>;
