#!/usr/bin/env node
// Builds the trainer's Python virtual environment (gpu-workers/trainer/requirements.txt) when it is missing or was
// built from another requirements.txt. Runs on `npm install` (postinstall) and as `npm run setup:trainer`.
//
// Never fails `npm install` on a machine without a usable Python: it prints a notice and exits 0, and the agent
// refuses to start with the reason (gpu-workers/trainer/runtime.mjs). Set PROVENA_TRAINER_REQUIRED=1 (CI) to make
// any failure exit non-zero. Environment: PROVENA_TRAINER_VENV (venv folder), PROVENA_PYTHON (interpreter to use),
// PROVENA_PIP_ARGS (extra pip flags; default `--retries 0 --timeout 5`: a machine with only a local wheel mirror
// otherwise spends minutes retrying the public index).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REQUIREMENTS, STAMP_FILE, checkTrainerRuntime, requirementsHash, trainerVenvDir, venvPython } from '../gpu-workers/trainer/runtime.mjs';

const required = process.env.PROVENA_TRAINER_REQUIRED === '1';

function giveUp(message) {
  console.error(`[setup-trainer] ${required ? 'ERROR' : 'notice'}: ${message}`);
  console.error('[setup-trainer] the training worker will refuse to start until `npm run setup:trainer` succeeds.');
  process.exit(required ? 1 : 0);
}

function findPython() {
  const candidates = process.env.PROVENA_PYTHON ? [process.env.PROVENA_PYTHON] : ['python3.11', 'python3.12', 'python3.13', 'python3', 'python'];
  for (const cmd of candidates) {
    const r = spawnSync(cmd, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [major, minor] = r.stdout.trim().split('.').map(Number);
    if (major === 3 && minor >= 11) return cmd;
  }
  return undefined;
}

function run(cmd, args) {
  console.log(`[setup-trainer] ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { stdio: 'inherit' }).status === 0;
}

const venv = trainerVenvDir();
if (checkTrainerRuntime().ok) {
  console.log(`[setup-trainer] ${venv} is up to date`);
  process.exit(0);
}
const python = findPython();
if (!python) giveUp('no Python >= 3.11 with the venv module found (set PROVENA_PYTHON to one)');

const hash = requirementsHash();
if (existsSync(venv)) rmSync(venv, { recursive: true, force: true });
const pipArgs = (process.env.PROVENA_PIP_ARGS ?? '--retries 0 --timeout 5').split(/\s+/).filter(Boolean);
const ok =
  run(python, ['-m', 'venv', venv]) &&
  run(venvPython(venv), ['-m', 'pip', 'install', '--disable-pip-version-check', ...pipArgs, '-r', REQUIREMENTS]) &&
  run(venvPython(venv), ['-c', 'import torch, numpy, safetensors, jsonschema, orjson; print("torch", torch.__version__)']);
if (!ok) {
  rmSync(venv, { recursive: true, force: true }); // no half-built venv that a later check could take for ready
  giveUp(`could not build ${venv} from ${REQUIREMENTS}`);
}
writeFileSync(join(venv, STAMP_FILE), hash + '\n');
console.log(`[setup-trainer] ready: ${venvPython(venv)}`);
