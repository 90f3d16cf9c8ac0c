import * as z from 'zod';

/** What one component says about itself for `GET /v1/health`. Never a secret (no URLs with keys). */
export const ComponentHealth = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  /** Where it is or what it is (a host, a network name, an address). */
  detail: z.string().optional(),
  /** Round-trip time of the probe, in milliseconds. */
  latencyMs: z.number().optional(),
  /** Why it is down or degraded. */
  error: z.string().optional(),
});
export type ComponentHealth = z.output<typeof ComponentHealth>;

/** `GET /v1/health`: 200 when every component is ok, 503 otherwise. */
export const HealthReport = z.object({
  status: z.enum(['ok', 'degraded']),
  chainId: z.number().int(),
  contracts: z.record(z.string(), z.string()),
  components: z.record(z.string(), ComponentHealth),
});
export type HealthReport = z.output<typeof HealthReport>;
