import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTsmEmulator, type TsmEmulator, type TsmEmulatorOptions } from '../../../test/support/tsmEmulator.js';
import { pemCertificates } from '../../../shared/attestation/snp.js';
import { bindingDigest, checkBinding, PINNED_ROOTS } from '../../../shared/attestation/policy.js';
import { TDX_TCB_LEVEL_NOT_FOUND } from '../../../shared/attestation/tdx.js';
import { AttestationPolicy } from '../../../shared/attestation/types.js';
import { BUILTIN_VERIFIERS } from '../../../shared/attestation/verifiers.js';
import { verifyEvidence } from '../../../shared/attestation/verifyEvidence.js';
import { attestorFor } from '../attestor.js';
import { TSM_BLOB_MAX_BYTES, tsmReport } from './configfsTsm.js';
import { parseSnpCertTable, SNP_CERT_GUIDS, snpEvidence, tdxEvidence } from './cpuEvidence.js';
import { nvmlGpuReporter, type GpuReporter } from './gpuReport.js';
import { tsmAttestor, tsmBundle } from './tsmAttestor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const fixtures = path.resolve(repo, '../shared/fixtures');
const fx = (...p: string[]): Buffer => readFileSync(path.join(fixtures, ...p));
const standin = path.join(repo, 'test/support/nvml-standin');

const workerKey = `04${'11'.repeat(64)}`;
const nonce = 'aa'.repeat(32);
const digest = bindingDigest(workerKey, nonce);

let emulators: TsmEmulator[] = [];
let servers: Server[] = [];
afterEach(async () => {
  for (const e of emulators) e.stop();
  emulators = [];
  await Promise.all(servers.map((s) => new Promise((r) => { s.close(r); s.closeAllConnections(); })));
  servers = [];
});
function emulator(o: TsmEmulatorOptions): TsmEmulator {
  const e = startTsmEmulator(o);
  emulators.push(e);
  return e;
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? Promise.resolve().then(p) : p);
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** The GPU report through the real helper, with the NVML stand-in answering NVIDIA's Hopper sample. */
function standinGpu(nonceFile?: string, fail = false): GpuReporter {
  return nvmlGpuReporter({
    env: {
      PYTHONPATH: standin,
      PROVENA_TEST_NVML_FIXTURES: path.join(fixtures, 'nvidia'),
      ...(nonceFile === undefined ? {} : { PROVENA_TEST_NVML_NONCE_FILE: nonceFile }),
      ...(fail ? { PROVENA_TEST_NVML_FAIL: '1' } : {}),
    },
  });
}

/** An SEV-SNP certificate table (24-byte entries: GUID, offset, length; zero entry last) over DER certificates. */
function certTable(entries: [string, Buffer][], littleEndianGuids = false): Buffer {
  const head = 24 * (entries.length + 1);
  const parts: Buffer[] = [];
  let offset = head;
  const header = Buffer.alloc(head);
  entries.forEach(([guid, der], i) => {
    const g = Buffer.from(guid.replace(/-/g, ''), 'hex');
    if (littleEndianGuids) {
      g.subarray(0, 4).reverse();
      g.subarray(4, 6).reverse();
      g.subarray(6, 8).reverse();
    }
    g.copy(header, 24 * i);
    header.writeUInt32LE(offset, 24 * i + 16);
    header.writeUInt32LE(der.length, 24 * i + 20);
    parts.push(der);
    offset += der.length;
  });
  return Buffer.concat([header, ...parts]);
}

const snpChain = pemCertificates(fx('sev-snp', 'milan.testcer').toString('utf8'));
const ark = snpChain.find((d) => new X509Certificate(d).checkIssued(new X509Certificate(d)))!;
const ask = snpChain.find((d) => d !== ark)!;
const vcek = fx('sev-snp', 'vcek.testcer');
const snpTable = certTable([
  [SNP_CERT_GUIDS.vcek, vcek],
  [SNP_CERT_GUIDS.ask, ask],
  [SNP_CERT_GUIDS.ark, ark],
]);
const snpFixture = (): TsmEmulatorOptions => ({ provider: 'sev_guest', respond: () => ({ outblob: fx('sev-snp', 'attestation.bin'), auxblob: snpTable }) });

/** A local Intel PCS (v4 API) serving the TDX fixture's collateral; records the paths asked for. */
async function localPcs(): Promise<{ url: string; asked: string[] }> {
  const asked: string[] = [];
  const signingChain = encodeURIComponent(readFileSync(path.join(repo, 'shared/attestation/tdxFixtureTcbSigningChain.pem'), 'utf8'));
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const u = new URL(req.url ?? '/', 'http://pcs');
    if (u.pathname === '/tdx/certification/v4/tcb' && u.searchParams.get('fmspc') === '50806f000000') {
      res.writeHead(200, { 'TCB-Info-Issuer-Chain': signingChain }).end(fx('tdx', 'sample_tcbInfo_response'));
    } else if (u.pathname === '/tdx/certification/v4/qe/identity') {
      res.writeHead(200, { 'SGX-Enclave-Identity-Issuer-Chain': signingChain }).end(fx('tdx', 'sample_qeIdentity_response'));
    } else if (u.pathname === '/sgx/certification/v4/pckcrl' && u.searchParams.get('ca') === 'platform') {
      res.writeHead(200).end(fx('tdx', 'pckcrl'));
    } else if (u.pathname === '/IntelSGXRootCA.der') {
      res.writeHead(200).end(fx('tdx', 'rootcrl.der'));
    } else res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

describe('configfs-tsm protocol (against the emulator)', () => {
  const echo = (): TsmEmulatorOptions => ({ provider: 'tdx_guest', respond: (inblob) => ({ outblob: Buffer.concat([Buffer.from('quote:'), inblob]), auxblob: Buffer.from('aux') }) });

  it('writes exactly the 64 bytes it is given to inblob, returns that generation\'s blobs, and removes the report directory', async () => {
    const e = emulator(echo());
    const r = await tsmReport(digest, { root: e.root });
    expect(e.requests).toEqual([digest]);
    expect(r).toMatchObject({ provider: 'tdx_guest', generation: 1, attempts: 1 });
    expect(r.outblob).toEqual(Buffer.concat([Buffer.from('quote:'), digest]));
    expect(r.auxblob).toEqual(Buffer.from('aux'));
    expect(e.reportDirs).toHaveLength(1);
    expect(readdirSync(e.root)).toEqual([]);
  });

  it('discards the blobs and retries in a fresh directory when another writer moved the generation', async () => {
    const e = emulator({ ...echo(), interfere: 1 });
    const r = await tsmReport(digest, { root: e.root });
    expect(r.attempts).toBe(2);
    expect(e.requests).toEqual([digest, digest]);
    expect(new Set(e.reportDirs).size).toBe(2);
    expect(readdirSync(e.root)).toEqual([]);
  });

  it('gives up with WORKER_TSM_BUSY when every try is raced, leaving no report directory', async () => {
    const e = emulator({ ...echo(), interfere: 99 });
    expect(await codeOf(tsmReport(digest, { root: e.root, attempts: 3 }))).toBe('WORKER_TSM_BUSY');
    expect(e.requests).toHaveLength(3);
    expect(readdirSync(e.root)).toEqual([]);
  });

  it('refuses a provider other than the expected one, and an unknown provider, with WORKER_TSM_PROVIDER_REFUSED before writing inblob', async () => {
    const snp = emulator({ ...echo(), provider: 'sev_guest' });
    expect(await codeOf(tsmReport(digest, { root: snp.root, expectedProvider: 'tdx_guest' }))).toBe('WORKER_TSM_PROVIDER_REFUSED');
    const cca = emulator({ ...echo(), provider: 'arm_cca_guest' });
    expect(await codeOf(tsmReport(digest, { root: cca.root }))).toBe('WORKER_TSM_PROVIDER_REFUSED');
    expect([...snp.requests, ...cca.requests]).toEqual([]);
    expect([...readdirSync(snp.root), ...readdirSync(cca.root)]).toEqual([]);
  });

  it('refuses an oversized or empty outblob with WORKER_TSM_REPORT_INVALID and removes the directory', async () => {
    const big = emulator({ provider: 'tdx_guest', respond: () => ({ outblob: Buffer.alloc(TSM_BLOB_MAX_BYTES + 1, 1) }) });
    expect(await codeOf(tsmReport(digest, { root: big.root }))).toBe('WORKER_TSM_REPORT_INVALID');
    const empty = emulator({ provider: 'tdx_guest', respond: () => ({ outblob: Buffer.alloc(0) }) });
    expect(await codeOf(tsmReport(digest, { root: empty.root }))).toBe('WORKER_TSM_REPORT_INVALID');
    expect([...readdirSync(big.root), ...readdirSync(empty.root)]).toEqual([]);
  });

  it('refuses an inblob that is not 64 bytes with WORKER_TSM_REPORT_INVALID, and a missing root with WORKER_TSM_UNAVAILABLE', async () => {
    const e = emulator(echo());
    expect(await codeOf(tsmReport(digest.subarray(0, 32), { root: e.root }))).toBe('WORKER_TSM_REPORT_INVALID');
    expect(await codeOf(tsmReport(digest, { root: path.join(tmpdir(), 'provena-no-such-tsm-root') }))).toBe('WORKER_TSM_UNAVAILABLE');
    expect(e.requests).toEqual([]);
  });

  it('refuses a short SEV-SNP outblob and a truncated TDX quote with WORKER_TSM_REPORT_INVALID', async () => {
    expect(await codeOf(() => snpEvidence(fx('sev-snp', 'attestation.bin').subarray(0, 1000), snpTable))).toBe('WORKER_TSM_REPORT_INVALID');
    expect(await codeOf(() => snpEvidence(Buffer.concat([fx('sev-snp', 'attestation.bin'), Buffer.alloc(1)]), snpTable))).toBe('WORKER_TSM_REPORT_INVALID');
    expect(await codeOf(tdxEvidence(fx('tdx', 'tdx_prod_quote_SPR_E4.dat').subarray(0, 600), { pcsUrl: 'http://127.0.0.1:9' }))).toBe('WORKER_TSM_REPORT_INVALID');
  });
});

describe('SEV-SNP: the real Milan report placed as outblob/auxblob', () => {
  const now = new Date('2024-01-01T00:00:00Z');
  const gpuDocs = async (): Promise<Record<string, Uint8Array>> => {
    const g = await standinGpu().report(digest.subarray(0, 32));
    return { report: g.report, certChain: g.certChain };
  };

  it('reads VCEK, ASK and ARK from the certificate table, with RFC or little-endian GUIDs alike', () => {
    const le = parseSnpCertTable(certTable([[SNP_CERT_GUIDS.vcek, vcek], [SNP_CERT_GUIDS.ark, ark]], true));
    expect(le.get(SNP_CERT_GUIDS.vcek)).toEqual(vcek);
    expect(le.get(SNP_CERT_GUIDS.ark)).toEqual(ark);
    expect(parseSnpCertTable(snpTable).get(SNP_CERT_GUIDS.ask)).toEqual(ask);
  });

  it('refuses a report without VCEK/ASK/ARK in auxblob with WORKER_TSM_COLLATERAL_UNAVAILABLE', async () => {
    expect(await codeOf(() => snpEvidence(fx('sev-snp', 'attestation.bin'), undefined))).toBe('WORKER_TSM_COLLATERAL_UNAVAILABLE');
    expect(await codeOf(() => snpEvidence(fx('sev-snp', 'attestation.bin'), certTable([[SNP_CERT_GUIDS.vcek, vcek]])))).toBe('WORKER_TSM_COLLATERAL_UNAVAILABLE');
  });

  it('builds a bundle the API verifies to the fixture\'s verdict: production refuses the debug guest, a non-production policy then refuses the binding', async () => {
    const e = emulator(snpFixture());
    const report = await tsmReport(digest, { root: e.root, expectedProvider: 'sev_guest' });
    const g = await standinGpu().report(digest.subarray(0, 32));
    const { evidence, measurement } = await tsmBundle(report, g);
    expect(evidence.kind).toBe('sev-snp');
    expect(Object.keys(evidence.documents).sort()).toEqual(['chain', 'report', 'vcek']);
    expect(evidence.gpu?.kind).toBe('nvidia-gpu');
    const expected = { now, expectedNonce: nonce, expectedPublicKey: workerKey, verifiers: BUILTIN_VERIFIERS };
    const production = AttestationPolicy.parse({ production: true, kinds: ['sev-snp', 'nvidia-gpu'], modes: ['confidential-gpu'], maxAgeSeconds: 300, measurements: { 'sev-snp': [{ MEASUREMENT: measurement }] } });
    expect(await codeOf(verifyEvidence(evidence, { policy: production, ...expected }))).toBe('ATTESTATION_DEBUG_REFUSED');
    const lenient = AttestationPolicy.parse({ production: false, kinds: ['sev-snp', 'nvidia-gpu'], modes: ['confidential-gpu'], maxAgeSeconds: 300, measurements: { 'sev-snp': [{ MEASUREMENT: measurement }] } });
    expect(await codeOf(verifyEvidence(evidence, { policy: lenient, ...expected }))).toBe('ATTESTATION_KEY_NOT_BOUND');
    // A changed report byte: the signature no longer verifies (the bundle carries the report the attestor read).
    const forged = Buffer.from(evidence.documents['report']!, 'base64');
    forged.writeUInt8(forged.readUInt8(0x90) ^ 1, 0x90);
    const tampered = { ...evidence, documents: { ...evidence.documents, report: forged.toString('base64') } };
    expect(await codeOf(verifyEvidence(tampered, { policy: lenient, ...expected }))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('the attestor writes the binding as inblob, asks NVML for its first 32 bytes, and refuses the fixture (bound to another nonce) with WORKER_TSM_BINDING_MISMATCH', async () => {
    const e = emulator(snpFixture());
    const nonceFile = path.join(tmpdir(), `provena-nvml-nonce-${process.pid}`);
    const attestor = tsmAttestor({ root: e.root, gpu: standinGpu(nonceFile) });
    expect(attestor).toMatchObject({ kind: 'tsm', mode: 'confidential-gpu' });
    expect(await codeOf(attestor.attest({ publicKey: `0x${workerKey}`, nonce }))).toBe('WORKER_TSM_BINDING_MISMATCH');
    expect(e.requests).toEqual([digest]);
    expect(readFileSync(nonceFile, 'utf8')).toBe(digest.subarray(0, 32).toString('hex'));
    rmSync(nonceFile, { force: true });
    expect(readdirSync(e.root)).toEqual([]);
  });

  it('the GPU documents verify under the pinned NVIDIA root and are refused for binding with ATTESTATION_KEY_NOT_BOUND', async () => {
    const v = await BUILTIN_VERIFIERS['nvidia-gpu']!(await gpuDocs(), { now, trustedRoots: PINNED_ROOTS['nvidia-gpu'] });
    expect(v.bindings.nonce).toBe('931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb');
    expect(await codeOf(() => checkBinding(v, { nonce, publicKey: workerKey }))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('reports NVML failures and a missing pynvml as WORKER_GPU_REPORT_UNAVAILABLE', async () => {
    expect(await codeOf(standinGpu(undefined, true).report(digest.subarray(0, 32)))).toBe('WORKER_GPU_REPORT_UNAVAILABLE');
    expect(await codeOf(nvmlGpuReporter({ env: { PYTHONPATH: path.join(tmpdir(), 'provena-empty') } }).report(digest.subarray(0, 32)))).toBe('WORKER_GPU_REPORT_UNAVAILABLE');
  });
});

describe('TDX: the real Sapphire Rapids quote placed as outblob, collateral from a local PCS', () => {
  const now = new Date('2023-07-01T00:00:00Z');
  const MRTD = '6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb';
  const policy = (tcbStatuses: string[]): AttestationPolicy =>
    AttestationPolicy.parse({ production: true, kinds: ['tdx', 'nvidia-gpu'], modes: ['confidential-gpu'], maxAgeSeconds: 300, measurements: { tdx: [{ MRTD }] }, tcbStatuses });

  it('fetches the collateral for the quote\'s FMSPC and builds a bundle the API verifies to the fixture\'s verdict, then refuses its binding', async () => {
    const pcs = await localPcs();
    const e = emulator({ provider: 'tdx_guest', respond: () => ({ outblob: fx('tdx', 'tdx_prod_quote_SPR_E4.dat') }) });
    const report = await tsmReport(digest, { root: e.root, expectedProvider: 'tdx_guest' });
    const g = await standinGpu().report(digest.subarray(0, 32));
    const { evidence, measurement } = await tsmBundle(report, g, { collateral: { pcsUrl: pcs.url, rootCrlUrl: `${pcs.url}/IntelSGXRootCA.der` } });
    expect(measurement).toBe(MRTD);
    expect(pcs.asked).toEqual(['/tdx/certification/v4/tcb?fmspc=50806f000000', '/tdx/certification/v4/qe/identity', '/sgx/certification/v4/pckcrl?ca=platform&encoding=der', '/IntelSGXRootCA.der']);
    const expected = { now, expectedNonce: nonce, expectedPublicKey: workerKey, verifiers: BUILTIN_VERIFIERS };
    expect(await codeOf(verifyEvidence(evidence, { policy: policy(['UpToDate']), ...expected }))).toBe('ATTESTATION_TCB_REFUSED');
    expect(await codeOf(verifyEvidence(evidence, { policy: policy(['UpToDate', TDX_TCB_LEVEL_NOT_FOUND]), ...expected }))).toBe('ATTESTATION_KEY_NOT_BOUND');
  });

  it('refuses the quote with WORKER_TSM_BINDING_MISMATCH in the attestor, and WORKER_TSM_COLLATERAL_UNAVAILABLE when PCS has no TCB info', async () => {
    const pcs = await localPcs();
    const e = emulator({ provider: 'tdx_guest', respond: () => ({ outblob: fx('tdx', 'tdx_prod_quote_SPR_E4.dat') }) });
    const collateral = { pcsUrl: pcs.url, rootCrlUrl: `${pcs.url}/IntelSGXRootCA.der` };
    expect(await codeOf(tsmAttestor({ root: e.root, gpu: standinGpu(), collateral }).attest({ publicKey: workerKey, nonce }))).toBe('WORKER_TSM_BINDING_MISMATCH');
    expect(e.requests).toEqual([digest]);
    expect(await codeOf(tsmAttestor({ root: e.root, gpu: standinGpu(), collateral: { ...collateral, pcsUrl: `${pcs.url}/nothing` } }).attest({ publicKey: workerKey, nonce }))).toBe('WORKER_TSM_COLLATERAL_UNAVAILABLE');
  });
});

describe('attestorFor', () => {
  it('builds the tsm attestor from PROVENA_TSM_ROOT / PROVENA_TSM_PROVIDER and refuses an unknown provider with CONFIG_INVALID', async () => {
    const e = emulator({ provider: 'sev_guest', respond: () => ({ outblob: Buffer.alloc(1) }) });
    const a = attestorFor('tsm', { devRootDir: '.provena', env: { PROVENA_TSM_ROOT: e.root, PROVENA_TSM_PROVIDER: 'tdx_guest' } });
    expect(a).toMatchObject({ kind: 'tsm', mode: 'confidential-gpu' });
    expect(await codeOf(a.attest({ publicKey: workerKey, nonce }))).toBe('WORKER_TSM_PROVIDER_REFUSED');
    expect(await codeOf(() => attestorFor('tsm', { devRootDir: '.provena', env: { PROVENA_TSM_PROVIDER: 'sgx' } }))).toBe('CONFIG_INVALID');
  });
});
