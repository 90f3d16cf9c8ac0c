#!/usr/bin/env node
// Runs the trainer's pytest suite with the trainer's venv (`npm run test:trainer`, part of `npm test`).
// Without a ready venv it prints why and exits 0, unless PROVENA_TRAINER_REQUIRED=1 (CI), where that fails.
// Extra arguments go to pytest (e.g. `npm run test:trainer -- -k accountant`).
import { spawnSync } from 'node:child_process';
import { checkTrainerRuntime } from '../gpu-workers/trainer/runtime.mjs';

const rt = checkTrainerRuntime();
if (!rt.ok) {
  const required = process.env.PROVENA_TRAINER_REQUIRED === '1';
  console.error(`[test-trainer] ${required ? 'ERROR' : 'skipped'}: ${rt.reason}`);
  process.exit(required ? 1 : 0);
}
// Tiny models on shared cores: one thread each is fastest (see gpu-workers/trainer/README.md).
const env = { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' };
const r = spawnSync(rt.python, ['-m', 'pytest', ...process.argv.slice(2)], { cwd: rt.cwd, stdio: 'inherit', env });
process.exit(r.status ?? 1);
