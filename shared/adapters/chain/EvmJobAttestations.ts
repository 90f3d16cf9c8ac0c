import { getAddress, id, type Provider } from 'ethers';
import { AttestationRegistry__abi, DatasetRegistry__abi, LicenseManager__abi } from '../../../contracts/typechain/abis.js';
import { DependencyError, ProvenaError } from '../../errors.js';
import type { JobAttestations } from '../../ports/JobAttestations.js';
import type { Relayer } from '../../ports/Relayer.js';

/** The contracts {@link EvmJobAttestations} reads and writes. */
export interface JobAttestationContracts {
  licenseManager: string;
  datasetRegistry: string;
  attestationRegistry: string;
}

/**
 * {@link JobAttestations} over the deployed contracts: views through `provider`, the approval through `attestor`,
 * the relayer that signs with the attestor key (ATTESTOR_ROLE), never the key that relays owners' messages.
 */
export class EvmJobAttestations implements JobAttestations {
  constructor(
    private readonly provider: Provider,
    private readonly contracts: JobAttestationContracts,
    private readonly attestor: Relayer | undefined,
  ) {}

  async job(jobId: string): Promise<{ active: boolean; chainDatasetIds: string[] }> {
    const lm = LicenseManager__abi.connect(this.contracts.licenseManager, this.provider);
    try {
      const [active, ids] = await Promise.all([lm.isJobActive(BigInt(jobId)), lm.datasetsOfJob(BigInt(jobId))]);
      return { active, chainDatasetIds: ids.map((i) => i.toString()) };
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `Could not read job ${jobId}`, { cause: err });
    }
  }

  async manifestCidOf(chainDatasetId: string): Promise<string> {
    const registry = DatasetRegistry__abi.connect(this.contracts.datasetRegistry, this.provider);
    try {
      return (await registry.getDataset(BigInt(chainDatasetId))).manifestCid;
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `Could not read registry dataset ${chainDatasetId}`, { cause: err });
    }
  }

  async approveWorker(params: { jobId: string; worker: string; evidenceHash: string }): Promise<{ txHash: string }> {
    if (!this.attestor) throw new ProvenaError('ATTESTOR_NOT_CONFIGURED', 'No attestor key is configured (PROVENA_ATTESTOR_KEY): worker keys cannot be approved');
    const data = AttestationRegistry__abi.createInterface().encodeFunctionData('approveWorker', [BigInt(params.jobId), getAddress(params.worker), params.evidenceHash]);
    // One key per (job, worker, evidence): hashed, since a uint256 job id would overrun the key's 128 characters.
    const idempotencyKey = `attestation:approve:${id(`${params.jobId}:${getAddress(params.worker)}:${params.evidenceHash}`)}`;
    const receipt = await (await this.attestor.submit({ to: getAddress(this.contracts.attestationRegistry), data, idempotencyKey })).wait();
    if (receipt.status !== 'success') throw new ProvenaError('RELAYER_REVERTED', `approveWorker reverted on chain (${receipt.txHash})`, { details: { txHash: receipt.txHash } });
    return { txHash: receipt.txHash };
  }
}
