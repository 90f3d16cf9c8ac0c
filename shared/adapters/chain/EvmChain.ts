import { AbiCoder, Contract, JsonRpcProvider, concat, type Provider } from 'ethers';
// Only the validator's creation code: viem's `verifyHash` (and the 320 KiB of viem and ox it pulls into every
// signed route's Lambda bundle) is replaced by the same deployless `eth_call` made through ethers, below.
import { erc6492SignatureValidatorByteCode } from 'viem';
import { DependencyError } from '../../errors.js';
import { redactSecrets } from '../../encoding/redactSecrets.js';
import { probeHealth } from '../probeHealth.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { SignatureVerifier } from '../../ports/SignatureVerifier.js';

const ERC1271_ABI = ['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)'];
const ERC1271_MAGIC = '0x1626ba7e';

/**
 * The chain over JSON-RPC (ethers v6): the embedded Hardhat node and any real EVM chain alike.
 * Implements {@link SignatureVerifier}.
 */
export class EvmChain implements SignatureVerifier {
  readonly provider: Provider;
  readonly #rpc: JsonRpcProvider;
  /** The RPC endpoint with any credentials in its path or query removed: safe to show in errors and health. */
  private readonly rpcUrl: string;

  constructor(
    rpcUrl: string,
    readonly chainId: number,
  ) {
    // staticNetwork: never re-detect the chain on each call (and fail fast instead of retrying forever).
    // cacheTimeout -1: ethers otherwise answers an identical call made within 250 ms from its cache, so a view read
    // right after a transaction (a job's settled samples after a report) could show the state before it.
    this.#rpc = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1 });
    this.provider = this.#rpc;
    this.rpcUrl = redactSecrets(rpcUrl);
  }

  async isContract(address: string): Promise<boolean> {
    try {
      return (await this.provider.getCode(address)) !== '0x';
    } catch (err) {
      throw new DependencyError('CHAIN_UNAVAILABLE', `Chain at ${this.rpcUrl} did not answer getCode`, { cause: err });
    }
  }

  async isValidErc1271Signature(address: string, digest: string, signature: string): Promise<boolean> {
    const wallet = new Contract(address, ERC1271_ABI, this.provider);
    try {
      const result = (await wallet.getFunction('isValidSignature').staticCall(digest, signature)) as string;
      return result.toLowerCase() === ERC1271_MAGIC;
    } catch (err) {
      // A revert means "not valid" (ERC-1271 allows reverting); a transport failure is ours to report.
      if (err instanceof Error && 'code' in err && (err.code === 'CALL_EXCEPTION' || err.code === 'BAD_DATA')) return false;
      throw new DependencyError('CHAIN_UNAVAILABLE', `Chain at ${this.rpcUrl} did not answer isValidSignature`, { cause: err });
    }
  }

  /**
   * ERC-6492 (a signature of a smart account that may not be deployed yet): the spec's universal validator run as
   * a deployless `eth_call` (its creation code with `(signer, hash, signature)` as constructor arguments), which
   * deploys the account through the signature's factory call inside the simulation, then asks ERC-1271 (or
   * ecrecover). The constructor returns one byte, 0x01 when valid. This is what viem's `verifyHash` does for a
   * wrapped signature without a deployed verifier (viem 2.57, actions/public/verifyHash.js: verifyErc6492).
   */
  async isValidErc6492Signature(address: string, digest: string, signature: string): Promise<boolean> {
    if (/^0x0{40}$/i.test(address)) return false;
    const data = concat([erc6492SignatureValidatorByteCode, AbiCoder.defaultAbiCoder().encode(['address', 'bytes32', 'bytes'], [address, digest, signature])]);
    try {
      const result = await this.#rpc.call({ data });
      return result !== '0x' && BigInt(result) === 1n;
    } catch (err) {
      // A revert (factory failed, invalid signature) means "not valid"; a transport failure is ours to report.
      if (err instanceof Error && 'code' in err && (err.code === 'CALL_EXCEPTION' || err.code === 'BAD_DATA')) return false;
      throw new DependencyError('CHAIN_UNAVAILABLE', `Chain at ${this.rpcUrl} did not answer an ERC-6492 check`, { cause: err });
    }
  }

  async health(): Promise<ComponentHealth> {
    // A real round trip: ethers caches the network (getNetwork never asks again), eth_chainId does ask.
    return probeHealth(`evm chain ${this.chainId}`, async () => {
      const id = Number(await this.#rpc.send('eth_chainId', []));
      if (id !== this.chainId) throw new Error(`chain id is ${id}, expected ${this.chainId}`);
    });
  }
}
