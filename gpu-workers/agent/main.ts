#!/usr/bin/env node
/**
 * `provena-worker` (`npm run worker`): one training worker. Configuration from the environment only (see
 * config.ts); `--help` lists it. Exit status 0 after a clean stop (a spot notice or SIGTERM wound down, or
 * PROVENA_WORKER_ONCE finished), 1 on a configuration or API failure.
 */
import { Command } from 'commander';
import { Wallet } from 'ethers';
import { ProvenaClient } from '../../shared/sdk/client.js';
import { runWorker, type AgentControl } from './agent.js';
import { attestorFor } from './attestor.js';
import { WorkerConfigSchema, loadWorkerConfig } from './config.js';
import { onTerminationSignal, pollSpotInterruptions } from './interruptions.js';

/** One log line as JSON on stderr (no row data is ever passed here). */
function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), msg, ...fields })}\n`);
}

const variables = Object.keys(WorkerConfigSchema.shape)
  .map((k) => `  ${k}`)
  .join('\n');

const program = new Command('provena-worker')
  .description('Provena training worker: lease jobs, attest, decrypt and anonymize in memory, train, report usage, deliver the model')
  .addHelpText('after', `\nConfiguration (environment variables):\n${variables}\n\nSee gpu-workers/agent/README.md.`)
  .action(async () => {
    const config = loadWorkerConfig();
    const operator = new Wallet(config.PROVENA_WORKER_OPERATOR_KEY);
    const probe = await new ProvenaClient({ baseUrl: config.PROVENA_API_URL, chainId: 0 }).health();
    const api = new ProvenaClient({ baseUrl: config.PROVENA_API_URL, chainId: probe.chainId, signer: operator });
    const attestor = attestorFor(config.PROVENA_WORKER_ATTESTOR, { devRootDir: config.PROVENA_WORKER_DEV_ROOT_DIR });
    const control: AgentControl = { cancel: false };
    const onNotice = (n: AgentControl['notice']): void => {
      if (control.notice || !n) return;
      control.notice = n;
      log('interruption notice', { source: n.source, action: n.action, deadline: n.deadline.toISOString() });
    };
    const stopSignals = onTerminationSignal(onNotice);
    const poller = config.PROVENA_WORKER_IMDS_URL
      ? pollSpotInterruptions({ baseUrl: config.PROVENA_WORKER_IMDS_URL, intervalMs: config.PROVENA_WORKER_IMDS_POLL_SECONDS * 1000, onNotice, onError: (e) => log('imds poll failed', { error: String(e) }) })
      : undefined;
    log('worker started', { operator: operator.address, attestor: attestor.kind, modes: config.PROVENA_WORKER_MODES });
    try {
      const outcomes = await runWorker({ config, api, attestor, log }, control);
      log('worker stopped', { outcomes: outcomes.map((o) => o.kind) });
    } finally {
      poller?.stop();
      stopSignals();
    }
  });

program.parseAsync(process.argv).then(
  () => process.exit(0),
  (e: unknown) => {
    log('worker failed', { code: (e as { code?: string }).code ?? 'INTERNAL', error: (e as Error).message });
    process.exit(1);
  },
);
