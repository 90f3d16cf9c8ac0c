import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { enclavePlanLine, readEnclaveBuild, withBuiltPcr0 } from './enclaveBuild.js';

const PCR0 = 'AB'.repeat(48);

function dist(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'provena-enclave-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** nitro-cli build-enclave's JSON output, as it prints it (PCRs in upper-case hex). */
const eifJson = (pcr0: string) => JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr0, PCR1: 'CD'.repeat(48), PCR2: 'EF'.repeat(48) } });

describe('the enclave build output', () => {
  it("reads PCR0 from nitro-cli's eif.json and feeds it to the key policy when PROVENA_ENCLAVE_PCR0 is unset", () => {
    const build = readEnclaveBuild(dist({ 'agent/main.js': '', 'provena-enclave-0.1.0.eif': 'x', 'eif.json': eifJson(PCR0) }));
    expect(build.pcr0).toBe(PCR0.toLowerCase());
    expect(build.eif).toMatch(/provena-enclave-0\.1\.0\.eif$/);
    expect(withBuiltPcr0({}, build).PROVENA_ENCLAVE_PCR0).toBe(PCR0.toLowerCase());
    expect(enclavePlanLine({}, build)).toMatch(/EIF .*; PCR0 abababababababab… from the built EIF/);
  });

  it('keeps a configured PCR0 and says when the built one differs', () => {
    const build = readEnclaveBuild(dist({ 'eif.json': eifJson(PCR0) }));
    const env = { PROVENA_ENCLAVE_PCR0: 'cd'.repeat(48) };
    expect(withBuiltPcr0(env, build).PROVENA_ENCLAVE_PCR0).toBe('cd'.repeat(48));
    expect(enclavePlanLine(env, build)).toContain('DIFFERS');
  });

  it('says that no EIF and no PCR0 are present when nitro-cli never ran', () => {
    const build = readEnclaveBuild(dist({ 'agent/main.js': '' }));
    expect(build).toMatchObject({ eif: undefined, pcr0: undefined });
    expect(enclavePlanLine({}, build)).toMatch(/agent bundle .*main\.js; no EIF \(nitro-cli did not run.*; no PCR0: the key policy admits no enclave/);
  });

  it('refuses an eif.json whose PCR0 is not a SHA-384', () => {
    expect(() => readEnclaveBuild(dist({ 'eif.json': eifJson('abc') }))).toThrow(/not 96 hex digits/);
  });
});
