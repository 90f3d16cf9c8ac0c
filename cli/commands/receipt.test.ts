import { describe, expect, it } from '@jest/globals';
import { renderReceiptChecks } from './receipt.js';

describe('provena receipt verify', () => {
  it('prints one line per check with its verdict and, for a failure, its code', () => {
    const text = renderReceiptChecks({
      cid: 'bafy',
      ok: false,
      checks: [
        { check: 'cid', ok: true, message: 'the bytes hash to bafy' },
        { check: 'signature', ok: false, code: 'RECEIPT_SIGNATURE_INVALID', message: 'signed by 0xabc' },
        { check: 'evidence', ok: false, skipped: true, message: 'not checked' },
      ],
    });

    expect(text.split('\n')).toEqual([
      'receipt bafy',
      '  ok    cid        the bytes hash to bafy',
      '  FAIL  signature  RECEIPT_SIGNATURE_INVALID: signed by 0xabc',
      '  skip  evidence   not checked',
      'NOT verified',
    ]);
  });
});
