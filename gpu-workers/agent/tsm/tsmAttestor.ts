/**
 * The `tsm` attestor: in a TDX or SEV-SNP confidential VM with an NVIDIA GPU in CC mode, evidence binding the
 * worker's key to the API's nonce by THE binding rule (shared/attestation/types.ts, {@link bindingDigest}):
 * - the CPU report through configfs-tsm ({@link tsmReport}) with REPORTDATA = bindingDigest(key, nonce);
 * - the GPU report through NVML ({@link nvmlGpuReporter}) with the SPDM nonce = its first 32 bytes;
 * wrapped as `{kind: 'tdx'|'sev-snp', documents, gpu: {kind: 'nvidia-gpu', documents: {report, certChain}}}`.
 * Before posting, it checks that both reports carry that binding (`WORKER_TSM_BINDING_MISMATCH`), as the
 * API will (`ATTESTATION_KEY_NOT_BOUND`).
 */
import { bindingDigest } from '../../../shared/attestation/policy.js';
import { parseNvidiaReport } from '../../../shared/attestation/nvidia.js';
import type { EvidenceBundle } from '../../../shared/attestation/types.js';
import { ProvenaError } from '../../../shared/errors.js';
import type { Attestation, Attestor } from '../attestor.js';
import { tsmReport, TSM_PROVIDERS, type TsmProvider, type TsmReport, type TsmReportOptions } from './configfsTsm.js';
import { cpuEvidence, type CpuEvidence, type TdxCollateralSource } from './cpuEvidence.js';
import { nvmlGpuReporter, type GpuReport, type GpuReporter } from './gpuReport.js';

/** Options of {@link tsmAttestor}. */
export interface TsmAttestorOptions extends TsmReportOptions {
  /** The GPU report source (default: NVML through nvml_report.py). */
  gpu?: GpuReporter;
  /** Where TDX collateral is fetched. */
  collateral?: TdxCollateralSource;
}

/**
 * The bundle for a CPU report and a GPU report. With `expectedDigest`, refuses reports that do not carry it
 * (`WORKER_TSM_BINDING_MISMATCH`); without it, builds the bundle as is (tests feed it real reports bound to other
 * nonces, to see the API refuse them).
 */
export async function tsmBundle(report: TsmReport, gpu: GpuReport, o: { collateral?: TdxCollateralSource; expectedDigest?: Buffer } = {}): Promise<Attestation & { cpu: CpuEvidence }> {
  const cpu = await cpuEvidence(report, o.collateral);
  let gpuNonce: Buffer;
  try {
    gpuNonce = parseNvidiaReport(gpu.report).nonce;
  } catch (e) {
    throw new ProvenaError('WORKER_GPU_REPORT_UNAVAILABLE', `the GPU report does not parse: ${(e as Error).message}`);
  }
  if (o.expectedDigest !== undefined) {
    if (!cpu.reportData.equals(o.expectedDigest)) throw new ProvenaError('WORKER_TSM_BINDING_MISMATCH', `the ${cpu.kind} report's REPORTDATA is not SHA-512(worker key ‖ nonce)`);
    if (!gpuNonce.equals(o.expectedDigest.subarray(0, 32))) throw new ProvenaError('WORKER_TSM_BINDING_MISMATCH', 'the GPU report answers another nonce than the first 32 bytes of SHA-512(worker key ‖ nonce)');
  }
  const evidence: EvidenceBundle = {
    kind: cpu.kind,
    documents: cpu.documents,
    gpu: { kind: 'nvidia-gpu', documents: { report: gpu.report.toString('base64'), certChain: gpu.certChain.toString('base64') } },
  };
  return { evidence, measurement: cpu.measurement, cpu };
}

/** The provider named by `PROVENA_TSM_PROVIDER` (`tdx_guest` | `sev_guest`), if any. */
export function tsmProviderFrom(value: string | undefined): TsmProvider | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(TSM_PROVIDERS as readonly string[]).includes(value)) throw new ProvenaError('CONFIG_INVALID', `PROVENA_TSM_PROVIDER must be one of ${TSM_PROVIDERS.join(', ')}`);
  return value as TsmProvider;
}

/** The confidential-GPU attestor (mode `confidential-gpu`). */
export function tsmAttestor(o: TsmAttestorOptions = {}): Attestor {
  const gpu = o.gpu ?? nvmlGpuReporter();
  return {
    kind: 'tsm',
    mode: 'confidential-gpu',
    async attest({ publicKey, nonce }) {
      const digest = bindingDigest(publicKey.replace(/^0x/, ''), nonce);
      const report = await tsmReport(digest, o);
      const gpuReport = await gpu.report(digest.subarray(0, 32));
      const { evidence, measurement } = await tsmBundle(report, gpuReport, { ...(o.collateral === undefined ? {} : { collateral: o.collateral }), expectedDigest: digest });
      return { evidence, measurement };
    },
  };
}
