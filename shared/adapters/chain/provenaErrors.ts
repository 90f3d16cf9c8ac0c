/** The custom errors Provena's contracts can revert with, so the relayer can name a revert. */
import type { JsonFragment } from 'ethers';
import {
  AttestationRegistry__abi,
  DatasetRegistry__abi,
  Errors__abi,
  LicenseManager__abi,
  RoyaltyPools__abi,
  TrainingLicense__abi,
} from '../../../contracts/typechain/abis.js';

const abis: readonly (readonly JsonFragment[])[] = [
  Errors__abi.abi,
  DatasetRegistry__abi.abi,
  LicenseManager__abi.abi,
  RoyaltyPools__abi.abi,
  AttestationRegistry__abi.abi,
  TrainingLicense__abi.abi,
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
