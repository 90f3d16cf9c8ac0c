import { describe, expect, it } from '@jest/globals';
import { redactSecrets } from './redactSecrets.js';

describe('redactSecrets', () => {
  it('keeps only the scheme, host and port of a URL whose path holds an API key', () => {
    const out = redactSecrets('request to http://127.0.0.1:1/v2/SECRETKEY123 failed');
    expect(out).toBe('request to http://127.0.0.1:1/… failed');
    expect(out).not.toContain('SECRETKEY123');
  });

  it('removes a key in the query string and user info', () => {
    const out = redactSecrets('https://user:pa55@rpc.example.org/?apikey=SECRETKEY123&x=1');
    expect(out).toBe('https://rpc.example.org/…');
    expect(out).not.toMatch(/SECRETKEY123|pa55|user/);
  });

  it('redacts a URL inside JSON quotes, as ethers prints it in error info', () => {
    const out = redactSecrets('could not coalesce error (info={ "requestUrl": "wss://eth.example.io/ws/v3/SECRETKEY123" })');
    expect(out).toContain('"wss://eth.example.io/…"');
    expect(out).not.toContain('SECRETKEY123');
  });

  it('elides 32-byte hex strings with or without 0x (private keys, HMAC keys)', () => {
    const key = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
    expect(redactSecrets(`key 0x${key} and ${key}.`)).toBe('key 0x… and ….');
  });

  it('leaves an address, a short hex string and plain text alone', () => {
    const text = 'relayer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 chain id 0x7a69 is down';
    expect(redactSecrets(text)).toBe(text);
  });
});
