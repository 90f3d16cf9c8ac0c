import { describe, expect, it, jest } from '@jest/globals';
import { SigningKey, Wallet } from 'ethers';
import { main } from '../provena.js';

async function run(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, out };
  } finally {
    write.mockRestore();
    process.env = saved;
  }
}

describe('provena key public', () => {
  it("prints the key's compressed public key, which job submit --model-key takes and the model is sealed to", async () => {
    const wallet = Wallet.createRandom();
    const { code, out } = await run(['--api', 'http://127.0.0.1:9', 'key', 'public'], { PROVENA_PRIVATE_KEY: wallet.privateKey });
    expect(code).toBe(0);
    expect(out.trim()).toBe(SigningKey.computePublicKey(wallet.signingKey.publicKey, true));
    expect(out.trim()).toMatch(/^0x0[23][0-9a-f]{64}$/);
  });

  it('says a key is missing instead of printing anything', async () => {
    const { code, out } = await run(['--api', 'http://127.0.0.1:9', 'key', 'public'], { PROVENA_PRIVATE_KEY: '' });
    expect(code).not.toBe(0);
    expect(out).not.toMatch(/0x0[23]/);
  });
});
