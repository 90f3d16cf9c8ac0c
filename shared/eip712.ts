/**
 * Every EIP-712 domain and type Provena signs, in one module: the API's signed requests, the key gate's key
 * requests, and the contracts' messages (usage reports, registrations, updates, claims), with helpers that sign
 * them with any ethers Signer (a Wallet for the GPU worker's attested key, a JsonRpcSigner in the browser). The
 * contract types mirror the Solidity typehashes exactly; contracts/test checks them against the deployed contracts.
 *
 * @example
 * const domain = licenseManagerDomain(31337n, deployment.contracts.LicenseManager);
 * const signature = await signUsageReport(workerWallet, domain, { jobId: 1n, datasetIds: [1n], samples: [10n], amounts: [10_000n] });
 */
import type { Signer, TypedDataDomain } from 'ethers';

/** A type list as ethers and viem take it. */
export type TypedFields = { name: string; type: string }[];

/**
 * Domain of signed API requests. Version 2 binds the acting account into the message: a request signed by an
 * owner key cannot be replayed for a smart account that the same key controls (version 1 did not name it).
 */
export function requestDomain(chainId: number): TypedDataDomain {
  return { name: 'Provena API', version: '2', chainId };
}

/** `Request(address account,string method,string path,bytes32 bodyHash,uint64 timestamp,bytes32 nonce)`. */
export const REQUEST_TYPES: Record<string, TypedFields> = {
  Request: [
    { name: 'account', type: 'address' },
    { name: 'method', type: 'string' },
    { name: 'path', type: 'string' },
    { name: 'bodyHash', type: 'bytes32' },
    { name: 'timestamp', type: 'uint64' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

/**
 * Domain of key requests to the key gate. Version 2 signs every field of the request, the job grant's license id
 * included (0 when the grant names none).
 */
export function keyRequestDomain(chainId: bigint | number, verifyingContract?: string): TypedDataDomain {
  return { name: 'Provena KeyGate', version: '2', chainId, ...(verifyingContract === undefined ? {} : { verifyingContract }) };
}

/** The key gate's `KeyRequest`: which data version, under which grant, sealed to which public key, when. */
export const KEY_REQUEST_TYPES: Record<string, TypedFields> = {
  KeyRequest: [
    { name: 'datasetId', type: 'string' },
    { name: 'version', type: 'uint256' },
    { name: 'grantType', type: 'string' },
    { name: 'grantId', type: 'uint256' },
    { name: 'licenseId', type: 'uint256' },
    { name: 'requesterPublicKey', type: 'bytes' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
};

/** The canonical type string of a primary type (no referenced structs), e.g. for documentation. */
export function typeString(types: Record<string, TypedFields>, primary: string): string {
  return `${primary}(${(types[primary] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`;
}

/** Domain of the LicenseManager: usage reports and royalty claims. */
export function licenseManagerDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: 'Provena LicenseManager', version: '1', chainId, verifyingContract };
}

/** Domain of the DatasetRegistry: gasless registrations and updates. */
export function datasetRegistryDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: 'Provena DatasetRegistry', version: '1', chainId, verifyingContract };
}

/** Cumulative usage of one job: totals since the job started, per dataset. `amounts[i] == samples[i] * price`. */
export interface UsageReportMessage {
  jobId: bigint;
  datasetIds: bigint[];
  samples: bigint[];
  amounts: bigint[];
}

export const USAGE_REPORT_TYPES = {
  UsageReport: [
    { name: 'jobId', type: 'uint256' },
    { name: 'datasetIds', type: 'uint256[]' },
    { name: 'samples', type: 'uint256[]' },
    { name: 'amounts', type: 'uint256[]' },
  ],
} as const;

/** The worker's last report of a job: a {@link UsageReportMessage} plus the IPFS CID of the receipt it anchors. */
export interface FinalReportMessage extends UsageReportMessage {
  receiptCid: string;
}

/** `LicenseManager.finalizeJob`'s signed message: the `UsageReport` fields, then `string receiptCid`. */
export const FINAL_REPORT_TYPES = {
  FinalReport: [...USAGE_REPORT_TYPES.UsageReport, { name: 'receiptCid', type: 'string' }],
} as const;

/** The royalty split of a registration: explicit (`recipients`/`bps`, bps sum 10,000) or Merkle (`merkleRoot`/`totalUnits`). */
export interface SplitMessage {
  recipients: string[];
  bps: number[];
  merkleRoot: string;
  totalUnits: bigint;
}

/** A registration as the DatasetRegistry takes it (the `Registration` struct). */
export interface RegistrationInput {
  manifestCid: string;
  pricePerSample: bigint;
  split: SplitMessage;
}

export const REGISTRATION_TYPES = {
  Registration: [
    { name: 'owner', type: 'address' },
    { name: 'manifestCid', type: 'string' },
    { name: 'pricePerSample', type: 'uint256' },
    { name: 'recipients', type: 'address[]' },
    { name: 'bps', type: 'uint16[]' },
    { name: 'merkleRoot', type: 'bytes32' },
    { name: 'totalUnits', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** A gasless update: the dataset's current owner sets a new price and manifest CID (a new version). */
export interface UpdateMessage {
  datasetId: bigint;
  pricePerSample: bigint;
  manifestCid: string;
  /** From `DatasetRegistry.nonces(owner)`: the same counter as registrations. */
  nonce: bigint;
  deadline: bigint;
}

export const UPDATE_TYPES = {
  Update: [
    { name: 'datasetId', type: 'uint256' },
    { name: 'pricePerSample', type: 'uint128' },
    { name: 'manifestCid', type: 'string' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** A gasless claim: `recipient` lets a relayer claim its royalties in `datasetIds`, paid to `to`. */
export interface ClaimMessage {
  recipient: string;
  datasetIds: bigint[];
  to: string;
  nonce: bigint;
  deadline: bigint;
}

export const CLAIM_TYPES = {
  Claim: [
    { name: 'recipient', type: 'address' },
    { name: 'datasetIds', type: 'uint256[]' },
    { name: 'to', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** An ERC-2612 `Permit`: `owner` lets `spender` draw `value` of the token (domain: the token's own EIP-712 domain). */
export interface PermitMessage {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

export const PERMIT_TYPES = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

// ethers wants mutable arrays in its types record.
type Types = Record<string, { name: string; type: string }[]>;
const types = (t: Record<string, readonly { name: string; type: string }[]>): Types =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, [...v]]));

/** Signs a usage report with the worker's attested key. */
export function signUsageReport(signer: Signer, domain: TypedDataDomain, report: UsageReportMessage): Promise<string> {
  return signer.signTypedData(domain, types(USAGE_REPORT_TYPES), report);
}

/** Signs a job's final report (settled and the receipt CID anchored by `LicenseManager.finalizeJob`) with the worker's attested key. */
export function signFinalReport(signer: Signer, domain: TypedDataDomain, report: FinalReportMessage): Promise<string> {
  return signer.signTypedData(domain, types(FINAL_REPORT_TYPES), report);
}

/** Signs a registration for `owner` (the signer's address) with nonce `nonce` (from `DatasetRegistry.nonces`). */
export function signRegistration(
  signer: Signer,
  domain: TypedDataDomain,
  message: { owner: string; registration: RegistrationInput; nonce: bigint; deadline: bigint },
): Promise<string> {
  const { owner, registration, nonce, deadline } = message;
  return signer.signTypedData(domain, types(REGISTRATION_TYPES), {
    owner,
    manifestCid: registration.manifestCid,
    pricePerSample: registration.pricePerSample,
    recipients: registration.split.recipients,
    bps: registration.split.bps,
    merkleRoot: registration.split.merkleRoot,
    totalUnits: registration.split.totalUnits,
    nonce,
    deadline,
  });
}

/** Signs an update of `datasetId` by its owner (the signer, or the EOA behind an ERC-1271 owner); nonce from `DatasetRegistry.nonces(owner)`. */
export function signUpdate(signer: Signer, domain: TypedDataDomain, update: UpdateMessage): Promise<string> {
  return signer.signTypedData(domain, types(UPDATE_TYPES), update);
}

/** Signs a claim (nonce from `LicenseManager.claimNonces(recipient)`). */
export function signClaim(signer: Signer, domain: TypedDataDomain, claim: ClaimMessage): Promise<string> {
  return signer.signTypedData(domain, types(CLAIM_TYPES), claim);
}

/** Signs an ERC-2612 permit in the token's domain (nonce from the token's `nonces(owner)`). */
export function signPermit(signer: Signer, domain: TypedDataDomain, permit: PermitMessage): Promise<string> {
  return signer.signTypedData(domain, types(PERMIT_TYPES), permit);
}
