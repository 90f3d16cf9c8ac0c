/**
 * `defineRoute`: the one description of an API route. Method, path, auth, request and response schemas, the
 * route's least-privilege grants and its Lambda settings live here and nowhere else: the handler wrapper
 * (`routeHandler`) takes auth and schemas from it, the embedded server dispatches by it, OpenAPI is generated
 * from it, the CDK construct makes one Lambda per definition with its grants, and the SDK's typed `call` builds
 * paths and parses answers with it.
 *
 * This module imports zod types only, so the SDK can carry the route table into a browser.
 */
import type { z } from 'zod';

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * What one route's Lambda may touch (the CDK construct turns each field into IAM grants). Read-only routes get
 * read grants only. Required on every route: a route without a decision about its grants does not compile.
 */
export interface RouteAccess {
  readonly datasets?: 'read' | 'write';
  /** `write`: signed routes record the request nonce with a conditional put; `describe`: health probe. */
  readonly nonces?: 'describe' | 'write';
  /**
   * Upload sessions: `read` GetItem; `list` Query of the owner's open sessions (openByOwner index); `write` also
   * the conditional PutItem (start) and UpdateItem (complete); `describe`: health probe (DescribeTable, no items).
   */
  readonly uploads?: 'describe' | 'read' | 'list' | 'write';
  /**
   * - `probe`: HeadBucket only (health);
   * - `upload`: presign PUT/multipart uploads of ciphertext anywhere in the bucket (listing routes);
   * - `multipartStart`: CreateMultipartUpload + presigned UploadPart URLs under the upload prefix;
   * - `multipartResume`: also ListParts, to report the parts S3 holds;
   * - `multipartList`: ListParts only (counting an owner's parts uploaded, no presigning);
   * - `multipartComplete`: ListParts, CompleteMultipartUpload, HeadObject;
   * - `download`: presigned GET of ciphertext under the upload prefix, kms:Decrypt.
   */
  readonly bucket?: 'probe' | 'upload' | 'multipartStart' | 'multipartResume' | 'multipartList' | 'multipartComplete' | 'download';
  /**
   * The KMS key gate (other gates need no AWS permission): `publicKey` reads the inbox key's public half;
   * `wrap` opens owners' sealed keys (inbox DeriveSharedSecret) and rewraps them (Encrypt), never decrypts;
   * `release` decrypts, only under an enclave attestation or for ciphertexts license holders may have.
   */
  readonly keyGate?: 'publicKey' | 'wrap' | 'release';
  /**
   * `read`: the route relays with the relayer key. Embedded stack: the in-process single writer holds the key.
   * Cloud: SendMessage to the relayer's FIFO queue; only its consumer reads the key's secret.
   */
  readonly relayerSecret?: 'read';
  /** `read`: the chain index (licenses and jobs: GetItem, index queries) and the indexer's cursor (GetItem). */
  readonly chainIndex?: 'read';
  /** `write`: the relayer's journal (conditional puts, the pending-by-nonce query), for routes that relay. */
  readonly relayJournal?: 'write';
  /** `write`: relayed-call quotas and the relayer budget (routes that relay; shared/use-cases/relayQuota.ts). */
  readonly relayQuota?: 'write';
  /** The jobs table: `read` GetItem/Query; `write` also conditional puts and updates (submit, lease, commit). */
  readonly jobs?: 'read' | 'write';
  /**
   * The job queue (SQS in the cloud): `send` on submit; `consume` receive/change visibility/delete (leases), and send
   * too: the lease route's repair sweep re-queues jobs left `queued` without a message (shared/use-cases/requeueStaleJobs.ts).
   */
  readonly jobQueue?: 'send' | 'consume';
  /** Job artifacts (checkpoints, models) under `jobs/{jobId}/`: `write` presigned PUT + HeadObject; `read` presigned GET. */
  readonly artifacts?: 'read' | 'write';
  /** `write`: store receipts in the content store (IPFS). */
  readonly content?: 'write';
}

/** Lambda settings of one route. */
export interface LambdaSettings {
  /** Memory, MB. @default 512 */
  readonly memoryMb?: number;
  /** Timeout, seconds (API Gateway caps at 29). @default 10 */
  readonly timeoutSeconds?: number;
}

/** A request rate: `ratePerSecond` steady, `burst` at once (a token bucket). */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/**
 * One route's own limits, on top of the API-wide per-IP limit:
 * - `total`: all clients together. The cloud sets it as the route's API Gateway throttling; the embedded server
 *   keeps one bucket per route.
 * - `perClient`: each caller (its `x-provena-address`, else its IP). Enforced by the embedded server; API Gateway
 *   HTTP APIs throttle per route only, so in the cloud a per-client limit needs a WAF rule in front (not deployed).
 */
export interface RouteRateLimit {
  readonly total: RateLimit;
  readonly perClient: RateLimit;
}

/** Everything about one route. See {@link defineRoute}. */
export interface RouteDefinition {
  /** Stable operation id (OpenAPI operationId, Lambda logical id). */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/v1/datasets/{id}`. */
  readonly path: `/${string}`;
  /** Handler module, relative to the repo root; it exports `handler = routeHandler(thisRoute, …)`. */
  readonly handler: `functions/${string}.ts`;
  /** `signed`: the request must carry a valid EIP-712 request signature (see shared/auth). */
  readonly auth: 'signed' | 'public';
  readonly summary: string;
  /** Path parameters; its keys must be exactly the `{names}` of `path`. */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** Request headers the route reads (lower-case names), beyond the auth headers. */
  readonly headers?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The success body. */
  readonly response: z.ZodType;
  /** Success status. @default 200 */
  readonly success?: number;
  readonly access: RouteAccess;
  readonly lambda?: LambdaSettings;
  /** This route's own rate limit, on top of the API-wide one (stricter for routes that write or cost gas). */
  readonly rateLimit?: RouteRateLimit;
}

/** The `{names}` in a path template. */
export type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParamNames<Rest> : never;

type ParamsMatchPath<R extends RouteDefinition> = [PathParamNames<R['path']>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: z.ZodObject<{ [K in PathParamNames<R['path']>]: z.ZodType }> };

/**
 * Defines a route. The type checks that the params schema names exactly the path's parameters and that `access`
 * is given; at load, the same rule is checked at run time (a path typed as a wide string gets no static check).
 *
 * @example
 * ```ts
 * export const getDataset = defineRoute({
 *   name: 'getDataset', method: 'GET', path: '/v1/datasets/{id}', handler: 'functions/datasets/get.ts',
 *   auth: 'public', summary: 'One listing', params: DatasetIdParams, response: Dataset, access: { datasets: 'read' },
 * });
 * ```
 */
export function defineRoute<const R extends RouteDefinition>(route: R & ParamsMatchPath<R>): R {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort();
  const keys = Object.keys(route.params?.shape ?? {}).sort();
  if (names.join(',') !== keys.join(',')) {
    throw new Error(`Route ${route.name}: params schema has [${keys.join(', ')}] but the path ${route.path} has [${names.join(', ')}]`);
  }
  return route;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type In<S> = S extends z.ZodType ? z.input<S> : undefined;

/** The validated parts of a request to route `R`, as its handler sees them. */
export interface RouteInput<R extends RouteDefinition> {
  params: Out<R['params']>;
  query: Out<R['query']>;
  headers: Out<R['headers']>;
  body: Out<R['body']>;
}

/** What a client sends to route `R` (schema inputs: defaults may be left out). */
export type RouteCallInput<R extends RouteDefinition> = {
  [K in 'params' | 'query' | 'headers' | 'body' as R[K] extends z.ZodType ? K : never]: In<R[K]>;
};

/** The success body of route `R`, as the client receives it. */
export type RouteResponse<R extends RouteDefinition> = z.output<R['response']>;

/** Expands a path template with (URI-encoded) parameters. */
export function expandPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === null || v === '') throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

/** Compiles a path template to a matcher that returns the path parameters, or undefined. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] as string;
    const val = p[i] as string;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (val === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(val);
      } catch {
        return undefined;
      }
      params[seg.slice(1, -1)] = decoded;
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}
