import { ProvenaError } from '../../shared/errors.js';

/**
 * What a call ended with: `'OK'`, or the stable code of the ProvenaError it threw. Any other error is rethrown,
 * so a test expecting a code fails loudly on an unmapped error instead of comparing strings.
 */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (err instanceof ProvenaError) return err.code;
    throw err;
  }
}
