/**
 * Spot interruption notices. On EC2 the agent polls IMDSv2 (`PUT /latest/api/token` for a session token, then
 * `GET /latest/meta-data/spot/instance-action` every few seconds: 404 while none is scheduled, else
 * `{"action": "terminate"|"stop"|"hibernate", "time": "2026-…Z"}`, about two minutes ahead). Locally a SIGTERM
 * is the notice (deadline: now + the grace a supervisor usually gives). Either way the agent gets one
 * {@link InterruptionNotice} and winds down: checkpoint, commit, report, release as `interrupted`, exit 0.
 */
import * as z from 'zod';

/** What a notice says: why, and when the machine goes away. */
export interface InterruptionNotice {
  source: 'imds' | 'signal';
  action: string;
  deadline: Date;
}

const InstanceAction = z.object({ action: z.string().min(1).max(32), time: z.iso.datetime({ offset: true }) });

/** Token lifetime asked of IMDSv2 (seconds); renewed well before it ends. */
const TOKEN_TTL = 21_600;

export interface ImdsPollerOptions {
  /** IMDS base URL, e.g. `http://169.254.169.254`. */
  baseUrl: string;
  intervalMs: number;
  onNotice: (notice: InterruptionNotice) => void;
  /** Transient failures (IMDS briefly unreachable) are logged and the poll goes on. */
  onError?: (err: unknown) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

/** A running poller; `stop()` ends it. */
export interface Poller {
  stop(): void;
  /** Resolves after each completed poll (tests wait on it). */
  readonly polls: () => number;
}

/** One IMDSv2 check: the notice when one is scheduled, `null` on 404. */
export async function checkSpotAction(baseUrl: string, token: string, f: typeof fetch = fetch): Promise<{ action: string; deadline: Date } | null> {
  const res = await f(new URL('/latest/meta-data/spot/instance-action', baseUrl), { headers: { 'x-aws-ec2-metadata-token': token } });
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) throw new Error(`IMDS instance-action: HTTP ${res.status}`);
  const body = InstanceAction.parse(JSON.parse(await res.text()));
  return { action: body.action, deadline: new Date(body.time) };
}

/** Asks IMDSv2 for a session token. */
export async function imdsToken(baseUrl: string, f: typeof fetch = fetch): Promise<string> {
  const res = await f(new URL('/latest/api/token', baseUrl), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL) } });
  if (!res.ok) throw new Error(`IMDS token: HTTP ${res.status}`);
  return (await res.text()).trim();
}

/**
 * Polls IMDSv2 every `intervalMs` until a notice arrives (reported once) or `stop()`. A 401 (token expired)
 * fetches a new token; other failures are reported to `onError` and retried at the next tick.
 */
export function pollSpotInterruptions(options: ImdsPollerOptions): Poller {
  const f = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let token: { value: string; expires: number } | undefined;
  let stopped = false;
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      if (!token || token.expires < now()) token = { value: await imdsToken(options.baseUrl, f), expires: now() + (TOKEN_TTL - 60) * 1000 };
      const notice = await checkSpotAction(options.baseUrl, token.value, f);
      if (notice && !stopped) {
        stopped = true;
        options.onNotice({ source: 'imds', ...notice });
      }
    } catch (err) {
      if (String(err).includes('HTTP 401')) token = undefined;
      options.onError?.(err);
    } finally {
      count++;
      if (!stopped) timer = setTimeout(() => void tick(), options.intervalMs);
    }
  };
  void tick();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    polls: () => count,
  };
}

/** Treats SIGTERM (and SIGINT) as a notice with `graceSeconds` left; returns the function that stops listening. */
export function onTerminationSignal(onNotice: (n: InterruptionNotice) => void, graceSeconds = 30): () => void {
  const handler = (signal: NodeJS.Signals): void => onNotice({ source: 'signal', action: signal, deadline: new Date(Date.now() + graceSeconds * 1000) });
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
