/**
 * The release checks every request-time key gate (embedded, KMS) runs before it touches the wrapped key. Order
 * matters: cheap, unauthenticated checks first, so junk cannot burn nonces or cause chain calls; the nonce is
 * consumed before the chain is asked, so a request is single-use even if refused.
 *
 * Domain logic shared by the gate adapters: it depends on ports and pure crypto only.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { getAddress } from 'ethers';
import type { TypedDataDomain } from 'ethers';
import { hashConditions } from '../crypto/conditionsHash.js';
import { IntegrityError, KeyAccessError } from '../crypto/errors.js';
import { addressOfPublicKey, recoverKeyRequestSigner } from '../crypto/keyRequest.js';
import { ProvenaError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { AccessConditionEvaluator } from '../ports/AccessConditions.js';
import type { KeyGrant, ReleaseDataKeyParams } from '../ports/KeyGate.js';
import type { NonceStore } from '../ports/NonceStore.js';

/** The logger calls a gate makes (a Powertools `Logger` satisfies it). */
export type GateLogger = Pick<Logger, 'warn' | 'info'>;

/** Dependencies of {@link ReleaseAuthorizer}. */
export interface ReleaseAuthorizerDeps {
  /** Evaluates the conditions on chain; a gate whose conditions are checked elsewhere (Lit Actions) omits it. */
  evaluator?: AccessConditionEvaluator;
  nonceStore: NonceStore;
  logger: GateLogger;
  /** EIP-712 domain the requests are signed under (shared/crypto/keyRequest.ts). */
  domain: TypedDataDomain;
  /** Accepted clock difference either way, seconds (default 300). */
  maxSkewSeconds?: number;
  /** Clock, unix seconds (tests inject one). */
  now?: () => number;
  /** Which gate, for the logs. */
  backend: string;
}

/** The context string bound into the sealed key (HKDF info and AAD): canonical JSON of what was released. */
export function releaseContext(p: { datasetId: string; version: number; grant: KeyGrant; requester: string; nonce: string }): string {
  const grant = p.grant.type === 'license' ? { type: 'license', licenseId: p.grant.licenseId } : { type: 'job', jobId: p.grant.jobId, ...(p.grant.licenseId === undefined ? {} : { licenseId: p.grant.licenseId }) };
  return JSON.stringify({ v: 1, datasetId: p.datasetId, version: p.version, grant, requester: getAddress(p.requester), nonce: p.nonce.toLowerCase() });
}

/**
 * Runs the checks of a key release and logs each refusal. Throws {@link KeyAccessError} (or
 * {@link IntegrityError} for conditions that do not belong to the wrapped key).
 *
 * @example
 * ```ts
 * const auth = new ReleaseAuthorizer({ evaluator, nonceStore, logger, domain: keyRequestDomain(31337n), backend: 'embedded' });
 * await auth.authorize(params); // then unwrap and seal
 * ```
 */
export class ReleaseAuthorizer {
  private readonly maxSkew: number;
  private readonly now: () => number;

  constructor(private readonly deps: ReleaseAuthorizerDeps) {
    this.maxSkew = deps.maxSkewSeconds ?? 300;
    this.now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  }

  private refuse(code: ErrorCode, message: string, p: ReleaseDataKeyParams, extra: Record<string, unknown> = {}): never {
    // Refusals are security events: one structured line each, with no key material.
    this.deps.logger.warn('key release refused', {
      code,
      reason: message,
      backend: this.deps.backend,
      datasetId: p.datasetId,
      version: p.version,
      grant: p.grant,
      requester: p.requester.address,
      nonce: p.proof.nonce,
      ...extra,
    });
    if (code === 'MANIFEST_MISMATCH') throw new IntegrityError(code, message);
    throw new KeyAccessError(code, message, { details: { datasetId: p.datasetId, version: p.version } });
  }

  /** All checks; returns the requester's checksummed address when the release may go ahead. */
  async authorize(p: ReleaseDataKeyParams): Promise<string> {
    const address = await this.authenticate(p);
    const evaluator = this.deps.evaluator;
    if (evaluator === undefined) throw new ProvenaError('KEY_GATE_MISCONFIGURED', `the ${this.deps.backend} gate has no condition evaluator`);
    const decision = await evaluator.evaluate(p.conditions, {
      userAddress: address,
      ...(p.grant.licenseId === undefined ? {} : { licenseId: p.grant.licenseId }),
      ...(p.grant.type === 'job' ? { jobId: p.grant.jobId } : {}),
    });
    if (!decision.allowed) {
      this.refuse(decision.refusalCode, `access condition ${decision.condition.functionName} failed (${decision.reason})`, p, {
        contract: decision.condition.contractAddress,
        chain: decision.condition.chain,
      });
    }
    this.deps.logger.info('key release authorized', { backend: this.deps.backend, datasetId: p.datasetId, version: p.version, grant: p.grant, requester: address });
    return address;
  }

  /**
   * The checks before the chain: conditions bound to the wrapped key, the requester's key and EIP-712 signature,
   * the time window and the single-use nonce (consumed here). Returns the requester's checksummed address.
   */
  async authenticate(p: ReleaseDataKeyParams): Promise<string> {
    if (hashConditions(p.conditions) !== p.wrapped.conditionsHash) {
      this.refuse('MANIFEST_MISMATCH', 'access conditions do not match the wrapped key', p);
    }
    let address: string;
    try {
      address = getAddress(p.requester.address);
    } catch {
      this.refuse('KEY_REQUEST_SIGNATURE_INVALID', 'requester address is malformed', p);
    }
    if (addressOfPublicKey(p.requester.publicKey) !== address) {
      this.refuse('KEY_REQUEST_SIGNATURE_INVALID', 'public key does not belong to the requester address', p);
    }
    const signer = recoverKeyRequestSigner(
      this.deps.domain,
      { datasetId: p.datasetId, version: p.version, grant: p.grant, requesterPublicKey: p.requester.publicKey, nonce: p.proof.nonce, issuedAt: p.proof.issuedAt },
      p.proof.signature,
    );
    if (signer !== address) this.refuse('KEY_REQUEST_SIGNATURE_INVALID', 'key request is not signed by the requester', p);

    const now = this.now();
    if (!Number.isSafeInteger(p.proof.issuedAt) || Math.abs(now - p.proof.issuedAt) > this.maxSkew) {
      this.refuse('KEY_REQUEST_EXPIRED', `key request time is outside ±${this.maxSkew}s`, p, { issuedAt: p.proof.issuedAt, now });
    }
    const fresh = await this.deps.nonceStore.consume(`keygate:${address}`, p.proof.nonce.toLowerCase(), p.proof.issuedAt + this.maxSkew);
    if (!fresh) this.refuse('KEY_REQUEST_REPLAYED', 'key request nonce was already used', p);
    return address;
  }
}

