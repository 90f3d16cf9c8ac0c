/**
 * The embedded S3 (s3rver behind `startEmbeddedS3`) in its own process, for bench/crypto.ts's S3 phases: the
 * client's peak RSS is then the client's alone, and s3rver does not share the client's event loop (a real S3 is
 * elsewhere too).
 *
 * Usage: `node --import tsx bench/s3server.ts <dir> <bucket>`. Prints one JSON line `{"endpoint": ...}` once
 * listening on 127.0.0.1 (port 0: a free one), and exits when its stdin closes (the parent ended) or on SIGTERM.
 */
import { startEmbeddedS3 } from '../stack/embeddedS3.js';

const [dir, bucket] = process.argv.slice(2);
if (dir === undefined || bucket === undefined) {
  console.error('usage: bench/s3server.ts <dir> <bucket>');
  process.exit(2);
}
const s3 = await startEmbeddedS3({ dir, port: 0, buckets: [bucket] });
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  s3.close().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
