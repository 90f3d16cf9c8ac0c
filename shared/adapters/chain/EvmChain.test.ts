import { describe, expect, it } from '@jest/globals';
import { EvmChain } from './EvmChain.js';
import { hasCode } from '../../errors.js';

// Port 1 on loopback: nothing listens there, so every connection is refused at once.
const SECRET_URL = 'http://127.0.0.1:1/v2/SECRETKEY123?apikey=QUERYSECRET';

describe('EvmChain against an RPC endpoint that does not answer', () => {
  it('reports the chain down from a real probe, naming neither the URL path nor its query', async () => {
    const health = await new EvmChain(SECRET_URL, 31337).health();
    expect(health.status).toBe('down');
    expect(health.error).toBeTruthy();
    const text = JSON.stringify(health);
    expect(text).not.toContain('SECRETKEY123');
    expect(text).not.toContain('QUERYSECRET');
    expect(text).not.toContain('/v2');
  });

  it('throws CHAIN_UNAVAILABLE whose message names the host only', async () => {
    const err = await new EvmChain(SECRET_URL, 31337).isContract('0x70997970C51812dc3A010C7d01b50e0d17dc79C8').catch((e: unknown) => e);
    expect(hasCode(err, 'CHAIN_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toMatch(/SECRETKEY123|QUERYSECRET|\/v2/);
  });
});
