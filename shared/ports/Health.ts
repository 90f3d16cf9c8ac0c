import type { ComponentHealth } from '../schemas/health.js';

export type { ComponentHealth };

/** Anything that can report its health. Every adapter implements it: the probe contacts the dependency for real. */
export interface HealthCheck {
  health(): Promise<ComponentHealth>;
}
