/** Display helpers: token amounts, addresses, dates, transaction links. */
import { formatUnits } from 'ethers';

/** The payment token's decimals (MockUSD and USDC both use 6). */
export const TOKEN_DECIMALS = 6;

/** A base-unit amount as token units, e.g. `1500000` → `1.5`. */
export function money(baseUnits: string | bigint, decimals = TOKEN_DECIMALS): string {
  const text = formatUnits(BigInt(baseUnits), decimals);
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** `0x1234…abcd`. */
export function short(hex: string, keep = 6): string {
  return hex.length > keep * 2 + 2 ? `${hex.slice(0, keep)}…${hex.slice(-4)}` : hex;
}

export function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

const EXPLORERS: Record<number, string> = {
  1: 'https://etherscan.io',
  10: 'https://optimistic.etherscan.io',
  8453: 'https://basescan.org',
  84532: 'https://sepolia.basescan.org',
  11155111: 'https://sepolia.etherscan.io',
  42161: 'https://arbiscan.io',
};

/** A block explorer link for a transaction, or undefined on a local chain (no explorer). */
export function txUrl(chainId: number, hash: string): string | undefined {
  const base = EXPLORERS[chainId];
  return base ? `${base}/tx/${hash}` : undefined;
}
