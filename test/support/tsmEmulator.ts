/**
 * A configfs-tsm emulator for tests: a real directory standing for `/sys/kernel/config/tsm/report`, plus a polling
 * responder (in this process, on a timer) that plays the kernel's part:
 * - a new report directory gets `provider` and `generation` (`0`);
 * - when `inblob` appears or changes, the responder calls `respond(inblob, provider)`, writes `outblob` and
 *   `auxblob`, then bumps `generation` (written by rename, so a reader never sees half a number).
 *
 * It differs from configfs in two ways the attestor tolerates (gpu-workers/agent/tsm/configfsTsm.ts): attributes
 * appear a poll later than the `mkdir`, and the report comes after the write instead of on the read of `outblob`.
 * `interfere` simulates a concurrent writer: for that many requests, `generation` moves by two instead of one.
 * No FUSE, no root: everything it does is visible as files, and `requests` records every inblob it answered.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the emulated TSM answers for one inblob. */
export interface TsmResponse {
  outblob: Uint8Array;
  auxblob?: Uint8Array;
}

/** Options of {@link startTsmEmulator}. */
export interface TsmEmulatorOptions {
  provider: string;
  respond: (inblob: Buffer, provider: string) => TsmResponse;
  /** How many of the first requests see a concurrent writer (generation +2). Default 0. */
  interfere?: number;
  pollMs?: number;
}

/** A running emulator. */
export interface TsmEmulator {
  /** The directory to pass as the report root. */
  root: string;
  /** Every inblob answered, in order. */
  requests: Buffer[];
  /** Every report directory seen (names). */
  reportDirs: string[];
  /** Stops the responder and removes the directory. */
  stop(): void;
}

function writeAtomic(dir: string, name: string, data: Uint8Array | string): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, join(dir, name));
}

/** Starts an emulator under a fresh temporary directory. */
export function startTsmEmulator(o: TsmEmulatorOptions): TsmEmulator {
  const root = mkdtempSync(join(tmpdir(), 'provena-tsm-'));
  const requests: Buffer[] = [];
  const reportDirs: string[] = [];
  const seen = new Map<string, { mtimeMs: number; size: number } | null>();
  let interfere = o.interfere ?? 0;
  const tick = (): void => {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = join(root, name);
      try {
        if (!seen.has(name)) {
          seen.set(name, null);
          reportDirs.push(name);
          writeAtomic(dir, 'provider', `${o.provider}\n`);
          writeAtomic(dir, 'generation', '0\n');
          continue;
        }
        const st = statSync(join(dir, 'inblob'));
        // Created but not written yet (writeFile opens with O_TRUNC, then writes): configfs has no such state, a
        // write to inblob is one store. Counting it answered an empty inblob (CI saw one under load).
        if (st.size === 0) continue;
        const last = seen.get(name);
        if (last !== null && last !== undefined && last.mtimeMs === st.mtimeMs && last.size === st.size) continue;
        seen.set(name, { mtimeMs: st.mtimeMs, size: st.size });
        const inblob = readFileSync(join(dir, 'inblob'));
        requests.push(inblob);
        const r = o.respond(inblob, o.provider);
        writeAtomic(dir, 'outblob', r.outblob);
        writeAtomic(dir, 'auxblob', r.auxblob ?? new Uint8Array());
        const g = Number(readFileSync(join(dir, 'generation'), 'utf8').trim());
        const step = interfere > 0 ? 2 : 1;
        if (interfere > 0) interfere--;
        writeAtomic(dir, 'generation', `${g + step}\n`);
      } catch {
        // The attestor removed the directory meanwhile, or inblob is not written yet: next tick.
      }
    }
  };
  const timer = setInterval(tick, o.pollMs ?? 3);
  return {
    root,
    requests,
    reportDirs,
    stop() {
      clearInterval(timer);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
