/** The embedded DynamoDB: dynalite on loopback, persisted with LevelDB under a directory. */
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (`port` 0 picks a free one). Tables become ACTIVE at once. */
export async function startEmbeddedDynamo(options: { dir: string; port: number }): Promise<EmbeddedDynamo> {
  mkdirSync(options.dir, { recursive: true });
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        // dynalite closes its LevelDB when the server closes.
        server.close(() => resolve());
      }),
  };
}
