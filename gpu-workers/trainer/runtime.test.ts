import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAMP_FILE, checkTrainerRuntime, requirementsHash, venvPython } from './runtime.mjs';

describe('checkTrainerRuntime', () => {
  let venv: string;
  beforeEach(() => {
    venv = mkdtempSync(join(tmpdir(), 'trainer-venv-'));
  });
  afterEach(() => rmSync(venv, { recursive: true, force: true }));

  function fakeVenv(stamp: string | undefined): void {
    mkdirSync(join(venvPython(venv), '..'), { recursive: true });
    writeFileSync(venvPython(venv), '');
    if (stamp !== undefined) writeFileSync(join(venv, STAMP_FILE), stamp + '\n');
  }

  it('refuses, naming the setup command, when there is no environment', () => {
    const r = checkTrainerRuntime({ PROVENA_TRAINER_VENV: join(venv, 'missing') });

    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/npm run setup:trainer/);
  });

  it('refuses an environment built from another requirements.txt', () => {
    fakeVenv('0'.repeat(64));

    const r = checkTrainerRuntime({ PROVENA_TRAINER_VENV: venv });

    expect(!r.ok && r.reason).toMatch(/not built from the current requirements\.txt/);
  });

  it('accepts an environment stamped with the current requirements hash', () => {
    fakeVenv(requirementsHash());

    const r = checkTrainerRuntime({ PROVENA_TRAINER_VENV: venv });

    expect(r).toEqual({ ok: true, python: venvPython(venv), cwd: expect.stringMatching(/gpu-workers[\\/]trainer$/) });
  });
});
