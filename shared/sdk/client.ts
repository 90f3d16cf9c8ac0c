/**
 * The Provena TypeScript SDK: typed calls to the API, signing each mutating request with any ethers Signer
 * (or anything with `signTypedData`, e.g. a viem account adapter).
 */
import { signRequest, type TypedDataSigner } from '../auth/signedRequest.js';
import { ProvenaError, type ErrorCode } from '../errors.js';
import { expandPath, type RouteCallInput, type RouteDefinition, type RouteResponse } from '../http/route.js';
import { routes } from '../http/routes.js';
import type { Dataset, DatasetInputWire, DatasetPage, DatasetPatch } from '../schemas/dataset.js';
import type { HealthReport } from '../schemas/health.js';
import type { KeyReleaseInput, KeyReleaseResult } from '../schemas/keyRelease.js';
import type { KeyGateInfo, UploadCompleteInput, UploadSession, UploadStartInputWire, UploadSummaryPage } from '../schemas/upload.js';

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
    // Called unbound: a browser's fetch must be called on the window (else "Illegal invocation").
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
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
  async request<T>(method: string, path: string, init: { body?: unknown; signed?: boolean; headers?: Record<string, string>; acceptStatus?: number[] } = {}): Promise<RawResponse<T>> {
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
    if (!res.ok && !init.acceptStatus?.includes(res.status)) {
      const e = (parsed as { error?: { code?: ErrorCode; message?: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(e?.code ?? 'INTERNAL', e?.message ?? `HTTP ${res.status}`, res.status, e?.details);
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /**
   * Calls one route of the API: builds the path from the route's template, the query string from `query`, signs
   * the request when the route is signed, and parses the answer with the route's response schema. Throws
   * {@link ApiError} on an error answer (or `RESPONSE_INVALID` when the answer does not fit the schema).
   *
   * @example
   * ```ts
   * const ds = await client.call(routes.getDataset, { params: { id: 'ds_…' } });
   * ```
   */
  async call<R extends RouteDefinition>(route: R, input: RouteCallInput<R>, options: { acceptStatus?: number[] } = {}): Promise<RouteResponse<R>> {
    const parts = input as { params?: Record<string, unknown>; query?: Record<string, unknown>; headers?: Record<string, string | undefined>; body?: unknown };
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(parts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    const path = expandPath(route.path, parts.params) + (q ? `?${q}` : '');
    const headers = Object.fromEntries(Object.entries(parts.headers ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
    const res = await this.request<unknown>(route.method, path, { body: parts.body, signed: route.auth === 'signed', headers, ...(options.acceptStatus ? { acceptStatus: options.acceptStatus } : {}) });
    const parsed = route.response.safeParse(res.body);
    if (!parsed.success) throw new ApiError('RESPONSE_INVALID', `The answer of ${route.name} does not fit its schema: ${parsed.error.issues[0]?.message ?? ''}`, res.status);
    return parsed.data as RouteResponse<R>;
  }

  /** Lists a dataset. A random Idempotency-Key is sent unless given, so retrying this call is safe. */
  async createDataset(input: DatasetInputWire, options: { idempotencyKey?: string } = {}): Promise<Dataset> {
    const key = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    return this.call(routes.createDataset, { body: input, headers: { 'idempotency-key': key } });
  }

  async updateDataset(id: string, patch: Omit<DatasetPatch, 'expectedVersion'> & { expectedVersion?: number }): Promise<Dataset> {
    return this.call(routes.updateDataset, { params: { id }, body: patch });
  }

  async delistDataset(id: string): Promise<Dataset> {
    return this.call(routes.delistDataset, { params: { id } });
  }

  /**
   * Puts a listing on the DatasetRegistry, or records its current manifest CID and price there, without gas:
   * fetches the EIP-712 message (`Registration`, or `Update` once registered), signs it with this client's signer
   * (the owner), and lets the API relay it. Returns the listing with `chainDatasetId` and `chainManifestCid`.
   * Answers `DATASET_ALREADY_REGISTERED` when the registry is already up to date.
   */
  async registerDataset(id: string): Promise<Dataset> {
    if (!this.options.signer) throw new ProvenaError('AUTH_MISSING', "Registering needs the owner's signer");
    const typed = await this.call(routes.getRegistration, { params: { id } });
    const { domain, types, message } = typed;
    const signature = await this.options.signer.signTypedData(
      { ...(domain.name ? { name: domain.name } : {}), ...(domain.version ? { version: domain.version } : {}), ...(domain.chainId != null ? { chainId: domain.chainId } : {}), ...(domain.verifyingContract ? { verifyingContract: domain.verifyingContract } : {}) },
      types,
      message,
    );
    return this.call(routes.registerDataset, { params: { id }, body: { nonce: message.nonce, deadline: message.deadline, signature } });
  }

  /** The key gate's backend and the public key data keys are sealed to on upload. */
  async keyGate(): Promise<KeyGateInfo> {
    return this.call(routes.getKeyGate, {});
  }

  async getDataset(id: string): Promise<Dataset> {
    return this.call(routes.getDataset, { params: { id } });
  }

  async listDatasets(query: { tag?: string; owner?: string; q?: string; status?: 'active' | 'delisted'; limit?: number; cursor?: string } = {}): Promise<DatasetPage> {
    return this.call(routes.listDatasets, { query });
  }

  /** Starts an encrypted upload (owner only): presigned part URLs. */
  async startUpload(id: string, body: UploadStartInputWire): Promise<UploadSession> {
    return this.call(routes.startUpload, { params: { id }, body });
  }

  /** The parts S3 holds and fresh URLs for the rest (resume). */
  async getUpload(id: string, uploadId: string): Promise<UploadSession> {
    return this.call(routes.getUpload, { params: { id, uploadId } });
  }

  /** An owner's uploads in progress (open, not expired), newest first, with parts done of total. */
  async listUploads(query: { owner: string; limit?: number; cursor?: string }): Promise<UploadSummaryPage> {
    return this.call(routes.listUploads, { query });
  }

  /** Completes an upload: the API verifies the parts, wraps the key and publishes the manifest. */
  async completeUpload(id: string, uploadId: string, body: UploadCompleteInput): Promise<Dataset> {
    return this.call(routes.completeUpload, { params: { id, uploadId }, body });
  }

  /** Asks the key gate for a dataset's data key (sealed to the requester). */
  async releaseKey(id: string, body: KeyReleaseInput): Promise<KeyReleaseResult> {
    return this.call(routes.releaseKey, { params: { id }, body });
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
    return this.call(routes.getHealth, {}, { acceptStatus: [503] });
  }
}
