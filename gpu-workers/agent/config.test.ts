import { describe, expect, it } from '@jest/globals';
import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import { defaultMaxDataBytes, loadWorkerConfig, maxDatasetBytes } from './config.js';

const KEY = '0x' + '11'.repeat(32);

describe('worker config', () => {
  it('reads the API URL and operator key and fills every default', () => {
    const c = loadWorkerConfig({ PROVENA_API_URL: 'http://127.0.0.1:8787', PROVENA_WORKER_OPERATOR_KEY: KEY });

    expect(c.PROVENA_WORKER_MODES).toEqual(['nitro']);
    expect(c.PROVENA_WORKER_ATTESTOR).toBe('dev');
    expect(c.PROVENA_WORKER_IMDS_URL).toBeUndefined();
    expect(c.PROVENA_WORKER_IMDS_POLL_SECONDS).toBe(5);
    expect(c.PROVENA_WORKER_ONCE).toBe(false);
  });

  it('parses a comma-separated mode list and numeric settings', () => {
    const c = loadWorkerConfig({
      PROVENA_API_URL: 'https://api.example.com',
      PROVENA_WORKER_OPERATOR_KEY: KEY,
      PROVENA_WORKER_MODES: 'confidential-gpu, nitro',
      PROVENA_WORKER_CHECKPOINT_EVERY_STEPS: '7',
      PROVENA_WORKER_ONCE: '1',
    });

    expect(c.PROVENA_WORKER_MODES).toEqual(['confidential-gpu', 'nitro']);
    expect(c.PROVENA_WORKER_CHECKPOINT_EVERY_STEPS).toBe(7);
    expect(c.PROVENA_WORKER_ONCE).toBe(true);
  });

  it('fails at start naming every missing or bad variable', () => {
    let err: unknown;
    try {
      loadWorkerConfig({ PROVENA_WORKER_OPERATOR_KEY: 'nope', PROVENA_WORKER_MODES: 'sgx' });
    } catch (e) {
      err = e;
    }

    expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
    const msg = (err as Error).message;
    expect(msg).toContain('PROVENA_API_URL');
    expect(msg).toContain('PROVENA_WORKER_OPERATOR_KEY');
    expect(msg).toContain('PROVENA_WORKER_MODES');
  });

  it('holds at most a quarter of the machine\'s memory of plaintext by default, one dataset within one buffer', () => {
    const base = { PROVENA_API_URL: 'http://127.0.0.1:8787', PROVENA_WORKER_OPERATOR_KEY: KEY };

    expect(loadWorkerConfig(base).PROVENA_WORKER_MAX_DATA_BYTES).toBe(Math.floor(totalmem() / 4));
    expect(defaultMaxDataBytes(64 * 2 ** 30)).toBe(16 * 2 ** 30);
    const set = loadWorkerConfig({ ...base, PROVENA_WORKER_MAX_DATA_BYTES: '1048576' });
    expect(set.PROVENA_WORKER_MAX_DATA_BYTES).toBe(1048576);
    expect(maxDatasetBytes(set)).toBe(1048576);
    expect(maxDatasetBytes({ PROVENA_WORKER_MAX_DATA_BYTES: 2 ** 50 })).toBe(constants.MAX_LENGTH);
  });

  it.each(['0', '-1', '1.5', 'lots'])('refuses PROVENA_WORKER_MAX_DATA_BYTES=%s at start', (v) => {
    let err: unknown;
    try {
      loadWorkerConfig({ PROVENA_API_URL: 'http://127.0.0.1:8787', PROVENA_WORKER_OPERATOR_KEY: KEY, PROVENA_WORKER_MAX_DATA_BYTES: v });
    } catch (e) {
      err = e;
    }

    expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
    expect((err as Error).message).toContain('PROVENA_WORKER_MAX_DATA_BYTES');
  });
});
