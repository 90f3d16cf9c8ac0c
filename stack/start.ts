/**
 * `npm start`: brings up the embedded stack and serves the API until Ctrl-C.
 * Settings come from environment variables (see `npm start -- --help`).
 */
import { startLocalWorker, type LocalWorker } from '../gpu-workers/agent/localWorker.js';
import { checkTrainerRuntime } from '../gpu-workers/trainer/runtime.mjs';
import { ConfigError } from '../shared/errors.js';
import { devAccountKey } from './embeddedChain.js';
import { STACK_WORKER_OPERATOR_ACCOUNTS, startStack } from './stack.js';

const HELP = `Usage: npm start [-- --help]

Starts Provena on this machine, on loopback only: a Hardhat chain with the contracts deployed, DynamoDB
(dynalite), S3 (s3rver), an in-process IPFS store, and the HTTP API serving the Lambda handlers.

Environment (all optional):
  PROVENA_DATA_DIR        where state lives (default .provena); a restart keeps listings
  PROVENA_API_PORT        API port (default 8787)
  PROVENA_CHAIN_PORT      Hardhat node port (default 8545)
  PROVENA_DYNAMODB_PORT   dynalite port (default 8000)
  PROVENA_S3_PORT         embedded S3 port (default 4568; SigV4-verified in front of s3rver)
                          a port set to 0: one the OS picks (printed once started; also in PROVENA_READY_FILE)
  PROVENA_S3_ACCESS_KEY_ID, PROVENA_S3_SECRET_ACCESS_KEY
                          the one key pair the embedded S3 accepts (default S3RVER / S3RVER)
  PROVENA_CHAIN_RPC_URL   use this chain instead of starting one
  PROVENA_DEPLOYER_KEY    key that deploys the contracts (default: Hardhat dev account #0)
  PROVENA_LOG_LEVEL       API log level: DEBUG | INFO | WARN | ERROR | SILENT (default INFO;
                          one JSON line per request)
  PROVENA_READY_FILE      write a JSON description of the running stack here
  PROVENA_START_WORKER    run one CPU training worker beside the stack (default true; needs the
                          trainer venv from \`npm run setup:trainer\`; dev attestor, operator dev account 20)
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}

const t0 = Date.now();
const log = (line: string) => process.stdout.write(`[provena] ${line}\n`);
try {
  const { info, stop } = await startStack(process.env, log);
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  let worker: LocalWorker | undefined;
  if (!['false', '0'].includes(process.env.PROVENA_START_WORKER ?? '')) {
    const trainer = checkTrainerRuntime();
    if (trainer.ok) {
      worker = startLocalWorker({
        apiUrl: info.apiUrl,
        operatorKey: devAccountKey(STACK_WORKER_OPERATOR_ACCOUNTS[0]),
        devRootDir: info.dataDir,
        workerId: 'stack-cpu-worker',
        onLog: (line) => process.stdout.write(`[worker] ${line}\n`),
      });
    } else log(`no training worker: ${trainer.reason}`);
  }
  process.stdout.write(
    [
      '',
      `  API        ${info.apiUrl}   (health: ${info.apiUrl}/v1/health, docs: ${info.apiUrl}/v1/openapi.json)`,
      `  console    ${info.apiUrl}/   (the web console, built by npm run build:web)`,
      `  chain      ${info.rpcUrl}   (chain id ${info.chainId}${info.chainLog ? `, log ${info.chainLog}` : ''})`,
      `  contracts  ${info.deploymentFile}`,
      `  DynamoDB   ${info.dynamodbEndpoint}   (dynalite)`,
      `  S3         ${info.s3Endpoint}   (s3rver)`,
      `  IPFS       in-process UnixFS store at ${info.ipfsDir}`,
      `  data       ${info.dataDir}`,
      `  worker     ${worker ? 'one CPU training worker (dev attestor)' : 'none'}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down ...`);
    (worker ? worker.stop(30_000) : Promise.resolve(null)).then(() => stop()).then(
      () => {
        log('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`[provena] ${err.message}\n`);
  } else {
    process.stderr.write(`[provena] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
}
