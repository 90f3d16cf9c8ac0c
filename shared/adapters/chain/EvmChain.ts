import { Contract, JsonRpcProvider, type Provider } from 'ethers';
import { DependencyError } from '../../errors.js';
import { probeHealth, type ComponentHealth } from '../../ports/Health.js';
import type { SignatureVerifier } from '../../ports/SignatureVerifier.js';

const ERC1271_ABI = ['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)'];
const ERC1271_MAGIC = '0x1626ba7e';

/**
 * The chain over JSON-RPC (ethers v6): the embedded Hardhat node and any real EVM chain alike.
 * Implements {@link SignatureVerifier}.
 */
export class EvmChain implements SignatureVerifier {
  readonly provider: Provider;

  constructor(
    private readonly rpcUrl: string,
    readonly chainId: number,
  ) {
    // staticNetwork: never re-detect the chain on each call (and fail fast instead of retrying forever).
    this.provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true });
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

  async health(): Promise<ComponentHealth> {
    return probeHealth(`evm chain ${this.chainId} at ${this.rpcUrl}`, async () => {
      const net = await this.provider.getNetwork();
      if (Number(net.chainId) !== this.chainId) throw new Error(`chain id is ${net.chainId}, expected ${this.chainId}`);
    });
  }
}
