/**
 * What `infra/worker/build.sh` leaves in dist/worker/ and how the app reads it: the agent bundle (always built,
 * esbuild) and, where docker and nitro-cli ran, the EIF with nitro-cli's `build-enclave` JSON (eif.json), whose
 * `Measurements.PCR0` is the `kms:RecipientAttestation:ImageSha384` the key-gate key policy allows.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The build outputs found under `dir` (dist/worker). */
export interface EnclaveBuild {
  /** The agent bundle (main.js), when built. */
  agentBundle: string | undefined;
  /** The EIF file, when nitro-cli built one. */
  eif: string | undefined;
  /** PCR0 from eif.json (96 hex digits, lower case), when nitro-cli built one. */
  pcr0: string | undefined;
}

/** Reads dist/worker/ (or `dir`). A malformed eif.json is an error: a wrong PCR0 would lock the enclave out. */
export function readEnclaveBuild(dir: string): EnclaveBuild {
  const bundle = path.join(dir, 'agent', 'main.js');
  const eif = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.eif')) : undefined;
  const json = path.join(dir, 'eif.json');
  let pcr0: string | undefined;
  if (existsSync(json)) {
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as { Measurements?: { PCR0?: unknown } };
    const value = parsed.Measurements?.PCR0;
    if (typeof value !== 'string' || !/^[0-9a-fA-F]{96}$/.test(value)) throw new Error(`${json}: Measurements.PCR0 is not 96 hex digits (SHA-384)`);
    pcr0 = value.toLowerCase();
  }
  return { agentBundle: existsSync(bundle) ? bundle : undefined, eif: eif ? path.join(dir, eif) : undefined, pcr0 };
}

/**
 * The environment with PROVENA_ENCLAVE_PCR0 taken from the build output when it is not set: a set variable wins
 * (a release pins it); a different PCR0 in the build output is reported by the plan, not silently used.
 */
export function withBuiltPcr0(env: Record<string, string | undefined>, build: EnclaveBuild): Record<string, string | undefined> {
  if (env.PROVENA_ENCLAVE_PCR0 !== undefined || build.pcr0 === undefined) return env;
  return { ...env, PROVENA_ENCLAVE_PCR0: build.pcr0 };
}

/** One line for `npm run deploy:plan`: whether an agent bundle, an EIF and a PCR0 are present, and from where. */
export function enclavePlanLine(env: Record<string, string | undefined>, build: EnclaveBuild): string {
  const agent = build.agentBundle ? `agent bundle ${build.agentBundle}` : 'no agent bundle (run infra/worker/build.sh)';
  const eif = build.eif ? `EIF ${build.eif}` : 'no EIF (nitro-cli did not run: needs docker + aws-nitro-enclaves-cli)';
  const set = env.PROVENA_ENCLAVE_PCR0?.toLowerCase();
  let pcr0: string;
  if (set && build.pcr0 && set !== build.pcr0) pcr0 = `PCR0 from PROVENA_ENCLAVE_PCR0 ${set.slice(0, 16)}… DIFFERS from the built EIF's ${build.pcr0.slice(0, 16)}…: the key policy admits the configured one`;
  else if (set) pcr0 = `PCR0 ${set.slice(0, 16)}… from PROVENA_ENCLAVE_PCR0`;
  else if (build.pcr0) pcr0 = `PCR0 ${build.pcr0.slice(0, 16)}… from the built EIF (eif.json)`;
  else pcr0 = 'no PCR0: the key policy admits no enclave, so training-only datasets cannot be released to workers';
  return `enclave: ${agent}; ${eif}; ${pcr0}`;
}
