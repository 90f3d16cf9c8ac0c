#!/usr/bin/env node
/**
 * `provena-worker-parent`: the Nitro parent instance's side. Listens on `PROVENA_NITRO_SOCKET` for the enclave
 * (through the vsock bridge, see ./README.md), runs the trainer on the GPU with the anonymized frames it gets,
 * proxies the enclave's HTTP requests, and forwards spot notices (IMDSv2) and SIGTERM to the enclave. It never has
 * the operator key or a data key. Exits 0 once the enclave closed the channel cleanly, 1 otherwise.
 */
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { startTrainer } from '../trainerDriver.js';
import { onTerminationSignal, pollSpotInterruptions, type InterruptionNotice } from '../interruptions.js';
import { loadParentConfig } from './config.js';
import { ParentHost } from './parentSide.js';
import { BOOT_ORIGIN } from './boot.js';
import { withBootService } from './bootService.js';
import { KMSClient } from '@aws-sdk/client-kms';

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), side: 'parent', msg, ...fields })}\n`);
}

async function main(): Promise<number> {
  const config = loadParentConfig();
  mkdirSync(config.PROVENA_PARENT_WORK_DIR, { recursive: true, mode: 0o700 });
  rmSync(config.PROVENA_NITRO_SOCKET, { force: true });
  const tapFile = config.PROVENA_PARENT_TAP_FILE;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const server = createServer({ allowHalfOpen: false }, (s) => {
      server.close(); // one enclave per parent
      resolve(s);
    });
    server.once('error', reject);
    server.listen(config.PROVENA_NITRO_SOCKET, () => log('parent listening', { socket: config.PROVENA_NITRO_SOCKET }));
  });
  const kms = config.PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT
    ? new KMSClient({ ...(config.PROVENA_KMS_ENDPOINT ? { endpoint: config.PROVENA_KMS_ENDPOINT } : {}) })
    : undefined;
  // The enclave's boot (settings, the sealed operator key) is answered here; every other request goes to the network.
  const proxyFetch = withBootService({
    env: process.env,
    ...(kms && config.PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT
      ? {
          sealedOperatorKey: {
            ciphertext: Buffer.from(config.PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT, 'base64'),
            kms,
            ...(config.PROVENA_WORKER_OPERATOR_KMS_KEY_ID ? { keyId: config.PROVENA_WORKER_OPERATOR_KMS_KEY_ID } : {}),
          },
        }
      : {}),
    log,
  });
  const host = new ParentHost(socket, {
    fetch: proxyFetch,
    workDir: config.PROVENA_PARENT_WORK_DIR,
    startTrainer: () => startTrainer({ threads: config.PROVENA_TRAINER_THREADS, onLog: (l) => log('trainer', { line: l }) }),
    ...(config.PROVENA_PARENT_PROXY_ORIGINS ? { allowedOrigins: [...config.PROVENA_PARENT_PROXY_ORIGINS, BOOT_ORIGIN] } : {}),
    ...(tapFile ? { tap: (source: string, bytes: Buffer) => appendFileSync(tapFile, Buffer.concat([Buffer.from(`\n--${source}--\n`), bytes])) } : {}),
    log,
  });
  log('enclave connected');
  let noticed = false;
  const onNotice = (n: InterruptionNotice): void => {
    if (noticed) return;
    noticed = true;
    log('interruption notice: forwarded to the enclave', { source: n.source, deadline: n.deadline.toISOString() });
    host.notice(n).catch(() => {});
  };
  const stopSignals = onTerminationSignal(onNotice);
  const poller = config.PROVENA_WORKER_IMDS_URL
    ? pollSpotInterruptions({ baseUrl: config.PROVENA_WORKER_IMDS_URL, intervalMs: config.PROVENA_WORKER_IMDS_POLL_SECONDS * 1000, onNotice, onError: (e) => log('imds poll failed', { error: String(e) }) })
    : undefined;
  const error = await host.closed;
  poller?.stop();
  stopSignals();
  host.end();
  log('enclave disconnected', error ? { code: (error as { code?: string }).code ?? 'INTERNAL', error: error.message } : {});
  return error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log('parent failed', { code: (e as { code?: string }).code ?? 'INTERNAL', error: (e as Error).message });
    process.exit(1);
  },
);
