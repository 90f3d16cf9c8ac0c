/**
 * The console's deployment file: `config.json` next to index.html, written by the CDK app's deployment
 * (`infra/lib/constructs/WebConsole.ts`) with the API's URL, since on AWS the console (CloudFront) and the API (API
 * Gateway) have different origins. Locally there is no such file and the API is the origin that served the page.
 * DOM-free, so the CDK app and its tests read the same definitions.
 */

/** The file's name, at the site's root. */
export const CONSOLE_CONFIG_FILE = 'config.json';

/** What the file holds. */
export interface ConsoleConfig {
  /** The API's base URL (http or https). */
  readonly apiUrl?: string;
}

/** The config in `value`, keeping only a well-formed http(s) `apiUrl`; anything else reads as no config. */
export function parseConsoleConfig(value: unknown): ConsoleConfig {
  if (typeof value !== 'object' || value === null) return {};
  const apiUrl = (value as { apiUrl?: unknown }).apiUrl;
  if (typeof apiUrl !== 'string') return {};
  try {
    const url = new URL(apiUrl);
    return url.protocol === 'https:' || url.protocol === 'http:' ? { apiUrl } : {};
  } catch {
    return {};
  }
}

/**
 * Fetches `/config.json` from `origin`; no file, a non-JSON answer (CloudFront's SPA fallback answers index.html)
 * or a network error all read as no config.
 */
export async function loadConsoleConfig(origin: string, fetchFn: typeof fetch = fetch): Promise<ConsoleConfig> {
  try {
    // Revalidate: a redeploy may move the API. (`cache` is typed only by the DOM lib; Node's fetch accepts it.)
    const init: Record<string, unknown> = { cache: 'no-cache' };
    const res = await fetchFn(new URL(`/${CONSOLE_CONFIG_FILE}`, origin), init as RequestInit);
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return {};
    return parseConsoleConfig(await res.json());
  } catch {
    return {};
  }
}

/** Where the API is: `?api=`, else the one kept for this session, else the deployment's config, else the origin. */
export function chooseApiBaseUrl(from: { query?: string | null; session?: string | null; config: ConsoleConfig; origin: string }): string {
  return from.query || from.session || from.config.apiUrl || from.origin;
}
