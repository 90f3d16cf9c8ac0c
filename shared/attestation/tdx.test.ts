import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TDX_TCB_LEVEL_NOT_FOUND, verifyTdxQuote, type TdxCollateral, type VerifyTdxQuoteOptions } from './tdx.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './tdxIntelRoot.js';
import { mintTdxQuote, mintTdxWorld, SYNTH_NOW } from '../../test/support/attestation/tdxTestQuote.js';
import { codeOf as errorCodeOf } from '../../test/support/errors.js';
import { flip } from '../../test/support/attestation/testkit.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const dir = path.resolve(repoRoot, '../shared/fixtures/tdx');
const quote = readFileSync(path.join(dir, 'tdx_prod_quote_SPR_E4.dat'));
const signingChain = readFileSync(path.join(here, 'tdxFixtureTcbSigningChain.pem'), 'utf8');
const collateral: TdxCollateral = {
  tcbInfo: readFileSync(path.join(dir, 'sample_tcbInfo_response'), 'utf8'),
  tcbInfoIssuerChain: signingChain,
  qeIdentity: readFileSync(path.join(dir, 'sample_qeIdentity_response'), 'utf8'),
  qeIdentityIssuerChain: signingChain,
  pckCrl: readFileSync(path.join(dir, 'pckcrl')),
  rootCaCrl: readFileSync(path.join(dir, 'rootcrl.der')),
};
const now = new Date('2023-07-01T00:00:00Z');

// Offsets in the v4 quote: header 48, body 584, signature data length 4, then signature(64), key(64),
// cert data type(2) and size(4), QE report(384), QE report signature(64), auth data size(2) and data.
const SIG_AT = 636;
const QE_REPORT_AT = SIG_AT + 128 + 6;
const AUTH_DATA_AT = QE_REPORT_AT + 384 + 64 + 2;

/** The code `verifyTdxQuote` refuses `q` with at the fixture's instant, or 'OK'. */
function codeOf(q: Uint8Array, opts: Partial<VerifyTdxQuoteOptions> = {}): Promise<string> {
  return errorCodeOf(verifyTdxQuote(q, { now, collateral, ...opts }));
}


/** Flips one bit of the PCK leaf's serial number, re-encoding its PEM in place (same length). */
function flipPckCertByte(q: Buffer): Buffer {
  const text = q.toString('latin1');
  const start = text.indexOf('-----BEGIN CERTIFICATE-----');
  const end = text.indexOf('-----END CERTIFICATE-----', start);
  const pem = text.slice(start, end);
  const b64 = pem.replace('-----BEGIN CERTIFICATE-----', '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  der[20] = der[20]! ^ 0x01; // inside the serial number (after the cert, TBS and version headers)
  const lines = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  const rebuilt = `-----BEGIN CERTIFICATE-----\n${lines}\n`;
  expect(rebuilt.length).toBe(pem.length);
  const out = Buffer.from(q);
  out.write(rebuilt, start, 'latin1');
  return out;
}

describe('verifyTdxQuote on the real Sapphire Rapids quote and Intel PCS collateral', () => {
  it('verifies at 2023-07-01 under the pinned Intel SGX Root CA: a production TD with its measurements', async () => {
    const v = await verifyTdxQuote(quote, { now, collateral });
    expect(v.rootFingerprint).toBe(INTEL_SGX_ROOT_CA_SHA256);
    expect(v.quoteVersion).toBe(4);
    expect(v.tdxVersion).toBe('1.0');
    expect(v.debug).toBe(false);
    expect(v.measurements.mrtd).toBe('6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb');
    expect(v.measurements.rtmr0).toBe('2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a');
    expect(v.measurements.mrseam).toBe('2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656');
    expect(v.measurements.rtmr3).toBe('0'.repeat(96));
    expect(v.reportData).toMatch(/^6c62dec1[0-9a-f]{120}$/);
    expect(v.fmspc).toBe('50806f000000');
    expect(v.qeTcbStatus).toBe('UpToDate');
  });

  it('reports the platform TCB as below every level of the 2023-06 TCB info (PCK SVNs 3,3,2,2,2,1,0,2; TEE SVN 3,0,4)', async () => {
    const v = await verifyTdxQuote(quote, { now, collateral });
    expect(v.tcbStatus).toBe(TDX_TCB_LEVEL_NOT_FOUND);
    expect(v.teeTcbSvn).toBe('03000400000000000000000000000000');
  });

  it('refuses it after the PCK certificate expired (2029-09-21) with ATTESTATION_CERT_EXPIRED', async () => {
    expect(await codeOf(quote, { now: new Date('2029-09-21T00:00:00Z') })).toBe('ATTESTATION_CERT_EXPIRED');
  });

  it('refuses it before the PCK certificate was issued with ATTESTATION_CERT_NOT_YET_VALID', async () => {
    expect(await codeOf(quote, { now: new Date('2022-09-01T00:00:00Z') })).toBe('ATTESTATION_CERT_NOT_YET_VALID');
  });

  it('refuses it once the QE identity and PCK CRL are stale (2023-07-10) with ATTESTATION_COLLATERAL_EXPIRED', async () => {
    expect(await codeOf(quote, { now: new Date('2023-07-10T00:00:00Z') })).toBe('ATTESTATION_COLLATERAL_EXPIRED');
  });

  it('refuses a flipped byte in the TD report body (MRTD) with ATTESTATION_SIGNATURE_INVALID', async () => {
    expect(await codeOf(flip(quote, 48 + 136))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses the real quote with its DEBUG bit set (not re-signable) with ATTESTATION_SIGNATURE_INVALID', async () => {
    const q = Buffer.from(quote);
    q[48 + 120] = q[48 + 120]! | 0x01;
    expect(await codeOf(q)).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a flipped byte in REPORTDATA with ATTESTATION_SIGNATURE_INVALID', async () => {
    expect(await codeOf(flip(quote, 48 + 520))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a flipped byte in the quote signature with ATTESTATION_SIGNATURE_INVALID', async () => {
    expect(await codeOf(flip(quote, SIG_AT + 4 + 10))).toBe('ATTESTATION_SIGNATURE_INVALID');
  });

  it('refuses a flipped byte in the QE report with ATTESTATION_SIGNATURE_INVALID', async () => {
    let err: unknown;
    try {
      await verifyTdxQuote(flip(quote, QE_REPORT_AT + 4 + 100), { now, collateral });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ATTESTATION_SIGNATURE_INVALID', details: { signed: 'QE report' } });
  });

  it('refuses changed QE authentication data (the key binding) with ATTESTATION_QE_BINDING_INVALID', async () => {
    expect(await codeOf(flip(quote, AUTH_DATA_AT + 4 + 3))).toBe('ATTESTATION_QE_BINDING_INVALID');
  });

  it('refuses a flipped byte in the PCK certificate with ATTESTATION_CHAIN_INVALID', async () => {
    expect(await codeOf(flipPckCertByte(quote))).toBe('ATTESTATION_CHAIN_INVALID');
  });

  it('refuses a changed byte in the TCB info JSON with ATTESTATION_COLLATERAL_INVALID', async () => {
    const tcbInfo = collateral.tcbInfo.replace('"tcbEvaluationDataNumber":15', '"tcbEvaluationDataNumber":16');
    expect(tcbInfo).not.toBe(collateral.tcbInfo);
    expect(await codeOf(quote, { collateral: { ...collateral, tcbInfo } })).toBe('ATTESTATION_COLLATERAL_INVALID');
  });

  it('refuses a changed byte in the QE identity JSON with ATTESTATION_COLLATERAL_INVALID', async () => {
    const qeIdentity = collateral.qeIdentity.replace('"isvprodid":2', '"isvprodid":3');
    expect(await codeOf(quote, { collateral: { ...collateral, qeIdentity } })).toBe('ATTESTATION_COLLATERAL_INVALID');
  });

  it('refuses a PCK CRL from another issuer (the root CRL) with ATTESTATION_COLLATERAL_INVALID', async () => {
    expect(await codeOf(quote, { collateral: { ...collateral, pckCrl: collateral.rootCaCrl } })).toBe('ATTESTATION_COLLATERAL_INVALID');
  });

  it('refuses another attestation key type with ATTESTATION_ALGORITHM_UNSUPPORTED', async () => {
    const q = Buffer.from(quote);
    q.writeUInt16LE(3, 2);
    expect(await codeOf(q)).toBe('ATTESTATION_ALGORITHM_UNSUPPORTED');
  });

  it('refuses the real chain when only a generated root is pinned with ATTESTATION_ROOT_UNTRUSTED', async () => {
    expect(await codeOf(quote, { roots: [mintTdxWorld().rootPem] })).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('refuses any single-byte change from the header through the QE authentication data, each with an ATTESTATION_ code', async () => {
    // The QE authentication data is 32 bytes at AUTH_DATA_AT; after it comes the PCK chain's own header, whose size
    // field may lose a trailing newline without harm (tested apart).
    const end = AUTH_DATA_AT + 32;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: end - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const q = Buffer.from(quote);
        q[at] = q[at]! ^ x;
        expect(await codeOf(q)).toMatch(/^ATTESTATION_/);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a truncated quote with ATTESTATION_MALFORMED', async () => {
    expect(await codeOf(quote.subarray(0, 1000))).toBe('ATTESTATION_MALFORMED');
  });

  it('refuses a quote version other than 4 or 5 with ATTESTATION_MALFORMED', async () => {
    const q = Buffer.from(quote);
    q.writeUInt16LE(3, 0);
    expect(await codeOf(q)).toBe('ATTESTATION_MALFORMED');
  });
});

describe('verifyTdxQuote on synthetic quotes under a generated root', () => {
  const world = mintTdxWorld();
  const opts = { now: SYNTH_NOW, collateral: world.collateral, roots: [world.rootPem] };

  it('verifies a v4 quote with UpToDate TCB and DEBUG clear', async () => {
    const v = await verifyTdxQuote(mintTdxQuote(world), opts);
    expect(v).toMatchObject({ quoteVersion: 4, tdxVersion: '1.0', debug: false, tcbStatus: 'UpToDate', qeTcbStatus: 'UpToDate' });
    expect(v.measurements.mrtd).toBe('11'.repeat(48));
    expect(v.measurements.rtmr2).toBe('22'.repeat(48));
    expect(v.reportData).toBe('5a'.repeat(64));
  });

  it('reports debug: true when TDATTRIBUTES bit 0 is set', async () => {
    const v = await verifyTdxQuote(mintTdxQuote(world, { debug: true }), opts);
    expect(v.debug).toBe(true);
    expect(v.measurements.tdattributes).toBe('0100001000000000');
  });

  it('parses and verifies a v5 quote with a TDX 1.0 body (type 2)', async () => {
    const v = await verifyTdxQuote(mintTdxQuote(world, { version: 5, bodyType: 2 }), opts);
    expect(v).toMatchObject({ quoteVersion: 5, tdxVersion: '1.0', tcbStatus: 'UpToDate' });
    expect(v.measurements.mrservicetd).toBeUndefined();
  });

  it('parses and verifies a v5 quote with a TDX 1.5 body (type 3) and returns MRSERVICETD', async () => {
    const v = await verifyTdxQuote(mintTdxQuote(world, { version: 5, bodyType: 3, reportData: Buffer.alloc(64, 0x01) }), opts);
    expect(v).toMatchObject({ quoteVersion: 5, tdxVersion: '1.5' });
    expect(v.measurements.mrservicetd).toBe('77'.repeat(48));
    expect(v.reportData).toBe('01'.repeat(64));
  });

  it('refuses a v5 quote whose body size disagrees with its type with ATTESTATION_MALFORMED', async () => {
    const q = mintTdxQuote(world, { version: 5, bodyType: 3 });
    q.writeUInt32LE(584, 50);
    expect(await codeOf(q, opts)).toBe('ATTESTATION_MALFORMED');
  });

  it('refuses a synthetic chain against the default pinned Intel root with ATTESTATION_ROOT_UNTRUSTED', async () => {
    expect(await codeOf(mintTdxQuote(world), { now: SYNTH_NOW, collateral: world.collateral })).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });

  it('refuses a PCK certificate that the PCK CRL lists with ATTESTATION_CERT_REVOKED', async () => {
    const revoked = mintTdxWorld({ revokedPckSerials: ['3fa2c9e1'] });
    expect(await codeOf(mintTdxQuote(revoked), { now: SYNTH_NOW, collateral: revoked.collateral, roots: [revoked.rootPem] })).toBe('ATTESTATION_CERT_REVOKED');
  });

  it('refuses a PCK platform CA that the root CA CRL lists with ATTESTATION_CERT_REVOKED', async () => {
    const revoked = mintTdxWorld({ revokedCaSerials: ['02'] });
    expect(await codeOf(mintTdxQuote(revoked), { now: SYNTH_NOW, collateral: revoked.collateral, roots: [revoked.rootPem] })).toBe('ATTESTATION_CERT_REVOKED');
  });

  it('refuses collateral whose TCB signing certificate the root CA CRL lists with ATTESTATION_CERT_REVOKED', async () => {
    const revoked = mintTdxWorld({ revokedCaSerials: ['04'] });
    expect(await codeOf(mintTdxQuote(revoked), { now: SYNTH_NOW, collateral: revoked.collateral, roots: [revoked.rootPem] })).toBe('ATTESTATION_CERT_REVOKED');
  });

  it('reports OutOfDate for a platform whose PCE SVN only reaches the older level', async () => {
    const old = mintTdxWorld({ pceSvn: 7 });
    const v = await verifyTdxQuote(mintTdxQuote(old), { now: SYNTH_NOW, collateral: old.collateral, roots: [old.rootPem] });
    expect(v.tcbStatus).toBe('OutOfDate');
    expect(v.advisoryIds).toEqual(['INTEL-SA-00106']);
  });

  it('reports the TDX level only when the TEE TCB SVN reaches it (TDX module SVN below: OutOfDate is not reached either)', async () => {
    const v = await verifyTdxQuote(mintTdxQuote(world, { teeTcbSvn: Buffer.from([3, 0, 4]) }), opts);
    expect(v.tcbStatus).toBe(TDX_TCB_LEVEL_NOT_FOUND);
  });

  it('checks a TDX 1.5 module (major version 1) against its TDX_01 identity and reports its status', async () => {
    const w = mintTdxWorld({ moduleIdentityMrSigner: '00'.repeat(48) });
    const v = await verifyTdxQuote(mintTdxQuote(w, { version: 5, bodyType: 3, teeTcbSvn: Buffer.from([3, 1, 5]) }), { now: SYNTH_NOW, collateral: w.collateral, roots: [w.rootPem] });
    expect(v.tdxModuleTcbStatus).toBe('UpToDate');
    expect(v.tcbStatus).toBe('UpToDate');
  });

  it('refuses a TDX module major version the TCB info has no identity for with ATTESTATION_TCB_REFUSED', async () => {
    const w = mintTdxWorld({ moduleIdentityMrSigner: '00'.repeat(48) });
    expect(await codeOf(mintTdxQuote(w, { teeTcbSvn: Buffer.from([3, 2, 5]) }), { now: SYNTH_NOW, collateral: w.collateral, roots: [w.rootPem] })).toBe('ATTESTATION_TCB_REFUSED');
  });

  it('refuses a TDX module whose MRSIGNERSEAM is not its identity signer with ATTESTATION_MEASUREMENT_UNEXPECTED', async () => {
    const w = mintTdxWorld({ moduleIdentityMrSigner: 'ff'.repeat(48) });
    expect(await codeOf(mintTdxQuote(w, { teeTcbSvn: Buffer.from([3, 1, 5]) }), { now: SYNTH_NOW, collateral: w.collateral, roots: [w.rootPem] })).toBe('ATTESTATION_MEASUREMENT_UNEXPECTED');
  });

  it('refuses a platform whose matching TCB level is Revoked with ATTESTATION_TCB_REFUSED', async () => {
    const rev = mintTdxWorld({ topStatus: 'Revoked' });
    expect(await codeOf(mintTdxQuote(rev), { now: SYNTH_NOW, collateral: rev.collateral, roots: [rev.rootPem] })).toBe('ATTESTATION_TCB_REFUSED');
  });

  it('refuses a QE whose MRSIGNER is not the QE identity one with ATTESTATION_QE_IDENTITY_MISMATCH', async () => {
    const other = mintTdxWorld({ qeMrSigner: 'ab'.repeat(32) });
    expect(await codeOf(mintTdxQuote(other), { now: SYNTH_NOW, collateral: other.collateral, roots: [other.rootPem] })).toBe('ATTESTATION_QE_IDENTITY_MISMATCH');
  });

  it('refuses signed TCB info missing its tcbLevels with ATTESTATION_COLLATERAL_INVALID', async () => {
    const w = mintTdxWorld({ dropTcbInfoField: 'tcbLevels' });
    expect(await codeOf(mintTdxQuote(w), { now: SYNTH_NOW, collateral: w.collateral, roots: [w.rootPem] })).toBe('ATTESTATION_COLLATERAL_INVALID');
  });

  it('refuses TCB info for another FMSPC with ATTESTATION_COLLATERAL_INVALID', async () => {
    const other = mintTdxWorld({ tcbInfoFmspc: '00a06f000000' });
    expect(await codeOf(mintTdxQuote(other), { now: SYNTH_NOW, collateral: other.collateral, roots: [other.rootPem] })).toBe('ATTESTATION_COLLATERAL_INVALID');
  });

  it('refuses collateral signed under another world (foreign TCB signer) with ATTESTATION_ROOT_UNTRUSTED', async () => {
    const foreign = mintTdxWorld();
    const collateral2 = { ...world.collateral, tcbInfo: foreign.collateral.tcbInfo, tcbInfoIssuerChain: foreign.collateral.tcbInfoIssuerChain };
    expect(await codeOf(mintTdxQuote(world), { ...opts, collateral: collateral2 })).toBe('ATTESTATION_ROOT_UNTRUSTED');
  });
});
