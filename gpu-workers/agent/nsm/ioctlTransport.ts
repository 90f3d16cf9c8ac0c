/**
 * The production {@link NsmTransport}: one `python3 nsm_ioctl.py` run per request (Node cannot issue an ioctl;
 * the helper uses only Python's standard library: ctypes builds the two iovecs, fcntl.ioctl makes the call, see
 * its docstring). The enclave image must carry python3; a native addon or the nsm-api crate's CLI could replace it
 * behind the same interface.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenaError } from '../../../shared/errors.js';
import { NSM_RESPONSE_MAX_BYTES, type NsmTransport } from './nsmClient.js';

/** The helper script's path. */
export const NSM_IOCTL_HELPER = join(dirname(fileURLToPath(import.meta.url)), 'nsm_ioctl.py');

/** Options: the device and the interpreter. */
export interface IoctlTransportOptions {
  device?: string;
  python?: string;
  timeoutMs?: number;
}

/** Runs the helper with `args`, `input` on stdin; resolves with its stdout, exit code and stderr. */
export function runHelper(args: string[], input: Uint8Array, o: IoctlTransportOptions = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.python ?? 'python3', [NSM_IOCTL_HELPER, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 10_000);
    child.stdout.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= NSM_RESPONSE_MAX_BYTES + 1) out.push(b);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s.slice(0, 2000)));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new ProvenaError('WORKER_NSM_UNAVAILABLE', `cannot run the NSM helper: ${e.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: stderr.trim() });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(Buffer.from(input));
  });
}

/** `/dev/nsm` through the helper. Throws `WORKER_NSM_UNAVAILABLE` when the device or the helper fails. */
export function ioctlTransport(o: IoctlTransportOptions = {}): NsmTransport {
  return {
    async request(bytes) {
      const r = await runHelper(['--device', o.device ?? '/dev/nsm'], bytes, o);
      if (r.code !== 0) throw new ProvenaError('WORKER_NSM_UNAVAILABLE', `the NSM helper failed (exit ${r.code}): ${r.stderr || 'no message'}`);
      return r.stdout;
    },
  };
}
