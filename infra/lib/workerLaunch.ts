/**
 * How a GPU instance runs the Nitro worker pair, rendered from one typed configuration ({@link WorkerLaunchSchema}):
 * the instance's user data, the systemd units, the launcher script (`provena-nitro`), the CloudWatch agent's log
 * configuration, and the init script inside the enclave image. Nothing here is written by hand twice: the CDK
 * (constructs/GpuWorkers.ts) puts {@link renderUserData} in the launch template, and `infra/worker/build.sh` bakes
 * {@link renderEnclaveInit} (same socket and port defaults) into the EIF.
 *
 * On the instance (the parent, which owns the GPU and holds no secret):
 *  - `provena-parent.service`: `provena-nitro parent`, the parent process (trainer, proxy, boot service, IMDSv2
 *    spot-notice polling forwarded to the enclave; SIGTERM from systemd takes the same path). Restart always;
 *    stdout/stderr to /var/log/provena/parent.log, shipped to CloudWatch Logs.
 *  - `provena-vsock-bridge.service`: `provena-nitro bridge`, socat from the enclave's vsock port to the parent's
 *    Unix socket.
 *  - `provena-enclave.service`: `provena-nitro enclave`, `nitro-cli run-enclave` with the configured CPUs, memory,
 *    CID and EIF (never `--debug-mode` in production), then watches it; a stopped enclave fails the unit, which
 *    restarts it; stopping the unit terminates the enclave.
 *
 * Inside the enclave: socat from a local Unix socket to the parent's vsock port (CID 3), then the enclave agent in a
 * loop, booting from its parent (`PROVENA_ENCLAVE_BOOT=parent`: settings, and the operator key released by KMS to its
 * attestation, gpu-workers/agent/nitro/boot.ts), attesting with `nitro-nsm`.
 *
 * `PROVENA_NITRO_TRANSPORT=local` (in /etc/provena/launch.env or the environment) runs the same launcher without
 * Nitro hardware: `enclave` starts the enclave agent as a local process (clean environment, development attestor,
 * the parent's Unix socket directly) and `bridge` has nothing to bridge. It is the supported way to run the
 * instance's pair on a machine without enclaves (a GPU box for a trial, CI), not a secure mode: the "enclave" is a
 * process of the same host.
 */
import * as z from 'zod';

const AbsPath = z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path of [A-Za-z0-9._/-]');
const UnixSocket = AbsPath.max(107);
/** Environment values for systemd's EnvironmentFile and a shell heredoc: single-quoted, so no quote, newline or `$`. */
const EnvValue = z.string().regex(/^[^'\n\r\\]*$/, "no single quote, backslash or newline (systemd EnvironmentFile, single-quoted)");

/** The one configuration everything below is rendered from. */
export const WorkerLaunchSchema = z
  .strictObject({
    /** Production refuses debug mode (an enclave in debug mode exposes its console and attests PCRs of zeros). */
    production: z.boolean(),
    enclave: z
      .strictObject({
        /** vCPUs given to the enclave (nitro-cli: a multiple of the threads per core, 2 on x86). */
        cpuCount: z.number().int().min(2).max(64).multipleOf(2).default(2),
        /** MiB given to the enclave (the EIF's rootfs lives in it, plus the agent's heap and decrypted chunks). */
        memoryMib: z.number().int().min(1024).max(262_144).default(4096),
        /** The enclave's vsock CID (>= 4; 3 is the parent). */
        cid: z.number().int().min(4).max(4_294_967_294).default(16),
        name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/).default('provena-worker'),
        /** `--debug-mode` (console readable, PCRs zero): development only. */
        debugMode: z.boolean().default(false),
        /** Where the EIF lies on the instance. */
        eifPath: AbsPath.default('/opt/provena/enclave.eif'),
      })
      .prefault({}),
    /** The vsock port the parent listens on (the enclave connects to CID 3 on it). */
    vsockPort: z.number().int().min(1024).max(65_535).default(5005),
    /** The parent's Unix socket (socat's `UNIX-CONNECT` end). */
    parentSocket: UnixSocket.default('/run/provena/parent.sock'),
    /** The Unix socket inside the enclave (socat's `UNIX-LISTEN` end). */
    enclaveSocket: UnixSocket.default('/run/provena/enclave.sock'),
    /** Where the agent tarball is unpacked (parent.js, enclave.js, main.js, the trainer). */
    agentDir: AbsPath.default('/opt/provena/agent'),
    /** Where the launcher is written. */
    binDir: AbsPath.default('/opt/provena/bin'),
    logDir: AbsPath.default('/var/log/provena'),
    /** CloudWatch Logs group the instance's logs go to. */
    logGroup: z.string().min(1),
    /** IMDSv2, polled by the parent for spot interruption notices. */
    imdsUrl: z.string().default('http://169.254.169.254'),
    imdsPollSeconds: z.number().min(0.05).max(60).default(5),
    /** Seconds systemd waits after SIGTERM before SIGKILL (a spot notice gives 120 s). */
    stopTimeoutSeconds: z.number().int().min(10).max(600).default(110),
    /** `s3://…` of the agent tarball and of the EIF; unset: the instance says so in its journal and runs nothing. */
    agentS3Uri: z.string().optional(),
    eifS3Uri: z.string().optional(),
    /** The parent's environment (/etc/provena/worker.env): API URL, sealed operator key, proxy origins, … */
    env: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), EnvValue),
  })
  .superRefine((c, ctx) => {
    if (c.production && c.enclave.debugMode) {
      ctx.addIssue({ code: 'custom', path: ['enclave', 'debugMode'], message: 'debug mode is refused in production: the enclave console is readable and its attestation carries PCRs of zeros' });
    }
    if ('PROVENA_WORKER_OPERATOR_KEY' in c.env) {
      ctx.addIssue({ code: 'custom', path: ['env', 'PROVENA_WORKER_OPERATOR_KEY'], message: 'the parent never holds the operator key: seal it (PROVENA_WORKER_OPERATOR_KEY_CIPHERTEXT)' });
    }
  });
export type WorkerLaunchInput = z.input<typeof WorkerLaunchSchema>;
export type WorkerLaunch = z.output<typeof WorkerLaunchSchema>;

/** A file the user data writes. */
export interface RenderedFile {
  path: string;
  mode: string;
  content: string;
}

/** `nitro-cli run-enclave`'s arguments. */
export function runEnclaveArgs(c: WorkerLaunch): string[] {
  return [
    'run-enclave',
    '--enclave-name', c.enclave.name,
    '--cpu-count', String(c.enclave.cpuCount),
    '--memory', String(c.enclave.memoryMib),
    '--enclave-cid', String(c.enclave.cid),
    '--eif-path', c.enclave.eifPath,
    ...(c.enclave.debugMode ? ['--debug-mode'] : []),
  ];
}

/** socat's two addresses on the parent: accept the enclave's vsock connections, each to the parent's socket. */
export function parentBridgeArgs(c: WorkerLaunch): [string, string] {
  return [`VSOCK-LISTEN:${c.vsockPort},fork,reuseaddr`, `UNIX-CONNECT:${c.parentSocket}`];
}

/** socat's two addresses inside the enclave: a local socket whose connections reach the parent (CID 3). */
export function enclaveBridgeArgs(c: WorkerLaunch): [string, string] {
  return [`UNIX-LISTEN:${c.enclaveSocket},fork,unlink-early`, `VSOCK-CONNECT:3:${c.vsockPort}`];
}

/** The parent's variables the launcher adds to the configured ones. */
export function parentEnv(c: WorkerLaunch): Record<string, string> {
  return {
    PROVENA_NITRO_SOCKET: c.parentSocket,
    PROVENA_PARENT_WORK_DIR: '/var/lib/provena/parent',
    PROVENA_WORKER_IMDS_URL: c.imdsUrl,
    PROVENA_WORKER_IMDS_POLL_SECONDS: String(c.imdsPollSeconds),
    ...c.env,
  };
}

/** `/opt/provena/bin/provena-nitro`: `parent`, `bridge`, `enclave`, under `PROVENA_NITRO_TRANSPORT` (vsock | local). */
export function renderLauncher(c: WorkerLaunch): string {
  const q = (s: string): string => `'${s}'`;
  return `#!/usr/bin/env bash
# provena-nitro: the Nitro worker pair on this instance (rendered by infra/lib/workerLaunch.ts; do not edit).
#   provena-nitro parent    the parent process (trainer on the GPU, proxy, boot service, spot notices)
#   provena-nitro bridge    socat: the enclave's vsock port -> the parent's Unix socket
#   provena-nitro enclave   nitro-cli run-enclave, then watch it (terminated when this stops)
# PROVENA_NITRO_TRANSPORT=local: no Nitro hardware; the enclave agent runs as a local process on the parent's socket.
set -euo pipefail
agent_dir=\${PROVENA_AGENT_DIR:-${q(c.agentDir)}}
transport=\${PROVENA_NITRO_TRANSPORT:-vsock}
node_bin=\${PROVENA_NODE:-node}
log() { printf '%s\\n' "{\\"at\\":\\"$(date -u +%FT%TZ)\\",\\"side\\":\\"launcher\\",\\"msg\\":\\"$*\\"}" >&2; }
case "$transport" in vsock|local) ;; *) log "PROVENA_NITRO_TRANSPORT must be vsock or local, not $transport"; exit 2 ;; esac

case "\${1:-}" in
  parent)
    mkdir -p "$(dirname ${q(c.parentSocket)})"
    exec "$node_bin" --enable-source-maps "$agent_dir/parent.js"
    ;;
  bridge)
    if [ "$transport" = local ]; then log "local transport: the enclave reaches ${c.parentSocket} directly, nothing to bridge"; exit 0; fi
    exec socat ${parentBridgeArgs(c).map(q).join(' ')}
    ;;
  enclave)
    if [ "$transport" = local ]; then
      # A clean environment: the local "enclave" gets nothing of the parent's (no AWS credentials, no settings); it
      # boots from the parent as the real one does.
      exec env -i PATH="$PATH" HOME="\${HOME:-/root}" \${NODE_OPTIONS:+NODE_OPTIONS="$NODE_OPTIONS"} \\
        PROVENA_NITRO_SOCKET=${q(c.parentSocket)} PROVENA_ENCLAVE_BOOT=parent \\
        PROVENA_WORKER_ATTESTOR="\${PROVENA_LOCAL_ENCLAVE_ATTESTOR:-dev}" \\
        \${PROVENA_LOCAL_ENCLAVE_DEV_ROOT_DIR:+PROVENA_WORKER_DEV_ROOT_DIR="$PROVENA_LOCAL_ENCLAVE_DEV_ROOT_DIR"} \\
        "$node_bin" --enable-source-maps "$agent_dir/enclave.js"
    fi
    nitro-cli terminate-enclave --enclave-name ${q(c.enclave.name)} > /dev/null 2>&1 || true
    trap 'nitro-cli terminate-enclave --enclave-name ${c.enclave.name} > /dev/null 2>&1 || true; exit 0' TERM INT
    nitro-cli ${runEnclaveArgs(c).map(q).join(' ')}
    log "enclave ${c.enclave.name} started"
    while nitro-cli describe-enclaves | grep -q '"EnclaveName": "${c.enclave.name}"'; do sleep 10 & wait $!; done
    log "enclave ${c.enclave.name} is gone"
    exit 1
    ;;
  *)
    echo "usage: provena-nitro parent|bridge|enclave" >&2
    exit 2
    ;;
esac
`;
}

/** The three systemd units, by file name. */
export function renderUnits(c: WorkerLaunch): Record<string, string> {
  const bin = `${c.binDir}/provena-nitro`;
  const common = ['EnvironmentFile=-/etc/provena/launch.env', `StandardOutput=append:${c.logDir}/%N.log`, `StandardError=append:${c.logDir}/%N.log`];
  return {
    'provena-parent.service': [
      '[Unit]',
      'Description=Provena Nitro worker: parent (trainer, proxy, spot notices)',
      // Started after the enclave (which retries its connection), so systemd stops it first at shutdown: its SIGTERM
      // reaches the enclave as a notice and the job winds down before the enclave and the bridge are stopped.
      'After=network-online.target provena-enclave.service provena-vsock-bridge.service',
      'Wants=network-online.target',
      '[Service]',
      'EnvironmentFile=/etc/provena/worker.env',
      ...common,
      `ExecStart=${bin} parent`,
      'Restart=always',
      'RestartSec=2',
      // SIGTERM is the notice path (forwarded to the enclave, which checkpoints and releases its lease).
      'KillSignal=SIGTERM',
      `TimeoutStopSec=${c.stopTimeoutSeconds}`,
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
    'provena-vsock-bridge.service': [
      '[Unit]',
      'Description=Provena Nitro worker: vsock bridge (socat) to the parent socket',
      'Before=provena-enclave.service',
      '[Service]',
      ...common,
      `ExecStart=${bin} bridge`,
      'Restart=on-failure',
      'RestartSec=1',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
    'provena-enclave.service': [
      '[Unit]',
      'Description=Provena Nitro worker: the enclave (nitro-cli run-enclave)',
      'After=nitro-enclaves-allocator.service provena-vsock-bridge.service',
      'Wants=nitro-enclaves-allocator.service',
      '[Service]',
      ...common,
      `ExecStart=${bin} enclave`,
      'Restart=always',
      'RestartSec=5',
      `TimeoutStopSec=${c.stopTimeoutSeconds}`,
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  };
}

/** The CloudWatch agent's configuration: each unit's log file to the group, one stream per instance and unit. */
export function renderCloudWatchConfig(c: WorkerLaunch): string {
  return JSON.stringify(
    {
      logs: {
        logs_collected: {
          files: {
            collect_list: ['provena-parent', 'provena-vsock-bridge', 'provena-enclave'].map((unit) => ({
              file_path: `${c.logDir}/${unit}.log`,
              log_group_name: c.logGroup,
              log_stream_name: `{instance_id}/${unit}`,
              retention_in_days: -1,
            })),
          },
        },
      },
    },
    null,
    2,
  );
}

/** The enclave image's init (ENTRYPOINT): socat to the parent's vsock port, then the enclave agent in a loop. */
export function renderEnclaveInit(c: WorkerLaunch): string {
  return `#!/bin/sh
# The Nitro enclave's init (rendered by infra/lib/workerLaunch.ts; baked into the EIF, so part of PCR0).
set -eu
mkdir -p "$(dirname '${c.enclaveSocket}')"
socat ${enclaveBridgeArgs(c).map((a) => `'${a}'`).join(' ')} &
export PROVENA_NITRO_SOCKET='${c.enclaveSocket}' PROVENA_ENCLAVE_BOOT=parent
export PROVENA_WORKER_ATTESTOR="\${PROVENA_WORKER_ATTESTOR:-nitro-nsm}" PROVENA_WORKER_WORK_DIR=/tmp/provena-worker
while :; do
  node --enable-source-maps /opt/provena/agent/enclave.js || true
  sleep 2
done
`;
}

/** The parent's files: env files, launcher, units, CloudWatch agent config. */
export function renderFiles(c: WorkerLaunch): RenderedFile[] {
  const env = Object.entries(parentEnv(c)).map(([k, v]) => `${k}='${v}'`).join('\n');
  return [
    { path: '/etc/provena/worker.env', mode: '0600', content: `${env}\n` },
    { path: '/etc/provena/launch.env', mode: '0644', content: 'PROVENA_NITRO_TRANSPORT=vsock\n' },
    { path: `${c.binDir}/provena-nitro`, mode: '0755', content: renderLauncher(c) },
    ...Object.entries(renderUnits(c)).map(([name, content]) => ({ path: `/etc/systemd/system/${name}`, mode: '0644', content })),
    { path: '/opt/aws/amazon-cloudwatch-agent/etc/provena.json', mode: '0644', content: renderCloudWatchConfig(c) },
  ];
}

/** The instance's user data (bash lines): packages, allocator, files, artifacts from S3, the units started. */
export function renderUserData(c: WorkerLaunch): string[] {
  const files = renderFiles(c).flatMap((f, i) => [
    `mkdir -p "$(dirname '${f.path}')"`,
    `cat > '${f.path}' <<'PROVENA_FILE_${i}'`,
    ...f.content.replace(/\n$/, '').split('\n'),
    `PROVENA_FILE_${i}`,
    `chmod ${f.mode} '${f.path}'`,
  ]);
  const missing = [c.agentS3Uri === undefined ? 'PROVENA_GPU_AGENT_S3_URI' : undefined, c.eifS3Uri === undefined ? 'PROVENA_GPU_EIF_S3_URI' : undefined].filter((v) => v !== undefined);
  return [
    'set -euo pipefail',
    'dnf install -y aws-nitro-enclaves-cli socat amazon-cloudwatch-agent nodejs22 || dnf install -y aws-nitro-enclaves-cli socat amazon-cloudwatch-agent nodejs',
    // The enclave's share; the rest of the host feeds the GPU.
    `sed -i -e 's/^memory_mib:.*/memory_mib: ${c.enclave.memoryMib}/' -e 's/^cpu_count:.*/cpu_count: ${c.enclave.cpuCount}/' /etc/nitro_enclaves/allocator.yaml`,
    'systemctl enable --now nitro-enclaves-allocator.service',
    `mkdir -p '${c.agentDir}' '${c.logDir}' /var/lib/provena/parent /run/provena`,
    ...files,
    "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/provena.json",
    'systemctl daemon-reload',
    ...(missing.length > 0
      ? [`echo "${missing.join(' and ')} unset at deploy: the Nitro worker pair is not started" | systemd-cat -t provena-nitro`]
      : [
          `aws s3 cp '${c.agentS3Uri}' /tmp/provena-agent.tar.gz`,
          `tar -xzf /tmp/provena-agent.tar.gz -C '${c.agentDir}'`,
          `aws s3 cp '${c.eifS3Uri}' '${c.enclave.eifPath}'`,
          'systemctl enable --now provena-parent.service provena-vsock-bridge.service provena-enclave.service',
        ]),
  ];
}
