/**
 * The Provena TypeScript SDK: typed calls to the API, signing each mutating request with any ethers Signer
 * (or anything with `signTypedData`, e.g. a viem account adapter).
 */
import { randomUUID } from 'node:crypto';
import { signRequest, type TypedDataSigner } from '../auth/signedRequest.js';
import { ProvenaError, type ErrorCode } from '../errors.js';
import type { TypedDataDomain, TypedDataField } from 'ethers';
import type { Dataset, DatasetInputWire, DatasetPage, DatasetPatch } from '../schemas/dataset.js';
import type { KeyGateInfo } from '../schemas/upload.js';

/** An error answer from the API, with its stable code and HTTP status. */
export class ApiError extends ProvenaError {
  override readonly name = 'ApiError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly httpStatus: number,
    details?: unknown,
  ) {
    super(code, message, details === undefined ? {} : { details: details as Record<string, unknown> });
  }
}

export interface ProvenaClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** Chain id of the deployment (part of the signed domain). */
  chainId: number;
  /** Signs mutating requests. */
  signer?: TypedDataSigner;
  /** Act for this address (an ERC-1271 smart account) while `signer` is its owner. */
  account?: string;
  fetch?: typeof fetch;
}

/** What `GET /v1/health` answers. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  chainId: number;
  contracts: Record<string, string>;
  components: Record<string, { status: 'ok' | 'degraded' | 'down'; detail?: string; latencyMs?: number; error?: string }>;
}

/** A raw response, for callers that need headers or status. */
export interface RawResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * API client.
 *
 * @example
 * ```ts
 * const client = new ProvenaClient({ baseUrl: 'http://127.0.0.1:8787', chainId: 31337, signer: wallet });
 * const ds = await client.createDataset(input);
 * ```
 */
export class ProvenaClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ProvenaClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  /** The API base URL this client talks to. */
  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The chain id requests are signed for. */
  get chainId(): number {
    return this.options.chainId;
  }

  /** Sends a request; signs it when `signed`. Throws {@link ApiError} on a non-2xx answer. */
  async request<T>(method: string, path: string, init: { body?: unknown; signed?: boolean; headers?: Record<string, string> } = {}): Promise<RawResponse<T>> {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (init.signed) {
      if (!this.options.signer) throw new ProvenaError('AUTH_MISSING', 'This call needs a signer (a wallet key)');
      Object.assign(
        headers,
        await signRequest(this.options.signer, {
          chainId: this.options.chainId,
          method,
          path,
          ...(body === undefined ? {} : { body }),
          ...(this.options.account ? { account: this.options.account } : {}),
        }),
      );
    }
    const res = await this.fetch(new URL(path, this.options.baseUrl), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: ErrorCode; message?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(e?.code ?? 'INTERNAL', e?.message ?? `HTTP ${res.status}`, res.status, e?.details);
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** Lists a dataset. A random Idempotency-Key is sent unless given, so retrying this call is safe. */
  async createDataset(input: DatasetInputWire, options: { idempotencyKey?: string } = {}): Promise<Dataset> {
    const key = options.idempotencyKey ?? randomUUID();
    return (await this.request<Dataset>('POST', '/v1/datasets', { body: input, signed: true, headers: { 'idempotency-key': key } })).body;
  }

  async updateDataset(id: string, patch: Omit<DatasetPatch, 'expectedVersion'> & { expectedVersion?: number }): Promise<Dataset> {
    return (await this.request<Dataset>('PATCH', `/v1/datasets/${encodeURIComponent(id)}`, { body: patch, signed: true })).body;
  }

  async delistDataset(id: string): Promise<Dataset> {
    return (await this.request<Dataset>('DELETE', `/v1/datasets/${encodeURIComponent(id)}`, { signed: true })).body;
  }

  /**
   * Puts a listing on the DatasetRegistry, or records its current manifest CID and price there, without gas:
   * fetches the EIP-712 message (`Registration`, or `Update` once registered), signs it with this client's signer
   * (the owner), and lets the API relay it. Returns the listing with `chainDatasetId` and `chainManifestCid`.
   * Answers `DATASET_ALREADY_REGISTERED` when the registry is already up to date.
   */
  async registerDataset(id: string): Promise<Dataset> {
    if (!this.options.signer) throw new ProvenaError('AUTH_MISSING', 'Registering needs the owner\'s signer');
    const { body: typed } = await this.request<{
      domain: TypedDataDomain;
      types: Record<string, TypedDataField[]>;
      message: { nonce: string; deadline: string } & Record<string, unknown>;
    }>('GET', `/v1/datasets/${encodeURIComponent(id)}/registration`);
    const signature = await this.options.signer.signTypedData(typed.domain, typed.types, typed.message);
    const body = { nonce: typed.message.nonce, deadline: typed.message.deadline, signature };
    return (await this.request<Dataset>('POST', `/v1/datasets/${encodeURIComponent(id)}/registration`, { body, signed: true })).body;
  }

  /** The key gate's backend and the public key data keys are sealed to on upload. */
  async keyGate(): Promise<KeyGateInfo> {
    return (await this.request<KeyGateInfo>('GET', '/v1/keygate')).body;
  }

  async getDataset(id: string): Promise<Dataset> {
    return (await this.request<Dataset>('GET', `/v1/datasets/${encodeURIComponent(id)}`)).body;
  }

  async listDatasets(query: { tag?: string; owner?: string; q?: string; status?: 'active' | 'delisted'; limit?: number; cursor?: string } = {}): Promise<DatasetPage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return (await this.request<DatasetPage>('GET', `/v1/datasets${s ? `?${s}` : ''}`)).body;
  }

  /** Iterates every listing matching `query`, following cursors. */
  async *allDatasets(query: { tag?: string; owner?: string; q?: string; status?: 'active' | 'delisted'; limit?: number } = {}): AsyncGenerator<Dataset> {
    let cursor: string | undefined;
    do {
      const page = await this.listDatasets({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** `GET /v1/health`; answers (does not throw) when a component is down (HTTP 503). */
  async health(): Promise<HealthReport> {
    const res = await this.fetch(new URL('/v1/health', this.options.baseUrl));
    return (await res.json()) as HealthReport;
  }
}
