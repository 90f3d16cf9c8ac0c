import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import S3rver from 's3rver';

/** Options for {@link startEmbeddedS3}. */
export interface EmbeddedS3Options {
  /** Where s3rver keeps buckets and objects. Reusing the directory keeps the data across restarts. */
  dir: string;
  /** TCP port on 127.0.0.1; `0` picks a free one. */
  port: number;
  /** Buckets to create (idempotent: existing buckets and their objects are kept). */
  buckets: readonly string[];
  /** Suppress s3rver's per-request log lines. Default `true`. */
  silent?: boolean;
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
 * Starts s3rver 3.7.1 on 127.0.0.1 (never on all interfaces) with `buckets` created and a permissive CORS rule.
 *
 * s3rver 3.7.1 lacks three operations the `BlobStore` port needs, so a thin front serves them and passes every
 * other request through to s3rver:
 * - ListParts (`GET ?uploadId`) and AbortMultipartUpload (`DELETE ?uploadId`) answer `MethodNotAllowed` in
 *   s3rver; the front serves them from s3rver's own upload directory
 *   (`<dir>/<bucket>/._S3rver_uploads/<uploadId>/<partNumber>[.md5]`, the layout of the pinned 3.7.1).
 * - ListObjectsV2 fails with InternalError whenever a page is truncated: s3rver encrypts continuation tokens
 *   with DES, which OpenSSL 3 (Node >= 17) no longer provides. The front answers ListObjectsV2 from s3rver's
 *   store (`store.listObjects`) with plain base64url tokens.
 * The front does not check SigV4 signatures on these three operations (s3rver checks all others): it listens on
 * loopback only and holds development data.
 *
 * @example
 * ```ts
 * const s3 = await startEmbeddedS3({ dir: '.provena/s3', port: 0, buckets: ['provena-blobs'] });
 * const client = createS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true,
 *   credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
 * // ...
 * await s3.close();
 * ```
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const s3rver = new S3rver({
    directory: dir,
    silent: options.silent ?? true,
    // Path-style only: virtual-host buckets would need DNS for `<bucket>.localhost`.
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [PERMISSIVE_CORS_XML] })),
  });
  await s3rver.configureBuckets();

  const passThrough = s3rver.callback();
  // s3rver's store is not in @types/s3rver; this is the one method the ListObjectsV2 front calls.
  const store = (s3rver as unknown as { store: S3rverStore }).store;
  const server = createServer((req, res) => {
    const shimmed = multipartShim(dir, req, res) ?? listV2Shim(store, req, res);
    if (shimmed === undefined) {
      passThrough(req, res);
      return;
    }
    shimmed.catch((err: unknown) => {
      sendError(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      // The AWS SDK keeps sockets alive; without this, close() waits for them to time out.
      server.closeAllConnections();
      await closed;
      // s3rver only closes its winston logger when its own server closes; ours replaced that server.
      // The logger is untyped in @types/s3rver; the optional chain keeps this safe if it disappears.
      (s3rver as unknown as { logger?: { close(): void } }).logger?.close();
    },
  };
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
    ? listParts(root, bucket, key, uploadId, url.searchParams, res)
    : abortUpload(root, bucket, key, uploadId, res);
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
    if ((await store.getBucket(bucket)) === null) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(Number(q.get('max-keys') ?? '1000'), 1000);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) return sendError(res, 400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
    const token = q.get('continuation-token');
    let startAfter = q.get('start-after') ?? '';
    if (token !== null) {
      startAfter = Buffer.from(token, 'base64url').toString('utf8');
      if (startAfter === '') return sendError(res, 400, 'InvalidArgument', 'The continuation token provided is incorrect');
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
  res: ServerResponse,
): Promise<void> {
  const d = await uploadDir(root, bucket, key, uploadId);
  if (d === undefined) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
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

async function abortUpload(root: string, bucket: string, key: string, uploadId: string, res: ServerResponse): Promise<void> {
  const d = await uploadDir(root, bucket, key, uploadId);
  if (d === undefined) return sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  await rm(d, { recursive: true, force: true });
  res.writeHead(204, { 'x-amz-request-id': randomUUID() });
  res.end();
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message></Error>`);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
