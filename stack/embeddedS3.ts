import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import S3rver from 's3rver';
import { verifySigV4, type SigV4Credentials } from './sigv4.js';

/**
 * The key pair the embedded stack uses by default (s3rver's own dummy pair). Development data only: the stack
 * reads its pair from its configuration (`PROVENA_S3_ACCESS_KEY_ID` / `PROVENA_S3_SECRET_ACCESS_KEY`, defaulting
 * to this) and hands the same pair to the server and to the API's S3 client.
 */
export const EMBEDDED_S3_DEV_CREDENTIALS: SigV4Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Options for {@link startEmbeddedS3}. */
export interface EmbeddedS3Options {
  /** Where s3rver keeps buckets and objects. Reusing the directory keeps the data across restarts. */
  dir: string;
  /** TCP port on 127.0.0.1; `0` picks a free one. */
  port: number;
  /** Buckets to create (idempotent: existing buckets and their objects are kept). */
  buckets: readonly string[];
  /** The only key pair whose SigV4 signatures are accepted. Default {@link EMBEDDED_S3_DEV_CREDENTIALS}. */
  credentials?: SigV4Credentials;
  /** The region signatures must be scoped to. Default `us-east-1`. */
  region?: string;
  /** Suppress s3rver's per-request log lines. Default `true`. */
  silent?: boolean;
  /** The clock signatures are checked against (tests). */
  now?: () => Date;
}

/** A running embedded S3 server. */
export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>`: pass it as the S3 client's `endpoint` with `forcePathStyle: true`. */
  endpoint: string;
  port: number;
  /** Stops listening and drops open connections. The data under `dir` stays. */
  close(): Promise<void>;
}

/**
 * Permissive CORS for the embedded server only, so a browser on any local origin can PUT presigned parts
 * and read the `ETag` it needs to complete a multipart upload. Never copy this to a real bucket.
 */
const PERMISSIVE_CORS_XML = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>DELETE</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/**
 * A body whose declared SHA-256 is checked is held back until it is verified, up to this many bytes: a smaller
 * body that does not match never reaches s3rver. Above it the body streams on (all but its last chunk) and a
 * mismatch aborts the forwarded request at the end.
 */
const VERIFY_HOLD_BYTES = 16 * 1024 * 1024;

/** Request headers that belong to one hop and are not forwarded to s3rver. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'expect', 'upgrade', 'proxy-connection', 'proxy-authorization', 'te', 'trailer']);

/**
 * Starts an S3 endpoint on 127.0.0.1 (never on all interfaces) with `buckets` created and a permissive CORS
 * rule, that verifies AWS SigV4 as S3 does and refuses everything else.
 *
 * **Why a front and not s3rver alone.** s3rver 3.7.1 is a Koa app whose middleware chain is fixed in its
 * constructor (logger, XML, vhost, router; its `authentication` middleware sits inside the router). It has no
 * request hook, and its SigV4 check is a stub ("Signature version 4 calculation is unimplemented": any signature
 * with a known key id passes) while unsigned requests pass as anonymous. So a front on the public port verifies
 * every request with {@link verifySigV4} (./sigv4.ts) and forwards the good ones to s3rver, which listens on its
 * own loopback port and answers only requests carrying a random per-process token that the front adds (so the
 * internal port is no way around the check). Refused requests get S3's XML error and 403 (`AccessDenied`,
 * `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied` "Request has expired") or 400 when malformed;
 * nothing reaches s3rver, so nothing changes. CORS preflights (`OPTIONS`) are unsigned, as on S3.
 *
 * **Payloads.** Bodies stream through; none is buffered whole. A header-signed request declaring a hex
 * `x-amz-content-sha256` has its body hashed on the way: up to 16 MiB it is held and forwarded only once it
 * matches; above that it streams on and a mismatch aborts the forwarded request at the end (`400
 * XAmzContentSHA256Mismatch`). s3rver writes objects in place, so a large mismatched PUT can leave that key
 * truncated: acceptable for a local stack, never for S3 itself. `UNSIGNED-PAYLOAD` (presigned URLs, the SDK over
 * streams) is not hashed, as on S3. aws-chunked `STREAMING-*` payloads are refused (`501`): s3rver would store
 * the chunk framing inside the object (clients use `requestChecksumCalculation: 'WHEN_REQUIRED'`).
 *
 * **Operations s3rver lacks.** The front also serves, after verification, three operations the `BlobStore` port
 * needs:
 * - ListParts (`GET ?uploadId`) and AbortMultipartUpload (`DELETE ?uploadId`) answer `MethodNotAllowed` in
 *   s3rver; the front serves them from s3rver's own upload directory
 *   (`<dir>/<bucket>/._S3rver_uploads/<uploadId>/<partNumber>[.md5]`, the layout of the pinned 3.7.1).
 * - ListObjectsV2 fails with InternalError whenever a page is truncated: s3rver encrypts continuation tokens
 *   with DES, which OpenSSL 3 (Node >= 17) no longer provides. The front answers ListObjectsV2 from s3rver's
 *   store (`store.listObjects`) with plain base64url tokens.
 *
 * @example
 * ```ts
 * const s3 = await startEmbeddedS3({ dir: '.provena/s3', port: 0, buckets: ['provena-blobs'] });
 * const client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true,
 *   credentials: EMBEDDED_S3_DEV_CREDENTIALS });
 * // ...
 * await s3.close();
 * ```
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const credentials = options.credentials ?? EMBEDDED_S3_DEV_CREDENTIALS;
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? (() => new Date());
  registerWithS3rver(credentials);
  const s3rver = new S3rver({
    directory: dir,
    silent: options.silent ?? true,
    // Path-style only: virtual-host buckets would need DNS for `<bucket>.localhost`.
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [PERMISSIVE_CORS_XML] })),
  });
  await s3rver.configureBuckets();

  const token = randomBytes(32).toString('hex');
  const s3rverCallback = s3rver.callback();
  const inner = createServer((req, res) => {
    const given = req.headers[INTERNAL_TOKEN_HEADER];
    if (typeof given !== 'string' || given.length !== token.length || !timingSafeEqual(Buffer.from(given), Buffer.from(token))) {
      req.resume();
      return sendError(req, res, 403, 'AccessDenied', 'Access Denied');
    }
    delete req.headers[INTERNAL_TOKEN_HEADER];
    s3rverCallback(req, res);
  });
  const innerPort = await listen(inner, 0);
  const agent = new Agent({ keepAlive: true });

  // s3rver's store is not in @types/s3rver; this is the one method the ListObjectsV2 front calls.
  const store = (s3rver as unknown as { store: S3rverStore }).store;
  const front = createServer((req, res) => {
    if (req.method !== 'OPTIONS') {
      const verified = verifySigV4({ method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders }, { credentials: [credentials], region, now: now() });
      if (!verified.ok) {
        req.resume();
        return sendError(req, res, verified.status, verified.code, verified.message, verified.details);
      }
      const shimmed = multipartShim(dir, req, res) ?? listV2Shim(store, req, res);
      if (shimmed !== undefined) {
        shimmed.catch((err: unknown) => sendError(req, res, 500, 'InternalError', err instanceof Error ? err.message : String(err)));
        return;
      }
      return forward(req, res, { port: innerPort, agent, token }, verified.payloadSha256);
    }
    forward(req, res, { port: innerPort, agent, token }, undefined);
  });
  const port = await listen(front, options.port);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      const closed = Promise.all(
        [front, inner].map((srv) => new Promise<void>((resolve, reject) => srv.close((err) => (err ? reject(err) : resolve())))),
      );
      // The AWS SDK keeps sockets alive; without this, close() waits for them to time out.
      front.closeAllConnections();
      inner.closeAllConnections();
      agent.destroy();
      await closed;
      // s3rver only closes its winston logger when its own server closes; ours replaced that server.
      // The logger is untyped in @types/s3rver; the optional chain keeps this safe if it disappears.
      (s3rver as unknown as { logger?: { close(): void } }).logger?.close();
    },
  };
}

/** The header carrying the front's per-process token to s3rver's internal port. */
const INTERNAL_TOKEN_HEADER = 'x-provena-s3-front';

/**
 * s3rver forwards the `Authorization` it gets to its own (stub) check, which wants the key id in its account
 * registry; it knows only `S3RVER`. The registry is not in s3rver's types or its `main`; the pinned 3.7.1 keeps
 * it in `lib/models/account.js`.
 */
function registerWithS3rver(c: SigV4Credentials): void {
  const account = createRequire(import.meta.url)('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
  account.DUMMY_ACCOUNT.createKeyPair(c.accessKeyId, c.secretAccessKey);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Passes a verified request to s3rver and its answer back. With `payloadSha256`, the body must hash to it:
 * see {@link startEmbeddedS3} on what is held back and what streams.
 */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  inner: { port: number; agent: Agent; token: string },
  payloadSha256: string | undefined,
): void {
  const headers: Record<string, string | string[]> = { [INTERNAL_TOKEN_HEADER]: inner.token };
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  let aborted = false;
  let upstream: ClientRequest | undefined;
  const open = (): ClientRequest => {
    const up = request({ host: '127.0.0.1', port: inner.port, method: req.method, path: req.url, headers, agent: inner.agent });
    up.on('response', (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'transfer-encoding') out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    up.on('error', (err) => {
      if (!aborted) sendError(req, res, 500, 'InternalError', err.message);
    });
    upstream = up;
    return up;
  };
  req.on('error', () => upstream?.destroy());
  res.on('close', () => {
    if (!res.writableFinished) upstream?.destroy();
  });

  if (payloadSha256 === undefined) {
    req.pipe(open());
    return;
  }
  const hash = createHash('sha256');
  const held: Buffer[] = [];
  let heldBytes = 0;
  let waiting = false;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes <= VERIFY_HOLD_BYTES) return;
    const up = upstream ?? open();
    // Everything but the last chunk moves on: the request cannot complete in s3rver before the hash is known.
    while (held.length > 1) {
      const c = held.shift() as Buffer;
      heldBytes -= c.length;
      if (!up.write(c) && !waiting) {
        waiting = true;
        req.pause();
        up.once('drain', () => {
          waiting = false;
          req.resume();
        });
      }
    }
  });
  req.on('end', () => {
    if (hash.digest('hex') !== payloadSha256) {
      aborted = true;
      upstream?.destroy();
      return sendError(req, res, 400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const up = upstream ?? open();
    for (const c of held) up.write(c);
    up.end();
  });
}

/** Serves ListParts / AbortMultipartUpload, or returns undefined to let s3rver handle the request. */
function multipartShim(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
  if (req.method !== 'GET' && req.method !== 'DELETE') return undefined;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const uploadId = url.searchParams.get('uploadId');
  if (uploadId === null) return undefined;
  const [, bucketEnc, ...keyParts] = url.pathname.split('/');
  if (bucketEnc === undefined || bucketEnc === '' || keyParts.length === 0) return undefined;
  const bucket = decodeURIComponent(bucketEnc);
  const key = keyParts.map((p) => decodeURIComponent(p)).join('/');
  req.resume(); // drain any body so the socket can be reused
  return req.method === 'GET'
    ? listParts(root, bucket, key, uploadId, url.searchParams, req, res)
    : abortUpload(root, bucket, key, uploadId, req, res);
}

/** The part of s3rver's FilesystemStore (3.7.1) that the ListObjectsV2 front uses. */
interface S3rverStore {
  getBucket(bucket: string): Promise<unknown>;
  listObjects(
    bucket: string,
    options: { prefix: string; delimiter: string; startAfter: string; maxKeys: number },
  ): Promise<{
    objects: { key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string | undefined> }[];
    commonPrefixes: string[];
    isTruncated: boolean;
  }>;
}

/** Serves ListObjectsV2 (`GET /<bucket>?list-type=2`), or returns undefined for anything else. */
function listV2Shim(store: S3rverStore, req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
  if (req.method !== 'GET') return undefined;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams;
  if (q.get('list-type') !== '2') return undefined;
  const segments = url.pathname.split('/').filter((p) => p !== '');
  if (segments.length !== 1 || segments[0] === undefined) return undefined;
  const bucket = decodeURIComponent(segments[0]);
  req.resume();
  return (async () => {
    if ((await store.getBucket(bucket)) === null) return sendError(req, res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(Number(q.get('max-keys') ?? '1000'), 1000);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) return sendError(req, res, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
    const token = q.get('continuation-token');
    let startAfter = q.get('start-after') ?? '';
    if (token !== null) {
      startAfter = Buffer.from(token, 'base64url').toString('utf8');
      if (startAfter === '') return sendError(req, res, 400, 'InvalidArgument', 'The continuation token provided is incorrect');
    }
    const result =
      maxKeys === 0 ? { objects: [], commonPrefixes: [], isTruncated: false } : await store.listObjects(bucket, { prefix, delimiter, startAfter, maxKeys });
    const lastKey = [result.objects.at(-1)?.key ?? '', result.commonPrefixes.at(-1) ?? ''].sort().at(-1) ?? '';
    const next = result.isTruncated && lastKey !== '' ? Buffer.from(lastKey, 'utf8').toString('base64url') : undefined;
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix>` +
      (token === null ? (startAfter === '' ? '' : `<StartAfter>${esc(startAfter)}</StartAfter>`) : `<ContinuationToken>${esc(token)}</ContinuationToken>`) +
      (next === undefined ? '' : `<NextContinuationToken>${next}</NextContinuationToken>`) +
      `<KeyCount>${result.objects.length + result.commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      (delimiter === '' ? '' : `<Delimiter>${esc(delimiter)}</Delimiter>`) +
      `<IsTruncated>${result.isTruncated}</IsTruncated>` +
      result.objects
        .map(
          (o) =>
            `<Contents><Key>${esc(o.key)}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
            `<ETag>${esc(o.metadata['etag'] ?? '')}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('') +
      result.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`).join('') +
      '</ListBucketResult>';
    res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
    res.end(xml);
  })();
}

/** The upload's directory, or undefined when bucket/upload do not exist or the upload is for another key. */
async function uploadDir(root: string, bucket: string, key: string, uploadId: string): Promise<string | undefined> {
  // s3rver's ids are 32 hex chars; anything else must not reach path.join.
  if (!/^[0-9a-f]{32}$/.test(uploadId) || bucket.includes('/') || bucket.startsWith('.')) return undefined;
  const d = path.join(root, bucket, '._S3rver_uploads', uploadId);
  try {
    const storedKey = await readFile(path.join(d, 'key'), 'utf8');
    return storedKey === key ? d : undefined;
  } catch {
    return undefined;
  }
}

async function listParts(
  root: string,
  bucket: string,
  key: string,
  uploadId: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const d = await uploadDir(root, bucket, key, uploadId);
  if (d === undefined) return sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  const marker = Number(query.get('part-number-marker') ?? '0');
  const maxParts = Math.min(Number(query.get('max-parts') ?? '1000'), 1000);

  // A part counts once its .md5 is written: s3rver writes that last, after the bytes.
  const numbers = (await readdir(d))
    .filter((f) => /^\d+\.md5$/.test(f))
    .map((f) => Number(f.slice(0, -4)))
    .filter((n) => n > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const parts = await Promise.all(
    page.map(async (n) => {
      const [md5, st] = await Promise.all([readFile(path.join(d, `${n}.md5`), 'utf8'), stat(path.join(d, String(n)))]);
      return { n, md5: md5.trim(), size: st.size, mtime: st.mtime.toISOString() };
    }),
  );
  const truncated = numbers.length > page.length;
  const last = page.at(-1) ?? marker;
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${last}</NextPartNumberMarker>` +
    `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    parts
      .map((p) => `<Part><PartNumber>${p.n}</PartNumber><LastModified>${p.mtime}</LastModified><ETag>"${p.md5}"</ETag><Size>${p.size}</Size></Part>`)
      .join('') +
    '</ListPartsResult>';
  res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
  res.end(xml);
}

async function abortUpload(root: string, bucket: string, key: string, uploadId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const d = await uploadDir(root, bucket, key, uploadId);
  if (d === undefined) return sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  await rm(d, { recursive: true, force: true });
  res.writeHead(204, { 'x-amz-request-id': randomUUID() });
  res.end();
}

/**
 * Answers with S3's XML error document (no body for HEAD). Browsers get the bucket's CORS headers on errors
 * too, as S3 sends them, so a page can read why it was refused.
 */
function sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, details: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() };
  if (req.headers.origin !== undefined) Object.assign(headers, { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag' });
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const extra = Object.entries(details)
    .map(([k, v]) => `<${k}>${esc(v)}</${k}>`)
    .join('');
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message>${extra}</Error>`);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
