/**
 * AWS Signature Version 4 verification for S3 requests, as S3 itself does it: the `Authorization` header form and
 * the presigned query form (`X-Amz-*` parameters). Used by the embedded S3 (embeddedS3.ts), whose s3rver 3.7.1
 * accepts any SigV4 signature unchecked.
 *
 * What is checked, in the order S3 reports it:
 * - exactly one mechanism (header or query); none is `AccessDenied`, SigV2 is refused;
 * - the credential scope `<key>/<yyyymmdd>/<region>/s3/aws4_request`: an unknown key is `InvalidAccessKeyId`,
 *   a wrong date, region or service is malformed (400);
 * - time: a header-signed request within 15 minutes of the server clock (`RequestTimeTooSkewed`); a presigned
 *   one not expired (`AccessDenied` "Request has expired", at most 7 days) and not dated in the future;
 * - `host` and every `x-amz-*` header present are signed;
 * - the signature over the canonical request: method, the path re-encoded segment by segment (S3 does not
 *   normalize paths), every query parameter but `X-Amz-Signature` (so `partNumber`, `uploadId` and the key are
 *   all bound), the signed headers, and the payload hash (`x-amz-content-sha256` for the header form,
 *   `UNSIGNED-PAYLOAD` for presigned URLs). A mismatch is `SignatureDoesNotMatch`.
 *
 * The payload itself is not read here: {@link SigV4Verified.payloadSha256} says what the body must hash to, and
 * the caller checks it while streaming.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** An access key pair the server accepts. */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The parts of an HTTP request a signature covers, as received (nothing decoded or normalized). */
export interface SigV4Request {
  method: string;
  /** Path and query exactly as on the request line, e.g. `/bucket/a%20b?partNumber=1&uploadId=x`. */
  url: string;
  /** `IncomingMessage.rawHeaders`: names and values alternating, repeats kept. */
  rawHeaders: readonly string[];
}

/** Options of {@link verifySigV4}. */
export interface SigV4Options {
  /** The accepted key pairs. */
  credentials: readonly SigV4Credentials[];
  /** The only region the server answers for. */
  region: string;
  now: Date;
}

/** A request whose signature holds. */
export interface SigV4Verified {
  ok: true;
  accessKeyId: string;
  /** The lowercase hex SHA-256 the body must have, or undefined when the payload is unsigned. */
  payloadSha256: string | undefined;
}

/** A refused request: the HTTP status and the S3 error code and message to answer with. */
export interface SigV4Refused {
  ok: false;
  status: 400 | 403 | 501;
  code: string;
  message: string;
  /** Extra elements of the S3 error document (what S3 returns to help debug a signature). */
  details?: Record<string, string>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED = 'UNSIGNED-PAYLOAD';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (status: SigV4Refused['status'], code: string, message: string, details?: Record<string, string>): SigV4Refused => ({
  ok: false,
  status,
  code,
  message,
  ...(details === undefined ? {} : { details }),
});
const ACCESS_DENIED = refuse(403, 'AccessDenied', 'Access Denied');

/**
 * Verifies the SigV4 signature of an S3 request.
 *
 * @example
 * ```ts
 * const v = verifySigV4({ method: req.method, url: req.url, rawHeaders: req.rawHeaders },
 *   { credentials: [{ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }], region: 'us-east-1', now: new Date() });
 * if (!v.ok) return sendS3Error(res, v);
 * ```
 */
export function verifySigV4(req: SigV4Request, options: SigV4Options): SigV4Verified | SigV4Refused {
  const q = req.url.indexOf('?');
  const rawPath = q === -1 ? req.url : req.url.slice(0, q);
  const query = parseQuery(q === -1 ? '' : req.url.slice(q + 1));
  if (query === undefined) return refuse(400, 'InvalidArgument', 'The query string is not valid percent-encoding');
  const headers = headerValues(req.rawHeaders);
  const has = (name: string) => query.some(([k]) => k === name);
  const byHeader = headers.has('authorization');
  const byQuery = has('X-Amz-Algorithm');

  if (!byHeader && (has('Signature') || has('AWSAccessKeyId'))) return sigV2Refused();
  if (byHeader && byQuery) {
    return refuse(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
  }
  if (!byHeader && !byQuery) return ACCESS_DENIED;

  const auth = byHeader ? fromHeader(headers, options.now) : fromQuery(query, options.now);
  if (!auth.ok) return auth;
  const scope = checkScope(auth.credential, auth.amzDate, options, byHeader ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError');
  if (!scope.ok) return scope;

  const signed = auth.signedHeaders.split(';');
  if (!signed.includes('host')) return refuse(403, 'AccessDenied', 'The host header must be signed');
  const unsigned = [...headers.keys()].filter((h) => h.startsWith('x-amz-') && !signed.includes(h));
  if (unsigned.length) return refuse(403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });

  const canonicalRequest = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(byHeader ? query : query.filter(([k]) => k !== 'X-Amz-Signature')),
    ...signed.map((h) => `${h}:${headers.get(h) ?? ''}`),
    '',
    auth.signedHeaders,
    auth.payloadHash,
  ].join('\n');
  const stringToSign = [ALGORITHM, auth.amzDate, scope.scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = signingKey(scope.secret, scope.date, options.region).update(stringToSign, 'utf8').digest();
  if (!sameHex(auth.signature, expected)) {
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: scope.accessKeyId,
      StringToSign: stringToSign,
      CanonicalRequest: canonicalRequest,
    });
  }
  if (auth.payloadHash.startsWith('STREAMING-')) {
    // s3rver stores aws-chunked framing inside the object (STACK-NOTES): refuse rather than corrupt it.
    return refuse(501, 'NotImplemented', "aws-chunked payloads are not supported by the embedded S3; create the client with requestChecksumCalculation: 'WHEN_REQUIRED'");
  }
  return { ok: true, accessKeyId: scope.accessKeyId, payloadSha256: auth.payloadHash === UNSIGNED ? undefined : auth.payloadHash.toLowerCase() };
}

interface AuthParts {
  ok: true;
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  payloadHash: string;
}

function fromHeader(headers: Map<string, string>, now: Date): AuthParts | SigV4Refused {
  const value = headers.get('authorization') ?? '';
  const space = value.indexOf(' ');
  const algorithm = space === -1 ? value : value.slice(0, space);
  if (algorithm === 'AWS') return sigV2Refused();
  if (algorithm !== ALGORITHM) return refuse(400, 'InvalidArgument', 'Unsupported Authorization Type');
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return refuse(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const amzDate = headers.get('x-amz-date');
  const time = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || time === undefined) return refuse(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(now.getTime() - time) > MAX_SKEW_MS) {
    return refuse(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: amzDate, ServerTime: now.toISOString() });
  }
  const payloadHash = headers.get('x-amz-content-sha256');
  if (payloadHash === undefined) return refuse(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (!(payloadHash === UNSIGNED || /^[0-9a-fA-F]{64}$/.test(payloadHash) || /^STREAMING-[A-Z0-9-]+$/.test(payloadHash))) {
    return refuse(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-…, or a valid sha256 value.');
  }
  return { ok: true, credential, signedHeaders, signature, amzDate, payloadHash };
}

function fromQuery(query: readonly [string, string][], now: Date): AuthParts | SigV4Refused {
  const get = (name: string) => query.find(([k]) => k === name)?.[1];
  if (get('X-Amz-Algorithm') !== ALGORITHM) return refuse(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const credential = get('X-Amz-Credential');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  const amzDate = get('X-Amz-Date');
  const expiresRaw = get('X-Amz-Expires');
  if (credential === undefined || signedHeaders === undefined || signature === undefined || amzDate === undefined || expiresRaw === undefined) {
    return refuse(
      400,
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const time = parseAmzDate(amzDate);
  if (time === undefined) return refuse(400, 'AuthorizationQueryParametersError', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (!/^\d{1,7}$/.test(expiresRaw)) return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  const expires = Number(expiresRaw);
  if (expires > MAX_PRESIGN_SECONDS) {
    return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds');
  }
  if (now.getTime() < time - MAX_SKEW_MS) return refuse(403, 'AccessDenied', 'Request is not valid yet');
  if (now.getTime() > time + expires * 1000) {
    return refuse(403, 'AccessDenied', 'Request has expired', { 'X-Amz-Expires': expiresRaw, Expires: new Date(time + expires * 1000).toISOString(), ServerTime: now.toISOString() });
  }
  return { ok: true, credential, signedHeaders, signature, amzDate, payloadHash: get('X-Amz-Content-Sha256') ?? UNSIGNED };
}

function checkScope(
  credential: string,
  amzDate: string,
  options: SigV4Options,
  malformed: string,
): { ok: true; accessKeyId: string; secret: string; date: string; scope: string } | SigV4Refused {
  const parts = credential.split('/');
  if (parts.length !== 5) return refuse(400, malformed, `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  const key = options.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!key) return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  if (date !== amzDate.slice(0, 8)) return refuse(400, malformed, `Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  if (region !== options.region) return refuse(400, malformed, `The authorization header is malformed; the region '${region}' is wrong; expecting '${options.region}'`, { Region: options.region });
  if (service !== 's3') return refuse(400, malformed, `Error parsing the X-Amz-Credential parameter; incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminator !== 'aws4_request') return refuse(400, malformed, `Error parsing the X-Amz-Credential parameter; incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  return { ok: true, accessKeyId, secret: key.secretAccessKey, date, scope: `${date}/${region}/s3/aws4_request` };
}

function sigV2Refused(): SigV4Refused {
  return refuse(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

/** Milliseconds since the epoch of a `yyyyMMddTHHmmssZ` date, or undefined when it is not one. */
function parseAmzDate(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  // Date.UTC rolls 20260231 over into March; a real date survives the round trip.
  return new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, '') === s ? t : undefined;
}

/** Header name (lowercase) → canonical value: each occurrence trimmed with inner spaces collapsed, joined by `,`. */
function headerValues(raw: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = (raw[i + 1] as string).trim().replace(/\s+/g, ' ');
    const prev = out.get(name);
    out.set(name, prev === undefined ? value : `${prev},${value}`);
  }
  return out;
}

/** Decoded `[name, value]` pairs in order, or undefined when a part is not valid percent-encoding. */
function parseQuery(raw: string): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      out.push(eq === -1 ? [decodeURIComponent(part), ''] : [decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))]);
    } catch {
      return undefined;
    }
  }
  return out;
}

/** RFC 3986 encoding as SigV4 defines it: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** S3's canonical URI: each segment decoded then encoded once; no normalization of `.`, `..` or `//`. */
function canonicalPath(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath
    .split('/')
    .map((seg) => {
      try {
        return uriEncode(decodeURIComponent(seg));
      } catch {
        return seg; // not valid percent-encoding: signed as sent, so no client's signature can match it by accident
      }
    })
    .join('/');
}

function canonicalQuery(pairs: readonly [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request")`, ready for the string to sign. */
function signingKey(secret: string, date: string, region: string): ReturnType<typeof createHmac> {
  let key = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key);
}

function sameHex(given: string, expected: Buffer): boolean {
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}
