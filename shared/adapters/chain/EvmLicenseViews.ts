import { getAddress, type Provider } from 'ethers';
import { DatasetRegistry__abi, LicenseManager__abi, TrainingLicense__abi } from '../../../contracts/typechain/abis.js';
import { DependencyError } from '../../errors.js';
import type { JobState, LicenseState, LicenseViews, RegistryDataset } from '../../ports/LicenseViews.js';

/** {@link LicenseViews} by `eth_call` on the LicenseManager, its TrainingLicense NFT and the DatasetRegistry. */
export class EvmLicenseViews implements LicenseViews {
  private readonly manager;
  private readonly registry;
  private nft: Promise<ReturnType<typeof TrainingLicense__abi.connect>> | undefined;

  constructor(
    private readonly provider: Provider,
    addresses: { licenseManager: string; datasetRegistry: string },
  ) {
    this.manager = LicenseManager__abi.connect(addresses.licenseManager, provider);
    this.registry = DatasetRegistry__abi.connect(addresses.datasetRegistry, provider);
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `The chain did not answer ${what}`, { cause: err });
    }
  }

  private licenseToken() {
    this.nft ??= this.call('contractsInUse', () => this.manager.contractsInUse()).then((c) => TrainingLicense__abi.connect(c.licenseToken, this.provider));
    return this.nft;
  }

  async license(licenseId: string): Promise<LicenseState | undefined> {
    const id = BigInt(licenseId);
    const l = await this.call(`getLicense(${id})`, () => this.manager.getLicense(id));
    if (l.purchasedAt === 0n) return undefined;
    const nft = await this.licenseToken();
    const [holder, active] = await Promise.all([this.call(`ownerOf(${id})`, () => nft.ownerOf(id)), this.call(`isLicenseActive(${id})`, () => this.manager.isLicenseActive(id))]);
    return { holder: getAddress(holder), budget: String(l.budget), unallocated: String(l.unallocated), expiry: Number(l.expiry), purchasedAt: Number(l.purchasedAt), active };
  }

  async job(jobId: string): Promise<JobState | undefined> {
    const j = await this.call(`getJob(${jobId})`, () => this.manager.getJob(BigInt(jobId)));
    if (j.startedAt === 0n) return undefined;
    return {
      budget: String(j.budget),
      spent: String(j.spent),
      licenseId: String(j.licenseId),
      maxRatePerSecond: String(j.maxRatePerSecond),
      startedAt: Number(j.startedAt),
      endedAt: Number(j.endedAt),
      refunded: j.refunded,
      finalized: j.finalized,
    };
  }

  async dataset(chainDatasetId: string): Promise<RegistryDataset | undefined> {
    const id = BigInt(chainDatasetId);
    // getDataset reverts for an unknown id; datasetOwner never does.
    const owner = await this.call(`datasetOwner(${id})`, () => this.registry.datasetOwner(id));
    if (BigInt(owner) === 0n) return undefined;
    const d = await this.call(`getDataset(${id})`, () => this.registry.getDataset(id));
    return { owner: getAddress(d.owner), version: Number(d.version), listed: d.listed, pricePerSample: String(d.pricePerSample) };
  }
}
