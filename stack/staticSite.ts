/**
 * Serves the built web console (web/dist) from the embedded API at `/`: static files with their content types,
 * the SPA fallback (a page path without a file answers index.html, so deep links work), and no way out of the
 * folder (`..`, encoded slashes, NUL bytes, symbolic links pointing outside). Paths under `/v1` are never
 * answered here: the API keeps them.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The console's Content-Security-Policy, here and on CloudFront (infra/lib/constructs/WebConsole.ts): scripts and
 * styles from the console's origin only. The API may live elsewhere (`?api=`, or config.json on AWS), so
 * connections may go to any http(s) origin; scripts never.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers on every console answer: no sniffing, no framing, scripts and styles from this origin only. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CONSOLE_CSP,
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Provena</title><h1>The web console is not built</h1>
<p>Run <code>npm run build:web</code> (npm start does it), then reload. The API is at <a href="/v1/health">/v1/health</a>.</p>`;

/** True when `path` is the API's (`/v1` or below): the console never answers those. */
export function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a request path to a file inside `root`: the file, `'fallback'` (answer index.html), or `'refused'` (a
 * path that tries to leave the folder or is malformed).
 */
export function resolveStatic(root: string, urlPath: string): { file: string } | 'fallback' | 'refused' {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return 'refused';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'refused';
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 'refused';
  const realRoot = realOrUndefined(root);
  if (!realRoot) return 'fallback';
  const candidate = realOrUndefined(join(realRoot, ...segments));
  if (candidate && candidate !== realRoot && !candidate.startsWith(realRoot + sep)) return 'refused';
  if (candidate && candidate !== realRoot && statSync(candidate).isFile()) return { file: candidate };
  return 'fallback';
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, status = 200): void {
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Vite names built assets by content hash: cache them for good; index.html must always be fresh.
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(statSync(file).size),
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

/**
 * Answers `req` from the console in `root` when it is a GET or HEAD outside `/v1`; returns false (and writes
 * nothing) otherwise, so the API handles it.
 */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = new URL(req.url ?? '/', 'http://local').pathname;
  if (isApiPath(path)) return false;
  const found = resolveStatic(root, path);
  if (found === 'refused') {
    res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found\n');
    return true;
  }
  if (found !== 'fallback') {
    sendFile(req, res, found.file);
    return true;
  }
  // A missing asset is a 404 (a stale page must not get HTML for its script); any other path is a page.
  if (/\.[a-z0-9]{1,8}$/i.test(path)) {
    res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found\n');
    return true;
  }
  const index = join(root, 'index.html');
  if (realOrUndefined(index)) {
    sendFile(req, res, index);
  } else {
    res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(method === 'HEAD' ? undefined : NOT_BUILT);
  }
  return true;
}
