/**
 * The Lit gate's own session signatures: the gate's wallet signs a SIWE message whose ReCap grants its ed25519
 * session key exactly one ability, "execute the release action" (`lit-litaction://<CID>` / `Threshold/Execution`),
 * and the session key signs each node's request. Built with the Lit SDK's documented path (`getSessionSigs` with an
 * `authNeededCallback` that calls `createSiweMessageWithRecaps` + `generateAuthSig`, resource `LitActionResource(cid)`,
 * ability `LitAbility.LitActionExecution`), cached until shortly before they expire.
 *
 * These signatures only authenticate (and, on paid networks, bill) the gate to the Lit network. What authorizes a
 * release is still the requester's own proof (EIP-712 signature, time window, single-use nonce), checked by the gate
 * before the action runs and again by the action itself.
 */
import { Wallet } from 'ethers';
import { ProvenaError } from '../../errors.js';

/** The part of the Lit node client session signatures are built with (SDK v7 `LitNodeClientNodeJs`). */
export interface SessionSigClient {
  getSessionSigs(p: {
    chain: string;
    expiration: string;
    resourceAbilityRequests: { resource: unknown; ability: string }[];
    authNeededCallback: (p: { uri?: string; expiration?: string; resourceAbilityRequests?: { resource: unknown; ability: string }[] }) => Promise<unknown>;
    capacityDelegationAuthSig?: unknown;
  }): Promise<Record<string, unknown>>;
  getLatestBlockhash(): Promise<string>;
}

/** Options of {@link GateSessionSigs}. */
export interface GateSessionSigsOptions {
  /** The gate's Lit wallet (0x-hex secp256k1). On datil / datil-test it must hold Capacity Credits. */
  privateKey: string;
  /** The release action's CID: the only resource the session may use. */
  actionCid: string;
  /** Lifetime of one set of session signatures (default 10 minutes). */
  ttlMs?: number;
  /** Rebuilt this long before expiry (default 60 s), so a request never carries signatures about to lapse. */
  refreshBeforeMs?: number;
  /** A capacity delegation auth sig from the Capacity Credits owner, when the gate wallet does not own them. */
  capacityDelegationAuthSig?: unknown;
  /** Test seam. */
  now?: () => number;
}

interface LitHelpers {
  LitActionResource: new (cid: string) => unknown;
  createSiweMessageWithRecaps: (p: object) => Promise<string>;
  generateAuthSig: (p: { signer: { signMessage(m: string): Promise<string>; getAddress(): Promise<string> }; toSign: string }) => Promise<unknown>;
  LitActionExecution: string;
}

async function litHelpers(): Promise<LitHelpers> {
  // Variables as specifiers: the Lit SDK is an optional dependency, outside the Lambda bundles.
  const authHelpers = '@lit-protocol/auth-helpers';
  const constants = '@lit-protocol/constants';
  try {
    const a = (await import(authHelpers)) as Partial<LitHelpers> & { default?: Partial<LitHelpers> };
    const c = (await import(constants)) as { LIT_ABILITY?: { LitActionExecution: string }; default?: { LIT_ABILITY: { LitActionExecution: string } } };
    const h = { ...a.default, ...a };
    const ability = (c.LIT_ABILITY ?? c.default?.LIT_ABILITY)?.LitActionExecution;
    if (!h.LitActionResource || !h.createSiweMessageWithRecaps || !h.generateAuthSig || ability === undefined) throw new Error('unexpected exports');
    return { LitActionResource: h.LitActionResource, createSiweMessageWithRecaps: h.createSiweMessageWithRecaps, generateAuthSig: h.generateAuthSig, LitActionExecution: ability };
  } catch (cause) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'the Lit SDK (auth-helpers, constants) is not installed (npm install --include=optional)', { cause });
  }
}

/**
 * Session signatures for the gate's wallet, scoped to executing one Lit Action, cached per client.
 *
 * @example
 * ```ts
 * const sigs = new GateSessionSigs({ privateKey, actionCid });
 * await client.executeJs({ ipfsId: actionCid, sessionSigs: await sigs.get(client), jsParams });
 * ```
 */
export class GateSessionSigs {
  private readonly wallet: Wallet;
  private cached: { client: SessionSigClient; expiresAt: number; sigs: Promise<Record<string, unknown>> } | undefined;
  /** How many times signatures were built (for tests and logs). */
  builds = 0;

  constructor(private readonly options: GateSessionSigsOptions) {
    this.wallet = new Wallet(options.privateKey);
  }

  /** The gate wallet's address (what Lit bills and what a capacity delegation must name). */
  get address(): string {
    return this.wallet.address;
  }

  /** Signatures valid for at least `refreshBeforeMs` more, for this client's connected nodes. */
  get(client: SessionSigClient): Promise<Record<string, unknown>> {
    const now = (this.options.now ?? Date.now)();
    const c = this.cached;
    if (c !== undefined && c.client === client && now < c.expiresAt - (this.options.refreshBeforeMs ?? 60_000)) return c.sigs;
    const expiresAt = now + (this.options.ttlMs ?? 10 * 60_000);
    const sigs = this.build(client, new Date(expiresAt).toISOString());
    const entry = { client, expiresAt, sigs };
    this.cached = entry;
    // A failed build is not cached.
    sigs.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return sigs;
  }

  private async build(client: SessionSigClient, expiration: string): Promise<Record<string, unknown>> {
    this.builds++;
    const lit = await litHelpers();
    const resourceAbilityRequests = [{ resource: new lit.LitActionResource(this.options.actionCid), ability: lit.LitActionExecution }];
    const wallet = this.wallet;
    return client.getSessionSigs({
      chain: 'ethereum',
      expiration,
      resourceAbilityRequests,
      ...(this.options.capacityDelegationAuthSig === undefined ? {} : { capacityDelegationAuthSig: this.options.capacityDelegationAuthSig }),
      authNeededCallback: async (p) => {
        const toSign = await lit.createSiweMessageWithRecaps({
          uri: p.uri,
          expiration: p.expiration ?? expiration,
          resources: p.resourceAbilityRequests ?? resourceAbilityRequests,
          walletAddress: wallet.address,
          nonce: await client.getLatestBlockhash(),
          litNodeClient: client,
        });
        return lit.generateAuthSig({ signer: wallet, toSign });
      },
    });
  }
}
