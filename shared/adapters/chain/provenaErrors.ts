/** The custom errors Provena's contracts can revert with, so the relayer can name a revert. */
import type { JsonFragment } from 'ethers';
import {
  AttestationRegistry__factory,
  DatasetRegistry__factory,
  Errors__factory,
  LicenseManager__factory,
  RoyaltyPools__factory,
  TrainingLicense__factory,
} from '../../../contracts/typechain/index.js';

const abis: readonly (readonly JsonFragment[])[] = [
  Errors__factory.abi,
  DatasetRegistry__factory.abi,
  LicenseManager__factory.abi,
  RoyaltyPools__factory.abi,
  AttestationRegistry__factory.abi,
  TrainingLicense__factory.abi,
];

/** Every `error` fragment of the deployed contracts (the Errors library and OpenZeppelin's), once each. */
export const PROVENA_ERROR_ABI: JsonFragment[] = [
  ...new Map(
    abis
      .flat()
      .filter((f) => f.type === 'error')
      .map((f) => [`${f.name}(${(f.inputs ?? []).map((i) => i.type).join(',')})`, f] as const),
  ).values(),
];
