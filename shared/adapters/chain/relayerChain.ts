/** Chain reads both relayer adapters share: a relayed call's receipt, and the relayer account's health. */
import { getAddress, type Provider, type TransactionReceipt } from 'ethers';
import type { ComponentHealth } from '../../ports/Health.js';
import type { RelayEntry, RelayReceipt } from '../../schemas/relay.js';

/** The receipt of whichever of the entry's transactions mined (newest first), or `undefined`. */
export async function findReceipt(provider: Provider, entry: RelayEntry): Promise<RelayReceipt | undefined> {
  let receipt: TransactionReceipt | null = null;
  for (const a of [...entry.attempts].reverse()) {
    receipt = await provider.getTransactionReceipt(a.hash);
    if (receipt) break;
  }
  if (!receipt) return undefined;
  return {
    idempotencyKey: entry.idempotencyKey,
    txHash: receipt.hash,
    nonce: entry.nonce ?? 0,
    blockNumber: receipt.blockNumber,
    status: receipt.status === 1 ? 'success' : 'reverted',
    logs: receipt.logs.map((l) => ({ address: getAddress(l.address), topics: [...l.topics], data: l.data })),
  };
}

/** Balance thresholds of {@link relayerHealth}, in wei. */
export interface BalanceThresholds {
  /** `degraded` under this. Default 0.05 ether. */
  lowBalanceWei?: bigint;
  /** `down` at or under this. Default 0. */
  minBalanceWei?: bigint;
}

/**
 * `ok`, `degraded` under the low-water mark, `down` at or under the minimum or when the chain does not answer.
 * The detail names the address and the balance in wei; never the key, never the RPC URL.
 */
export async function relayerHealth(provider: Provider, address: string, thresholds: BalanceThresholds): Promise<ComponentHealth> {
  const t0 = performance.now();
  const detail = `relayer ${address}`;
  try {
    const wei = await provider.getBalance(address);
    const latencyMs = Math.round(performance.now() - t0);
    const low = thresholds.lowBalanceWei ?? 50_000_000_000_000_000n;
    const min = thresholds.minBalanceWei ?? 0n;
    const withBalance = `${detail} balance ${wei} wei`;
    if (wei <= min) return { status: 'down', detail: withBalance, latencyMs, error: `balance at or under the minimum of ${min} wei` };
    if (wei < low) return { status: 'degraded', detail: withBalance, latencyMs, error: `balance under the low-water mark of ${low} wei` };
    return { status: 'ok', detail: withBalance, latencyMs };
  } catch (err) {
    // Not the error's message: ethers puts the RPC URL (which may hold an API key) into it.
    const code = (err as { code?: unknown })?.code;
    return { status: 'down', detail, latencyMs: Math.round(performance.now() - t0), error: `could not read the balance${typeof code === 'string' ? ` (${code})` : ''}` };
  }
}
