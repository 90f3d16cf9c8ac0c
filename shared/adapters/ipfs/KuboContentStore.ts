import { create } from 'kubo-rpc-client';
import type { AddOptions, KuboRPCClient } from 'kubo-rpc-client';
import { DependencyError, NotFoundError, ProvenaError, ValidationError } from '../../errors.js';
import type { AddResult, ContentStore } from '../../ports/ContentStore.js';
import type { ComponentHealth } from '../../ports/Health.js';
import { probeHealth } from '../probeHealth.js';
import { canonicalJson, collect, parseCid, parseJsonBytes } from '../../encoding/canonicalJson.js';
import { UNIXFS_CHUNK_SIZE } from '../../encoding/unixfs.js';

/**
 * The `ipfs add` options every Kubo call uses: the same DAG as {@link LocalUnixfsContentStore}'s pinned importer
 * (`--cid-version=1 --raw-leaves --chunker=size-262144`, balanced layout), and pinned so Kubo's GC keeps it.
 */
export const KUBO_ADD_OPTIONS = {
  cidVersion: 1,
  rawLeaves: true,
  chunker: `size-${UNIXFS_CHUNK_SIZE}`,
  hashAlg: 'sha2-256',
  trickle: false,
  wrapWithDirectory: false,
  pin: true,
} as const satisfies AddOptions;

/** Options of {@link KuboContentStore}. */
export interface KuboContentStoreOptions {
  /** Kubo's RPC API, e.g. `http://127.0.0.1:5001` (the client appends `/api/v0`). Never expose it publicly. */
  url: string;
  /**
   * Client-side limit for the short calls (`health`, `has`), in ms. Default 10 000. `add` and `cat` stream
   * files of any size, so they get no overall client deadline (the lookup in `cat` is bounded by `findTimeoutMs`).
   */
  requestTimeoutMs?: number;
  /**
   * How long `cat`/`getJson` let Kubo look for a CID (locally and on the network) before giving up with
   * `CONTENT_NOT_FOUND`. Default 30 000. Ignored with `offline`.
   */
  findTimeoutMs?: number;
  /** Read only what the node holds (Kubo's `offline` option): an unknown CID fails at once. Default false. */
  offline?: boolean;
}

/**
 * {@link ContentStore} against a real Kubo (go-ipfs) daemon through its RPC API: the production target.
 * The embedded stack uses `LocalUnixfsContentStore`; both give the same CID for the same bytes.
 *
 * Errors: no daemon / connection refused / client timeout is `CONTENT_STORE_UNAVAILABLE`; a CID Kubo cannot
 * find (within `findTimeoutMs`, or locally when `offline`) is `CONTENT_NOT_FOUND`; any other RPC failure is
 * `DEPENDENCY_FAILED`. `cause` always keeps the client's error.
 *
 * @example
 * ```ts
 * const ipfs = new KuboContentStore({ url: 'http://127.0.0.1:5001' });
 * const { cid } = await ipfs.add(bytes);
 * ```
 */
export class KuboContentStore implements ContentStore {
  readonly url: string;
  readonly #client: KuboRPCClient;
  readonly #requestTimeoutMs: number;
  readonly #findTimeoutMs: number;
  readonly #offline: boolean;

  constructor(options: KuboContentStoreOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch (err) {
      throw new ValidationError(`Invalid Kubo RPC url ${options.url}`, [{ path: ['url'], message: 'not a URL' }], err);
    }
    this.url = parsed.toString();
    // No `timeout` here: in kubo-rpc-client 7.1.0 the client-wide timeout is never applied (its check is
    // `isNaN(timeout) && timeout > 0`), so short calls carry their own AbortSignal instead.
    this.#client = create({ url: parsed });
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#findTimeoutMs = options.findTimeoutMs ?? 30_000;
    this.#offline = options.offline ?? false;
  }

  /** Probes `id()` and `version()`: the daemon answers and its identity is readable. */
  health(): Promise<ComponentHealth> {
    return probeHealth(`kubo ${new URL(this.url).host}`, async () => {
      const signal = AbortSignal.timeout(this.#requestTimeoutMs);
      try {
        const [, v] = await Promise.all([this.#client.id({ signal }), this.#client.version({ signal })]);
        return v;
      } catch (err) {
        throw mapKuboError(err, 'health');
      }
    });
  }

  /** Adds and pins `content` with {@link KUBO_ADD_OPTIONS}; `size` is the number of file bytes sent. */
  async add(content: Uint8Array | AsyncIterable<Uint8Array>): Promise<AddResult> {
    // Kubo's `Size` is the DAG's cumulative size (protobuf overhead included), not the file's: count ourselves.
    let size = 0;
    const source =
      content instanceof Uint8Array
        ? ((size = content.byteLength), content)
        : (async function* () {
            for await (const chunk of content) {
              if (!(chunk instanceof Uint8Array)) throw new ValidationError('content chunks must be Uint8Array', [{ path: ['content'], message: 'not bytes' }]);
              size += chunk.byteLength;
              yield chunk;
            }
          })();
    try {
      const out = await this.#client.add(source, { ...KUBO_ADD_OPTIONS });
      return { cid: out.cid.toV1().toString(), size };
    } catch (err) {
      throw mapKuboError(err, 'add');
    }
  }

  /** Adds `value` as canonical JSON (see {@link canonicalJson}); non-JSON values are `VALIDATION_FAILED`. */
  async addJson(value: unknown): Promise<AddResult> {
    return this.add(new TextEncoder().encode(canonicalJson(value)));
  }

  /** Streams the file's bytes (validation and lookup happen on the first `next()`). */
  async *cat(cid: string): AsyncGenerator<Uint8Array, void, undefined> {
    const parsed = parseCid(cid);
    try {
      yield* this.#client.cat(parsed, this.#offline ? offlineOption() : { timeout: this.#findTimeoutMs });
    } catch (err) {
      throw mapKuboError(err, 'cat', cid);
    }
  }

  /** Reads and parses a JSON file. */
  async getJson(cid: string): Promise<unknown> {
    return parseJsonBytes(await collect(this.cat(cid)), cid);
  }

  /** Whether the node itself holds the root block; asked offline so it never searches the network. */
  async has(cid: string): Promise<boolean> {
    const parsed = parseCid(cid);
    try {
      await this.#client.block.stat(parsed, { ...offlineOption(), signal: AbortSignal.timeout(this.#requestTimeoutMs) });
      return true;
    } catch (err) {
      const mapped = mapKuboError(err, 'has', cid);
      if (mapped.code === 'CONTENT_NOT_FOUND') return false;
      throw mapped;
    }
  }
}

/**
 * Kubo's global `offline` flag, sent as `?offline=true`. The client's option types do not list it, but its
 * query builder forwards every option key, and Kubo applies `offline` to any command's core API.
 */
function offlineOption(): { timeout?: number } {
  // The cast only hides `offline` from the option type; the value is a plain JSON-able boolean.
  return { offline: true } as { timeout?: number };
}

/**
 * Maps a kubo-rpc-client failure onto the error root. Exported for unit tests.
 *
 * - `fetch failed` (connection refused, DNS, reset) and our client-side deadline: `CONTENT_STORE_UNAVAILABLE`.
 * - Kubo's "not found" answers, and its server-side deadline on a lookup (`context deadline exceeded`, which
 *   the client also reports as a TimeoutError): `CONTENT_NOT_FOUND`.
 * - Anything else: `DEPENDENCY_FAILED`.
 */
export function mapKuboError(err: unknown, op: string, cid?: string): ProvenaError {
  if (err instanceof ProvenaError) return err;
  // Duck-typed, not `instanceof Error`: fetch's errors come from Node's own realm (a different Error under jest's vm).
  const e = asErrorLike(err);
  const where = cid === undefined ? op : `${op} ${cid}`;
  const lookup = cid !== undefined;
  if (lookup && /not found|deadline exceeded|no link named|could not resolve/i.test(e.message)) {
    return new NotFoundError('CONTENT_NOT_FOUND', `Kubo could not find ${cid}: ${e.message}`, { cause: err, details: { cid } });
  }
  if ((e.name === 'TypeError' && e.message === 'fetch failed') || e.name === 'TimeoutError' || e.name === 'AbortError' || hasNetworkCode(e)) {
    return new DependencyError('CONTENT_STORE_UNAVAILABLE', `Kubo RPC unreachable during ${where}: ${describe(e)}`, { cause: err });
  }
  return new DependencyError('DEPENDENCY_FAILED', `Kubo RPC failed during ${where}: ${e.message}`, { cause: err });
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

interface ErrorLike {
  name: string;
  message: string;
  cause?: unknown;
  code?: unknown;
}

function asErrorLike(err: unknown): ErrorLike {
  if (typeof err === 'object' && err !== null && typeof (err as ErrorLike).message === 'string') {
    const e = err as ErrorLike;
    return { name: typeof e.name === 'string' ? e.name : 'Error', message: e.message, cause: e.cause, code: e.code };
  }
  return { name: 'Error', message: String(err) };
}

function hasNetworkCode(e: ErrorLike): boolean {
  for (let c: ErrorLike | undefined = e, depth = 0; c !== undefined && depth < 5; c = c.cause === undefined ? undefined : asErrorLike(c.cause), depth++) {
    if (typeof c.code === 'string' && NETWORK_CODES.has(c.code)) return true;
  }
  return false;
}

/** `fetch failed` hides the reason in `cause`; surface it (e.g. `connect ECONNREFUSED 127.0.0.1:5001`). */
function describe(e: ErrorLike): string {
  return e.cause === undefined ? e.message : `${e.message} (${asErrorLike(e.cause).message})`;
}
