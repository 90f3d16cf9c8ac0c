/** `provena dataset …`: create, change, browse, register, upload and fetch dataset listings. */
import { Option, type Command } from 'commander';
import { ProvenaError } from '../../shared/errors.js';
import type { Dataset } from '../../shared/schemas/dataset.js';
import { DataFormat } from '../../shared/schemas/encryptedManifest.js';
import { fetchDataset } from '../../shared/sdk/fetchData.js';
import { uploadDataset } from '../../shared/sdk/upload.js';
import { progressRenderer } from '../../shared/sdk/uploadProgress.js';
import { defaultStateDir } from '../../shared/sdk/uploadState.js';
import { exampleListing } from '../example-listing.js';
import { readSplitFile } from '../splitFile.js';
import { client, print, printJson, readJson, say } from '../context.js';
import { registerDatasetRoyaltiesCommand } from './datasetRoyalties.js';

/** One listing in two lines, as `dataset list`, `create`, `update` and `delist` print it (unescaped: print escapes). */
export function datasetSummary(d: Pick<Dataset, 'id' | 'title' | 'status' | 'version' | 'owner' | 'manifestCid'> & { license: Pick<Dataset['license'], 'pricePerSample'> }): string {
  return `${d.id}  v${d.version}  ${d.status.padEnd(8)}  ${d.license.pricePerSample.padStart(8)}/sample  ${d.title}\n    owner ${d.owner}  manifest ${d.manifestCid}`;
}

/** Adds `provena dataset` and its subcommands. */
export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('create, change and browse dataset listings');

  dataset
    .command('template')
    .description('print a complete example listing to start from (JSON)')
    .option('--payment-token <address>', 'ERC-20 that prices are in (default: from the API)')
    .action(async (o: { paymentToken?: string }, cmd: Command) => {
      const { api, wallet } = await client(cmd);
      const token = o.paymentToken ?? (await api.health()).contracts.PaymentToken ?? '0x0000000000000000000000000000000000000000';
      printJson(exampleListing(wallet?.address ?? '0x0000000000000000000000000000000000000001', token));
    });

  dataset
    .command('create')
    .description('list a dataset from a JSON file (see `provena dataset template`)')
    .requiredOption('-f, --file <path>', 'listing JSON file, or - for stdin')
    .option('--idempotency-key <key>', 'makes a retried create return the first result')
    .option('--split-file <path>', 'pay a Merkle split instead of the file\'s royaltySplit: CSV (account,units per line) or JSON ([{account, units}]), up to 10,000 recipients')
    .action(async (o: { file: string; idempotencyKey?: string; splitFile?: string }, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const listing = readJson(o.file) as Record<string, unknown>;
      if (o.splitFile) {
        // The tree is built by the API (its dump stored beside the manifest); the listing registers its root.
        delete listing.royaltySplit;
        listing.merkleShares = readSplitFile(o.splitFile);
      }
      const d = await api.createDataset(listing as never, o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {});
      print(opts, d, () => `listed ${datasetSummary(d)}`);
    });

  dataset
    .command('update <id>')
    .description('change a listing (owner only) from a JSON file of the fields to change')
    .requiredOption('-f, --file <path>', 'JSON with the fields to change, or - for stdin')
    .option('--expected-version <n>', 'fail if the listing is no longer at this version')
    .action(async (id: string, o: { file: string; expectedVersion?: string }, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const patch = readJson(o.file) as Record<string, unknown>;
      if (o.expectedVersion) patch.expectedVersion = Number(o.expectedVersion);
      const d = await api.updateDataset(id, patch as never);
      print(opts, d, () => `updated ${datasetSummary(d)}`);
    });

  dataset
    .command('delist <id>')
    .description('delist (owner only): no new licenses; existing ones stay valid')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const d = await api.delistDataset(id);
      print(opts, d, () => `delisted ${datasetSummary(d)}`);
    });

  dataset
    .command('upload <id> <path>')
    .description('encrypt a dataset on this machine and upload it as the listing\'s next data version (owner only)')
    .addOption(new Option('--format <format>', 'data format (default: detected from the extension or content)').choices(DataFormat.options))
    .option('--chunk-size <MiB>', 'plaintext MiB per encrypted chunk, 0.0625 (64 KiB) to 64 (default 4)')
    .option('--concurrency <n>', 'parts uploaded at once', '4')
    .option('--restart', 'discard the saved state of an earlier, unfinished upload of this path and start over', false)
    .option('--no-progress', 'do not draw the progress bar on stderr')
    .option('--state-dir <dir>', 'where resume state is kept', defaultStateDir())
    .addHelpText(
      'after',
      `
<path> is a CSV, JSON Lines or Parquet file, or a folder of UTF-8 text files (format text-folder: every file,
recursively, in sorted path order). The file is validated, then encrypted here with a fresh data key; only
ciphertext goes to S3 (presigned multipart URLs) and the key goes to the key gate sealed to its public key.
The listing must be yours and registered on chain first (provena dataset register <id>). After the upload the
listing's new manifest is recorded on the registry too (you sign, the API pays the gas).

Resume: if an upload is interrupted (Ctrl-C, network loss, crash), run the same command again. It continues
the same upload and sends only the parts S3 does not have yet. A source that changed since (size, modification
time or inode; for a folder, its file list) is refused: rerun with --restart to start a new upload.

Secret key state: until the upload completes, a state file under --state-dir (default ~/.provena/uploads,
directory 0700, file 0600) holds the upload's SECRET data key and salt, so that a resumed run produces the same
ciphertext. Anyone who can read it can decrypt this upload's data. It is deleted when the upload completes;
delete it yourself (or use --restart) to abandon an upload.`,
    )
    .action(async (id: string, path: string, o: { format?: DataFormat; chunkSize?: string; concurrency: string; restart: boolean; progress: boolean; stateDir: string }, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const chunkSize = o.chunkSize === undefined ? undefined : Math.round(Number(o.chunkSize) * 1024 * 1024);
      if (chunkSize !== undefined && !(chunkSize >= 64 * 1024 && chunkSize <= 64 * 1024 * 1024)) {
        throw new ProvenaError('VALIDATION_FAILED', `--chunk-size must be between 0.0625 and 64 (MiB), got ${o.chunkSize}`);
      }
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new ProvenaError('VALIDATION_FAILED', `--concurrency must be an integer 1..64, got ${o.concurrency}`);
      const bar = o.progress ? progressRenderer(process.stderr) : undefined;
      // Ctrl-C stops cleanly: parts in flight are aborted, the state stays, and rerunning resumes.
      const abort = new AbortController();
      const onSigint = (): void => abort.abort(new ProvenaError('UPLOAD_PART_FAILED', 'interrupted: run the same command again to resume'));
      process.once('SIGINT', onSigint);
      try {
        const d = await uploadDataset(api, id, path, {
          ...(o.format ? { format: o.format } : {}),
          ...(chunkSize !== undefined ? { chunkSize } : {}),
          concurrency,
          restart: o.restart,
          stateDir: o.stateDir,
          signal: abort.signal,
          onStart: (s) => {
            const what = s.details.columns ? `, ${s.details.columns.length} columns` : s.details.fileCount !== undefined ? `, ${s.details.fileCount} files` : '';
            const rows = s.details.rowCount !== undefined ? `, ${s.details.rowCount} rows` : '';
            say(
              `${s.resumed ? 'resuming' : 'starting'} upload ${s.uploadId} (data version ${s.dataVersion}): ${s.format}, ${s.plaintextSize} bytes${what}${rows}; ` +
                `${s.partsDone}/${s.partsTotal} parts already uploaded\n` +
                `resume state (holds the SECRET data key until the upload completes): ${s.statePath}\n`,
            );
          },
          ...(bar ? { onProgress: (p: Parameters<typeof bar.update>[0]) => bar.update(p) } : {}),
        });
        bar?.done();
        print(opts, d, () => `uploaded ${d.id} data v${d.data?.version ?? '?'}: ${d.data?.plaintextSize ?? 0} bytes (${d.data?.format ?? '?'})\ndata manifest ${d.data?.manifestCid ?? '(none)'}`);
      } finally {
        bar?.done();
        process.removeListener('SIGINT', onSigint);
      }
    });

  dataset
    .command('register <id>')
    .description('put a listing on the DatasetRegistry contract, or record its current manifest and price there: you sign, the API pays the gas (needed before upload)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const d = await api.registerDataset(id);
      print(opts, d, () => `registered ${d.id} as registry dataset ${d.chainDatasetId} (manifest ${d.chainManifestCid})`);
    });

  dataset
    .command('fetch <id>')
    .description(
      'download and decrypt a dataset you are entitled to (a license on a listing that allows raw access, or a job your key is attested for); ' +
        'every chunk is verified and the output file appears only when all of them are',
    )
    .requiredOption('-o, --out <path>', 'where to write the plaintext')
    .option('--license <id>', 'your license id (on-chain)')
    .option('--job <id>', 'the job id your worker key is attested for')
    .option('--manifest-cid <cid>', 'the encrypted manifest CID you trust (default: the listing\'s)')
    .action(async (id: string, o: { out: string; license?: string; job?: string; manifestCid?: string }, cmd: Command) => {
      const { api, opts, wallet } = await client(cmd);
      if (!wallet) throw new ProvenaError('AUTH_MISSING', 'fetch needs your key (--key-file or PROVENA_PRIVATE_KEY): the data key is sealed to it');
      if (Boolean(o.license) === Boolean(o.job)) throw new ProvenaError('VALIDATION_FAILED', 'pass exactly one of --license or --job');
      const grant = o.license ? ({ type: 'license', licenseId: o.license } as const) : ({ type: 'job', jobId: o.job as string } as const);
      const bytes = await fetchDataset(api, wallet, id, { grant, out: o.out, ...(o.manifestCid ? { expectedManifestCid: o.manifestCid } : {}) });
      print(opts, { id, out: o.out, bytes }, () => `wrote ${bytes} bytes to ${o.out} (every chunk verified)`);
    });

  dataset
    .command('show <id>')
    .description('show one listing')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api } = await client(cmd);
      printJson(await api.getDataset(id));
    });

  dataset
    .command('list')
    .description('search listings, newest first')
    .option('--tag <tag>', 'only listings with this tag')
    .option('--owner <address>', 'only this owner\'s listings')
    .option('-q, --query <text>', 'text in title, description or tags')
    .addOption(new Option('--status <status>', 'listing status').choices(['active', 'delisted']).default('active'))
    .option('--limit <n>', 'page size (1-100)', '20')
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(async (o: { tag?: string; owner?: string; query?: string; status: 'active' | 'delisted'; limit: string; cursor?: string }, cmd: Command) => {
      const { api, opts } = await client(cmd);
      const page = await api.listDatasets({
        ...(o.tag ? { tag: o.tag } : {}),
        ...(o.owner ? { owner: o.owner } : {}),
        ...(o.query ? { q: o.query } : {}),
        status: o.status,
        limit: Number(o.limit),
        ...(o.cursor ? { cursor: o.cursor } : {}),
      });
      print(opts, page, () =>
        [...page.items.map(datasetSummary), page.items.length ? '' : '(no listings)', page.nextCursor ? `more: --cursor ${page.nextCursor}` : ''].filter(Boolean).join('\n'),
      );
    });

  registerDatasetRoyaltiesCommand(dataset);
}
