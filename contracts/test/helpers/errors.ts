/** Decoding of revert data into custom error names, across Provena's Errors library and OpenZeppelin's errors. */
import { expect } from '@jest/globals';
import { Interface, type ErrorDescription, type JsonFragment } from 'ethers';
import {
  Errors__factory,
  LicenseManager__factory,
  DatasetRegistry__factory,
  AttestationRegistry__factory,
  TrainingLicense__factory,
} from '../../typechain/index.js';

// Typechain's ABIs are precise readonly tuples; ethers only needs them as JSON fragments.
const abis = [Errors__factory, LicenseManager__factory, DatasetRegistry__factory, AttestationRegistry__factory, TrainingLicense__factory].map(
  (f) => f.abi as unknown as readonly JsonFragment[],
);
const seen = new Set<string>();
const errorFragments = abis.flat().filter((f) => {
  if (f.type !== 'error' || seen.has(JSON.stringify(f))) return false;
  seen.add(JSON.stringify(f));
  return true;
});
const iface = new Interface([
  ...errorFragments,
  'error SafeERC20FailedOperation(address token)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
]);

function findRevertData(err: unknown, depth = 0): string | undefined {
  if (depth > 6 || err === null || typeof err !== 'object') return undefined;
  const o = err as Record<string, unknown>;
  for (const key of ['data', 'revertData']) {
    const v = o[key];
    if (typeof v === 'string' && /^0x[0-9a-fA-F]{8}/.test(v)) return v;
  }
  for (const key of ['error', 'info', 'cause', 'data', 'payload']) {
    const found = findRevertData(o[key], depth + 1);
    if (found) return found;
  }
  const message = typeof o.message === 'string' ? o.message : '';
  const m = /return data: (0x[0-9a-fA-F]+)/.exec(message) ?? /data="(0x[0-9a-fA-F]+)"/.exec(message);
  return m?.[1];
}

/** Decodes the custom error a failed call or transaction carries, or undefined. */
export function decodeRevert(err: unknown): ErrorDescription | undefined {
  const data = findRevertData(err);
  if (!data) return undefined;
  try {
    return iface.parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Awaits `action`, expects it to revert with custom error `name` (and `args` when given); returns the decoded error. */
export async function expectRevert(action: Promise<unknown>, name: string, args?: readonly unknown[]): Promise<ErrorDescription> {
  let thrown: unknown;
  try {
    await action;
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected a revert with ${name}, but the call succeeded`);
  const decoded = decodeRevert(thrown);
  if (!decoded) throw new Error(`expected ${name}, got an undecodable failure: ${(thrown as Error).message?.slice(0, 400)}`);
  expect(decoded.name).toBe(name);
  if (args) expect([...decoded.args]).toEqual([...args]);
  return decoded;
}
