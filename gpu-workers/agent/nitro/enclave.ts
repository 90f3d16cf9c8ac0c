#!/usr/bin/env node
/**
 * `provena-worker-enclave`: the worker agent as it runs inside a Nitro enclave. It holds the operator key and the
 * attested key, decrypts and verifies data, anonymizes, meters and signs; it has no network and no GPU. Its only
 * link is the channel to the parent (`PROVENA_NITRO_SOCKET`, see ./README.md): API calls go through the parent's
 * proxy (the process's `fetch` is replaced by the channel's), the trainer runs on the parent. Exit status as
 * `provena-worker`'s.
 */
import { connect, type Socket } from 'node:net';
import { Wallet } from 'ethers';
import { ProvenaError } from '../../../shared/errors.js';
import { ProvenaClient } from '../../../shared/sdk/client.js';
import { runWorker, type AgentControl } from '../agent.js';
import { attestorFor } from '../attestor.js';
import { onTerminationSignal } from '../interruptions.js';
import { AttestorKind } from '../config.js';
import { fetchEnclaveBoot, mergeBootEnv, provisionOperatorKey } from './boot.js';
import { loadEnclaveBootstrap, loadEnclaveConfig, type EnclaveBootstrap, type EnclaveConfig } from './config.js';
import { EnclaveChannel } from './enclaveSide.js';

async function connectWithRetry(path: string, seconds: number): Promise<Socket> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > until) throw new ProvenaError('WORKER_CHANNEL_CLOSED', `cannot reach the parent at ${path}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The enclave's settings: from its environment (`PROVENA_ENCLAVE_BOOT=env`), or (`parent`) the parent's allowlisted
 * settings under the image's own, with the operator key released by KMS to this enclave's attestation (./boot.ts).
 */
async function bootConfig(bootstrap: EnclaveBootstrap, channel: EnclaveChannel, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<EnclaveConfig> {
  if (bootstrap.PROVENA_ENCLAVE_BOOT === 'env') return loadEnclaveConfig();
  const boot = await fetchEnclaveBoot(channel.fetch);
  const env = mergeBootEnv(boot, process.env);
  if (env.PROVENA_WORKER_OPERATOR_KEY === undefined) {
    if (boot.operatorKey !== 'sealed') throw new ProvenaError('WORKER_OPERATOR_KEY_UNAVAILABLE', 'the parent holds no sealed operator key and the enclave has none of its own');
    const attestor = attestorFor(AttestorKind.parse(env.PROVENA_WORKER_ATTESTOR ?? 'dev'), { devRootDir: env.PROVENA_WORKER_DEV_ROOT_DIR ?? '.provena' });
    env.PROVENA_WORKER_OPERATOR_KEY = await provisionOperatorKey({ fetch: channel.fetch, attestor });
    log('operator key released by KMS to this enclave', { attestor: attestor.kind });
  }
  return loadEnclaveConfig(env);
}

async function main(): Promise<void> {
  const bootstrap = loadEnclaveBootstrap();
  const socket = await connectWithRetry(bootstrap.PROVENA_NITRO_SOCKET, bootstrap.PROVENA_NITRO_CONNECT_SECONDS);
  const channel = new EnclaveChannel(socket);
  // One log line as JSON: to stderr (the enclave's debug console) and to the parent, which has the only real log.
  const log = (msg: string, fields: Record<string, unknown> = {}): void => {
    const line = JSON.stringify({ at: new Date().toISOString(), side: 'enclave', msg, ...fields });
    process.stderr.write(`${line}\n`);
    channel.log(line);
  };
  await Promise.race([channel.ready, channel.closed.then(() => Promise.reject(new ProvenaError('WORKER_CHANNEL_CLOSED', 'the parent closed the channel before hello')))]);
  // An enclave has no network: every request, including the SDK's and presigned URLs', goes through the parent.
  globalThis.fetch = channel.fetch;
  const config = await bootConfig(bootstrap, channel, log);

  const operator = new Wallet(config.PROVENA_WORKER_OPERATOR_KEY);
  const probe = await new ProvenaClient({ baseUrl: config.PROVENA_API_URL, chainId: 0, fetch: channel.fetch }).health();
  const api = new ProvenaClient({ baseUrl: config.PROVENA_API_URL, chainId: probe.chainId, signer: operator, fetch: channel.fetch });
  const attestor = attestorFor(config.PROVENA_WORKER_ATTESTOR, { devRootDir: config.PROVENA_WORKER_DEV_ROOT_DIR });
  if (attestor.mode !== 'nitro') throw new ProvenaError('CONFIG_INVALID', `the enclave process attests in Nitro mode; the ${attestor.kind} attestor proves ${attestor.mode}`);
  const control: AgentControl = { cancel: false };
  const onNotice = (n: AgentControl['notice']): void => {
    if (control.notice || !n) return;
    control.notice = n;
    log('interruption notice', { source: n.source, action: n.action, deadline: n.deadline.toISOString() });
  };
  channel.onNotice(onNotice);
  const stopSignals = onTerminationSignal(onNotice);
  log('enclave worker started', { operator: operator.address, attestor: attestor.kind, modes: config.PROVENA_WORKER_MODES });
  try {
    const outcomes = await runWorker({ config, api, attestor, log, startTrainer: () => channel.startTrainer() }, control);
    log('worker stopped', { outcomes: outcomes.map((o) => o.kind) });
  } finally {
    stopSignals();
    channel.end();
    // Exiting with unread bytes in the socket resets it (the parent would log ECONNRESET and exit 1): drain until the
    // parent closes its side, for at most 2 s.
    await Promise.race([channel.closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), side: 'enclave', msg: 'worker failed', code: (e as { code?: string }).code ?? 'INTERNAL', error: (e as Error).message })}\n`);
    process.exit(1);
  },
);
