/**
 * A small text progress bar for uploads (percent, MB/s, ETA). Written here rather than taking `cli-progress`:
 * it is about 40 lines, updates only when a part finishes (a few times a second at most), and needs no
 * terminal features beyond `\r`; a dependency would add install weight for no behaviour we use.
 */
import type { UploadProgress } from './upload.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}

/**
 * One line of the bar, e.g. `[#########...........]  45.0%  12.3 MB/s  ETA 00:42  parts 9/20`.
 *
 * @example
 * ```ts
 * process.stderr.write(`\r${formatProgress(p)}`);
 * ```
 */
export function formatProgress(p: UploadProgress, width = 24): string {
  const ratio = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 1;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const pct = `${(ratio * 100).toFixed(1).padStart(5)}%`;
  const rate = `${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  const skipped = p.partsSkipped > 0 ? ` (${p.partsSkipped} resumed)` : '';
  return `${bar} ${pct}  ${rate}  ETA ${duration(p.etaSeconds)}  parts ${p.partsDone}/${p.partsTotal}${skipped}`;
}

/**
 * A progress renderer for a stream: redraws one line on a TTY; elsewhere (logs, CI) prints a line at each
 * 10% step so the output stays short.
 */
export function progressRenderer(out: { write(s: string): unknown; isTTY?: boolean }): { update(p: UploadProgress): void; done(): void } {
  let lastDecile = -1;
  let drawn = false;
  return {
    update(p) {
      if (out.isTTY) {
        out.write(`\r${formatProgress(p)}`);
        drawn = true;
        return;
      }
      const decile = p.bytesTotal > 0 ? Math.floor((10 * p.bytesDone) / p.bytesTotal) : 10;
      if (decile !== lastDecile) {
        lastDecile = decile;
        out.write(`${formatProgress(p)}\n`);
      }
    },
    /** Ends the bar's line; safe to call more than once. */
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
