/**
 * The NVIDIA GPU report for the `tsm` attestor: NVML's confidential-computing attestation report over a 32-byte
 * nonce plus the GPU's attestation certificate chain, fetched by `nvml_report.py` (pynvml) since Node has no NVML
 * binding. The documents are shaped as shared/attestation/nvidia.ts's verifier takes them: `{report, certChain}`.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvenaError } from '../../../shared/errors.js';

/** The helper script's path. */
export const NVML_REPORT_HELPER = join(dirname(fileURLToPath(import.meta.url)), 'nvml_report.py');

/** One GPU report: the SPDM request + signed response, and the certificate chain (PEM, leaf first). */
export interface GpuReport {
  report: Buffer;
  certChain: Buffer;
}

/** Produces a GPU report over a 32-byte nonce. */
export interface GpuReporter {
  report(nonce: Buffer): Promise<GpuReport>;
}

/** Options of {@link nvmlGpuReporter}. */
export interface NvmlGpuReporterOptions {
  python?: string;
  gpuIndex?: number;
  timeoutMs?: number;
  /** Extra environment for the helper (PATH is always passed; PYTHONPATH and LD_LIBRARY_PATH when set). */
  env?: Record<string, string>;
}

const MAX_OUTPUT = 64 * 1024;

/** The production {@link GpuReporter}: one `python3 nvml_report.py` run per report. Throws `WORKER_GPU_REPORT_UNAVAILABLE`. */
export function nvmlGpuReporter(o: NvmlGpuReporterOptions = {}): GpuReporter {
  return {
    report(nonce) {
      if (nonce.length !== 32) return Promise.reject(new ProvenaError('WORKER_GPU_REPORT_UNAVAILABLE', 'the GPU nonce must be 32 bytes'));
      const inherited = Object.fromEntries(['PATH', 'PYTHONPATH', 'LD_LIBRARY_PATH'].flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));
      return new Promise((resolve, reject) => {
        const child = spawn(o.python ?? 'python3', [NVML_REPORT_HELPER, '--nonce', nonce.toString('hex'), '--gpu', String(o.gpuIndex ?? 0)], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { PATH: '/usr/bin:/bin', ...inherited, ...o.env },
        });
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
        child.stdout.setEncoding('utf8').on('data', (s: string) => {
          if (stdout.length < MAX_OUTPUT) stdout += s;
        });
        child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s.slice(0, 2000)));
        child.once('error', (e) => {
          clearTimeout(timer);
          reject(new ProvenaError('WORKER_GPU_REPORT_UNAVAILABLE', `cannot run the NVML helper: ${e.message}`));
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          if (code !== 0) return reject(new ProvenaError('WORKER_GPU_REPORT_UNAVAILABLE', `the NVML helper failed (exit ${code}): ${stderr.trim() || 'no message'}`));
          try {
            const j = JSON.parse(stdout) as { report?: unknown; certChain?: unknown };
            if (typeof j.report !== 'string' || typeof j.certChain !== 'string') throw new Error('report or certChain missing');
            resolve({ report: Buffer.from(j.report, 'base64'), certChain: Buffer.from(j.certChain, 'base64') });
          } catch (e) {
            reject(new ProvenaError('WORKER_GPU_REPORT_UNAVAILABLE', `the NVML helper's output does not parse: ${(e as Error).message}`));
          }
        });
      });
    },
  };
}
