import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Wallet } from 'ethers';
import { FakeSecretsManager } from '../../../test/support/aws/fakeSecretsManager.js';
import { codeOf } from '../../../test/support/errors.js';
import type { ProvenaError } from '../../errors.js';
import { AwsJsonClient } from './awsJsonClient.js';
import { readPrivateKeySecret } from './SecretsManagerKey.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:provena/test/relayer-AbC123';
const key = Wallet.createRandom().privateKey;
let sm: FakeSecretsManager;
const client = () =>
  new AwsJsonClient({ service: 'secretsmanager', region: 'eu-west-1', targetPrefix: 'secretsmanager', jsonVersion: '1.1', endpoint: sm.endpoint, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });

beforeAll(async () => {
  sm = await FakeSecretsManager.start();
  sm.put(ARN, key);
  sm.put(`${ARN}-json`, JSON.stringify({ privateKey: key }));
  sm.put(`${ARN}-bad`, 'hunter2');
});
afterAll(() => sm.close());

describe('readPrivateKeySecret (through the fake Secrets Manager, test/support/aws/fakeSecretsManager.ts)', () => {
  it('reads the key with a SigV4-signed GetSecretValue naming the secret', async () => {
    expect(await readPrivateKeySecret(client(), ARN, 'PROVENA_RELAYER_SECRET_ARN')).toBe(key);
    expect(sm.calls.at(-1)).toMatchObject({ target: 'secretsmanager.GetSecretValue', body: { SecretId: ARN }, authorization: expect.stringContaining('/eu-west-1/secretsmanager/aws4_request') });
  });

  it('reads the key from a JSON secret {"privateKey": …}', async () => {
    expect(await readPrivateKeySecret(client(), `${ARN}-json`, 'PROVENA_RELAYER_SECRET_ARN')).toBe(key);
  });

  it('refuses a secret that is not a private key, without echoing it (CONFIG_INVALID)', async () => {
    const err = await readPrivateKeySecret(client(), `${ARN}-bad`, 'PROVENA_LIT_WALLET_KEY').catch((e: unknown) => e) as Error;
    expect(await codeOf(Promise.reject(err))).toBe('CONFIG_INVALID');
    expect(err.message).not.toContain('hunter2');
    // Names the variable that named the secret (the Lit gate's wallet here, not the relayer's).
    expect(err.message).toContain('PROVENA_LIT_WALLET_KEY=');
    expect((err as ProvenaError).details).toEqual([{ path: ['PROVENA_LIT_WALLET_KEY'], message: 'secret does not hold a private key' }]);
  });

  it('surfaces an unknown secret as DEPENDENCY_FAILED naming the service error', async () => {
    const err = await readPrivateKeySecret(client(), `${ARN}-missing`, 'PROVENA_RELAYER_SECRET_ARN').catch((e: unknown) => e) as Error;
    expect(await codeOf(Promise.reject(err))).toBe('DEPENDENCY_FAILED');
    expect(err.message).toContain('ResourceNotFoundException');
  });
});

