/**
 * Key gate over Lit Protocol (Datil networks, `@lit-protocol/lit-node-client` 7.4.0, an OPTIONAL dependency
 * loaded with dynamic `import()`, so the default install never needs its 163 MB).
 *
 * The data key (never the dataset) is encrypted by Lit under `evmContractConditions` pointing at our contracts;
 * the Lit nodes check the conditions at decryption time against the requester's session signatures.
 *
 * With a Lit Action configured (`action.ipfsCid`, the CID of actions/provenaRelease.js), Provena's standard
 * conditions work too: the key is encrypted under "the running action is that CID", and the action checks the
 * conditions on chain with the request's `:licenseId` / `:jobId` before Lit decrypts, answering with the key sealed
 * to the requester (see the action's header). The gate first runs the same request checks as the other gates
 * (signature, time window, single-use nonce) when given `requestChecks`, and pays Lit with its own session
 * signatures when given `wallet` ({@link GateSessionSigs}: scoped to executing that CID only), so the requester
 * sends the same request as under the other gates.
 *
 * Release without an action: the requester's client normally decrypts directly with Lit ({@link decryptDataKeyWithLit}), so the
 * key never touches our servers. `releaseDataKey` exists for the port: it needs the requester's Lit session
 * signatures in `proof.litSessionSigs`, asks Lit, and seals the result to the requester's public key.
 * Replay/nonce checks are Lit's (session signatures expire); our EIP-712 request is not needed here.
 *
 * Offline (as in this repository's CI) `connect()` fails: every call then throws DEPENDENCY_FAILED, cleanly.
 */
import { getAddress } from 'ethers';
import type { TypedDataDomain } from 'ethers';
import { ProvenaError, DependencyError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { sealToPublicKey } from '../../crypto/ecies.js';
import { IntegrityError, KeyAccessError } from '../../crypto/errors.js';
import { ReleaseAuthorizer, releaseContext } from '../../domain/keyReleasePolicy.js';
import type { NonceStore } from '../../ports/NonceStore.js';
import { AccessConditionList as AccessConditionListSchema } from '../../schemas/accessConditions.js';
import type { GateLogger } from '../../domain/keyReleasePolicy.js';
import { hashConditions } from '../../crypto/conditionsHash.js';
import type { AccessConditionList, EvmContractCondition } from '../../schemas/accessConditions.js';
import type { ComponentHealth } from '../../ports/Health.js';
import type { EncryptedKeyForRequester, KeyGate, ReleaseDataKeyParams, WrapDataKeyParams, WrappedKey } from '../../ports/KeyGate.js';
import { toLitEvmContractConditions, validateForLit } from './conditions.js';
import type { LitEvmContractConditions } from './conditions.js';
import { ActionAnswer, actionAccessConditions, actionKeyPayload, conditionsForAction } from './provenaReleaseAction.js';
import type { LitAccessControlCondition } from './provenaReleaseAction.js';
import { GateSessionSigs } from './gateSessionSigs.js';
import type { SessionSigClient } from './gateSessionSigs.js';

/** Lit networks this adapter supports (Datil generation, SDK v7). */
export type LitNetwork = 'datil' | 'datil-test' | 'datil-dev';

/** The subset of the Lit node client we use (typed here: the package is optional). */
export interface LitClientLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  encrypt(
    p: ({ evmContractConditions: LitEvmContractConditions } | { accessControlConditions: LitAccessControlCondition[] }) & { dataToEncrypt: Uint8Array },
  ): Promise<{ ciphertext: string; dataToEncryptHash: string }>;
  decrypt(p: {
    evmContractConditions: LitEvmContractConditions;
    ciphertext: string;
    dataToEncryptHash: string;
    chain: string;
    sessionSigs: Record<string, unknown>;
  }): Promise<{ decryptedData: Uint8Array }>;
  /** Runs a Lit Action (by CID, or its code) on the nodes; `response` is what the action set. */
  executeJs?(p: { ipfsId?: string; code?: string; sessionSigs: Record<string, unknown>; jsParams: Record<string, unknown> }): Promise<{ response: string | object; logs?: string }>;
  /** The SDK's session signatures (`LitNodeClientNodeJs.getSessionSigs`), for the gate's own wallet. */
  getSessionSigs?: SessionSigClient['getSessionSigs'];
  getLatestBlockhash?: SessionSigClient['getLatestBlockhash'];
}

/** Creates a Lit client for a network. The default loads the real SDK lazily. */
export type LitClientFactory = (config: { litNetwork: LitNetwork; connectTimeout: number }) => Promise<LitClientLike>;

/** The default factory: `new LitNodeClient({litNetwork, debug: false, ...})` from the optional package. */
export const realLitClientFactory: LitClientFactory = async ({ litNetwork, connectTimeout }) => {
  const specifier = '@lit-protocol/lit-node-client';
  let mod: { LitNodeClient?: new (cfg: object) => LitClientLike; default?: { LitNodeClient: new (cfg: object) => LitClientLike } };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (cause) {
    throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'the Lit SDK is not installed (npm install --include=optional)', { cause });
  }
  const Client = mod.LitNodeClient ?? mod.default?.LitNodeClient;
  if (Client === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', '@lit-protocol/lit-node-client has no LitNodeClient export');
  return new Client({ litNetwork, debug: false, alertWhenUnauthorized: false, connectTimeout, checkNodeAttestation: litNetwork !== 'datil-dev' });
};

/** Options of {@link LitKeyGate}. */
export interface LitKeyGateOptions {
  network: LitNetwork;
  logger: GateLogger;
  /** Our chain names -> Lit chain names. */
  chainMap?: Readonly<Record<string, string>>;
  /** Milliseconds (default 20000). */
  connectTimeoutMs?: number;
  /** Test seam; defaults to {@link realLitClientFactory}. */
  clientFactory?: LitClientFactory;
  /** Test seam; defaults to Lit's own offline schema validation ({@link validateForLit}). */
  validate?: (conditions: LitEvmContractConditions) => Promise<void>;
  /**
   * The pinned release action (actions/provenaRelease.js): keys are wrapped for it, and released only through it.
   * Without it the gate takes only conditions Lit evaluates itself (no `:licenseId` / `:jobId`).
   */
  action?: { ipfsCid: string };
  /** The request checks run before the action (signature, ±300 s window, single-use nonce), as other gates do. */
  requestChecks?: { nonceStore: NonceStore; domain: TypedDataDomain };
  /**
   * The gate's own Lit wallet (action mode): the gate builds session signatures scoped to executing the release
   * action only, cached until shortly before expiry, so requesters send nothing Lit-specific. Without it a release
   * needs the requester's `proof.litSessionSigs`.
   */
  wallet?: { privateKey: string; sessionTtlMs?: number; refreshBeforeMs?: number; capacityDelegationAuthSig?: unknown; now?: () => number };
}

/** Action refusal codes -> the error class the API maps them with. */
const ACTION_REFUSALS: Readonly<Record<string, 'access' | 'integrity' | 'chain' | 'config'>> = {
  KEY_ACCESS_DENIED: 'access',
  LICENSE_EXPIRED: 'access',
  LICENSE_WRONG_DATASET: 'access',
  JOB_NOT_ACTIVE: 'access',
  KEY_REQUEST_SIGNATURE_INVALID: 'access',
  KEY_REQUEST_EXPIRED: 'access',
  MANIFEST_MISMATCH: 'integrity',
  KEY_UNWRAP_FAILED: 'integrity',
  CHAIN_UNAVAILABLE: 'chain',
  KEY_GATE_MISCONFIGURED: 'config',
};

function chainsOf(list: AccessConditionList, out = new Set<string>()): Set<string> {
  for (const c of list) {
    if (Array.isArray(c)) chainsOf(c, out);
    else if (!('operator' in c)) out.add(c.chain);
  }
  return out;
}

function firstCondition(list: AccessConditionList): EvmContractCondition | undefined {
  for (const c of list) {
    if (Array.isArray(c)) {
      const f = firstCondition(c);
      if (f !== undefined) return f;
    } else if (!('operator' in c)) return c;
  }
  return undefined;
}

/**
 * Lit {@link KeyGate}.
 *
 * @example
 * ```ts
 * const gate = new LitKeyGate({ network: 'datil-test', logger, chainMap: { base: 'base' } });
 * const wrapped = await gate.wrapDataKey({ datasetId: '7', version: 1, dataKey, conditions });
 * ```
 */
export class LitKeyGate implements KeyGate {
  readonly backend = 'lit' as const;
  private client: Promise<LitClientLike> | undefined;
  private readonly authorizer: ReleaseAuthorizer | undefined;
  /** The gate's own session signatures (action mode with a wallet). */
  readonly sessionSigs: GateSessionSigs | undefined;

  constructor(private readonly options: LitKeyGateOptions) {
    const checks = options.requestChecks;
    this.authorizer = checks === undefined ? undefined : new ReleaseAuthorizer({ ...checks, logger: options.logger, backend: 'lit' });
    const w = options.wallet;
    if (w !== undefined && options.action === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'the Lit gate wallet signs only for the release action: set the action CID');
    this.sessionSigs =
      w === undefined || options.action === undefined
        ? undefined
        : new GateSessionSigs({
            privateKey: w.privateKey,
            actionCid: options.action.ipfsCid,
            ...(w.sessionTtlMs === undefined ? {} : { ttlMs: w.sessionTtlMs }),
            ...(w.refreshBeforeMs === undefined ? {} : { refreshBeforeMs: w.refreshBeforeMs }),
            ...(w.capacityDelegationAuthSig === undefined ? {} : { capacityDelegationAuthSig: w.capacityDelegationAuthSig }),
            ...(w.now === undefined ? {} : { now: w.now }),
          });
  }

  /** Our conditions in Lit's format, validated by Lit's own schema (offline). */
  async litConditions(conditions: AccessConditionList): Promise<LitEvmContractConditions> {
    const lit = toLitEvmContractConditions(conditions, this.options.chainMap);
    await (this.options.validate ?? validateForLit)(lit);
    return lit;
  }

  private connected(): Promise<LitClientLike> {
    this.client ??= (async () => {
      const factory = this.options.clientFactory ?? realLitClientFactory;
      const c = await factory({ litNetwork: this.options.network, connectTimeout: this.options.connectTimeoutMs ?? 20_000 });
      try {
        await c.connect();
      } catch (cause) {
        await c.disconnect().catch(() => undefined);
        throw new DependencyError('DEPENDENCY_FAILED', `Lit network ${this.options.network} is unreachable: ${cause instanceof Error ? cause.message.slice(0, 200) : String(cause)}`, { cause });
      }
      return c;
    })();
    // A failed connect is not cached: the next call tries again.
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  async wrapDataKey(p: WrapDataKeyParams): Promise<WrappedKey> {
    if (p.dataKey.length !== 32) throw new IntegrityError('DATA_KEY_MISMATCH', 'data key must be 32 bytes');
    if (this.options.action !== undefined) return this.wrapForAction(p, this.options.action.ipfsCid);
    const evmContractConditions = await this.litConditions(p.conditions);
    const client = await this.connected();
    try {
      const { ciphertext, dataToEncryptHash } = await client.encrypt({ evmContractConditions, dataToEncrypt: p.dataKey });
      return { backend: 'lit', network: this.options.network, ciphertext, dataToEncryptHash, conditionsHash: hashConditions(p.conditions) };
    } catch (cause) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Lit encrypt failed', { cause });
    }
  }

  /** Action mode: the payload binding dataset version and conditions, encrypted under "the action is `ipfsCid`". */
  private async wrapForAction(p: WrapDataKeyParams, ipfsCid: string): Promise<WrappedKey> {
    const parsed = AccessConditionListSchema.safeParse(p.conditions);
    if (!parsed.success) throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'access conditions are malformed');
    const actionConditions = conditionsForAction(p.conditions, this.options.chainMap);
    // The action reads one chain through Lit's RPC for it (and takes the key request's EIP-712 chain id from it).
    if (chainsOf(actionConditions).size !== 1) throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'the release Lit Action evaluates conditions on exactly one chain');
    const client = await this.connected();
    try {
      const dataToEncrypt = actionKeyPayload({ dataKey: p.dataKey, datasetId: p.datasetId, version: p.version, actionConditions });
      const { ciphertext, dataToEncryptHash } = await client.encrypt({ accessControlConditions: actionAccessConditions(ipfsCid), dataToEncrypt });
      dataToEncrypt.fill(0);
      return { backend: 'lit', network: this.options.network, ciphertext, dataToEncryptHash, conditionsHash: hashConditions(p.conditions), actionIpfsCid: ipfsCid };
    } catch (cause) {
      throw new DependencyError('DEPENDENCY_FAILED', 'Lit encrypt failed', { cause });
    }
  }

  private refusal(p: ReleaseDataKeyParams, code: ErrorCode, reason: string): never {
    this.options.logger.warn('key release refused', { code, reason, backend: this.backend, datasetId: p.datasetId, version: p.version, grant: p.grant, requester: p.requester.address });
    const kind = ACTION_REFUSALS[code];
    if (kind === 'access') throw new KeyAccessError(code, reason, { details: { datasetId: p.datasetId, version: p.version } });
    if (kind === 'integrity' || code === 'LIT_ACTION_MISMATCH') throw new IntegrityError(code, reason);
    if (kind === 'chain') throw new DependencyError('CHAIN_UNAVAILABLE', reason);
    if (kind === 'config') throw new ProvenaError('KEY_GATE_MISCONFIGURED', reason);
    throw new DependencyError('DEPENDENCY_FAILED', `the Lit Action failed: ${reason.slice(0, 300)}`);
  }

  /** Action mode: request checks here, then the action checks the chain, decrypts and seals. */
  private async releaseThroughAction(p: ReleaseDataKeyParams, wrapped: Extract<WrappedKey, { backend: 'lit' }>, ipfsCid: string): Promise<EncryptedKeyForRequester> {
    if (ipfsCid !== this.options.action?.ipfsCid) this.refusal(p, 'LIT_ACTION_MISMATCH', `the key is bound to Lit Action ${ipfsCid}, not the pinned one`);
    const requester = this.authorizer !== undefined ? await this.authorizer.authenticate(p) : getAddress(p.requester.address);
    const client = await this.connected();
    if (client.executeJs === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'this Lit client cannot run Lit Actions');
    const sessionSigs = this.sessionSigs !== undefined ? await this.gateSessionSigs(client) : p.proof.litSessionSigs;
    if (sessionSigs === undefined) this.refusal(p, 'KEY_REQUEST_SIGNATURE_INVALID', 'Lit release needs Lit session signatures (the requester sent none, the gate has no wallet)');
    const release = {
      request: {
        datasetId: p.datasetId,
        version: p.version,
        grant: p.grant,
        requester: { address: p.requester.address, publicKey: p.requester.publicKey },
        proof: { nonce: p.proof.nonce, issuedAt: p.proof.issuedAt, signature: p.proof.signature },
      },
      conditions: conditionsForAction(p.conditions, this.options.chainMap),
      accessControlConditions: actionAccessConditions(ipfsCid),
      ciphertext: wrapped.ciphertext,
      dataToEncryptHash: wrapped.dataToEncryptHash,
    };
    let response: string | object;
    try {
      ({ response } = await client.executeJs({ ipfsId: ipfsCid, sessionSigs: sessionSigs!, jsParams: { release } }));
    } catch (cause) {
      throw new DependencyError('DEPENDENCY_FAILED', `Lit could not run action ${ipfsCid}`, { cause });
    }
    let answer: ActionAnswer;
    try {
      answer = ActionAnswer.parse(typeof response === 'string' ? JSON.parse(response) : response);
    } catch (cause) {
      throw new DependencyError('DEPENDENCY_FAILED', `Lit Action ${ipfsCid} answered something else than a release`, { cause });
    }
    if (!answer.ok) this.refusal(p, answer.code as ErrorCode, answer.reason);
    // The action's answer is checked, not trusted: sealed for this requester and this release.
    const context = releaseContext({ datasetId: p.datasetId, version: p.version, grant: p.grant, requester, nonce: p.proof.nonce });
    if (answer.requester !== requester || answer.sealed.context !== context || answer.sealed.scheme !== 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1') {
      throw new DependencyError('DEPENDENCY_FAILED', `Lit Action ${ipfsCid} sealed the key for another release`);
    }
    this.options.logger.info('key release authorized', { backend: this.backend, datasetId: p.datasetId, version: p.version, grant: p.grant, requester, action: ipfsCid });
    return { kind: 'sealed', datasetId: p.datasetId, version: p.version, grant: p.grant, requester, sealed: answer.sealed };
  }

  /** The gate's cached session signatures for this client (built on first use and shortly before expiry). */
  private async gateSessionSigs(client: LitClientLike): Promise<Record<string, unknown>> {
    if (client.getSessionSigs === undefined || client.getLatestBlockhash === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', 'this Lit client cannot build session signatures');
    try {
      return await this.sessionSigs!.get(client as LitClientLike & SessionSigClient);
    } catch (cause) {
      if (cause instanceof ProvenaError) throw cause;
      throw new DependencyError('DEPENDENCY_FAILED', `Lit session signatures for the gate wallet failed: ${cause instanceof Error ? cause.message.slice(0, 200) : String(cause)}`, { cause });
    }
  }

  async releaseDataKey(p: ReleaseDataKeyParams): Promise<EncryptedKeyForRequester> {
    const refuse = (code: 'KEY_ACCESS_DENIED' | 'MANIFEST_MISMATCH' | 'KEY_REQUEST_SIGNATURE_INVALID', reason: string): never => this.refusal(p, code, reason);
    if (p.wrapped.backend !== 'lit') throw new IntegrityError('KEY_UNWRAP_FAILED', 'the key was not wrapped by Lit');
    if (hashConditions(p.conditions) !== p.wrapped.conditionsHash) refuse('MANIFEST_MISMATCH', 'access conditions do not match the wrapped key');
    if (p.wrapped.actionIpfsCid !== undefined) return this.releaseThroughAction(p, p.wrapped, p.wrapped.actionIpfsCid);
    if (p.proof.litSessionSigs === undefined) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'Lit release needs the requester session signatures');
    const evmContractConditions = await this.litConditions(p.conditions);
    const chain = firstCondition(p.conditions)!.chain;
    const client = await this.connected();
    let key: Buffer;
    try {
      const out = await client.decrypt({
        evmContractConditions,
        ciphertext: p.wrapped.ciphertext,
        dataToEncryptHash: p.wrapped.dataToEncryptHash,
        chain: this.options.chainMap?.[chain] ?? chain,
        sessionSigs: p.proof.litSessionSigs!,
      });
      key = Buffer.from(out.decryptedData);
    } catch (cause) {
      // Lit answers "not authorized" when the conditions fail for the session's address.
      const msg = cause instanceof Error ? cause.message : String(cause);
      if (/not authori[sz]ed|access control conditions check failed/i.test(msg)) refuse('KEY_ACCESS_DENIED', `Lit refused: ${msg.slice(0, 200)}`);
      throw new DependencyError('DEPENDENCY_FAILED', 'Lit decrypt failed', { cause });
    }
    try {
      const requester = p.requester.address;
      const sealed = sealToPublicKey(p.requester.publicKey, key, releaseContext({ datasetId: p.datasetId, version: p.version, grant: p.grant, requester, nonce: p.proof.nonce }));
      return { kind: 'sealed', datasetId: p.datasetId, version: p.version, grant: p.grant, requester, sealed };
    } finally {
      key.fill(0);
    }
  }

  async health(): Promise<ComponentHealth> {
    const t0 = performance.now();
    try {
      await this.connected();
      return { status: 'ok', detail: `lit ${this.options.network}`, latencyMs: Math.round(performance.now() - t0) };
    } catch (err) {
      return { status: 'down', detail: `lit ${this.options.network}`, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Closes the Lit connection. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) await (await c.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}

/**
 * Client side: decrypts a Lit-wrapped data key directly with the Lit network (the key never reaches our API).
 *
 * @example
 * ```ts
 * const dataKey = await decryptDataKeyWithLit({ network: 'datil', wrapped, conditions, sessionSigs });
 * ```
 */
export async function decryptDataKeyWithLit(p: {
  network: LitNetwork;
  wrapped: Extract<WrappedKey, { backend: 'lit' }>;
  conditions: AccessConditionList;
  sessionSigs: Record<string, unknown>;
  chainMap?: Readonly<Record<string, string>>;
  clientFactory?: LitClientFactory;
}): Promise<Buffer> {
  const evmContractConditions = toLitEvmContractConditions(p.conditions, p.chainMap);
  const chain = firstCondition(p.conditions)!.chain;
  const client = await (p.clientFactory ?? realLitClientFactory)({ litNetwork: p.network, connectTimeout: 20_000 });
  try {
    await client.connect();
    const out = await client.decrypt({ evmContractConditions, ciphertext: p.wrapped.ciphertext, dataToEncryptHash: p.wrapped.dataToEncryptHash, chain: p.chainMap?.[chain] ?? chain, sessionSigs: p.sessionSigs });
    return Buffer.from(out.decryptedData);
  } catch (cause) {
    throw new DependencyError('DEPENDENCY_FAILED', `Lit decrypt on ${p.network} failed`, { cause });
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}
