import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@aws-lambda-powertools/logger';
import { Wallet } from 'ethers';
import { FakeSecretsManager } from '../../test/support/aws/fakeSecretsManager.js';
import { codeOf } from '../../test/support/errors.js';
import { createConsumerRelayer } from './relayer.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:provena/test/relayer-AbC123';
let sm: FakeSecretsManager;

const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
beforeAll(async () => {
  // The SDK's default credential chain reads these from the process environment, as on Lambda.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
  sm = await FakeSecretsManager.start();
  sm.put(ARN, Wallet.createRandom().privateKey);
});
afterAll(async () => {
  for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await sm.close();
});

describe("the relayer consumer's cold start", () => {
  const env = (over: Record<string, string>) => ({
    AWS_REGION: 'eu-west-1',
    PROVENA_CHAIN_RPC_URL: 'http://127.0.0.1:1',
    PROVENA_CHAIN_ID: '31337',
    PROVENA_TABLE_RELAYER: 'provena-relayer',
    PROVENA_SECRETS_MANAGER_ENDPOINT: sm.endpoint,
    ...over,
  });

  it('reads the relayer key from PROVENA_RELAYER_SECRET_ARN once, before any batch', async () => {
    const before = sm.calls.length;
    const core = await createConsumerRelayer(env({ PROVENA_RELAYER_SECRET_ARN: ARN }), new Logger({ logLevel: 'SILENT' }));
    expect(typeof core.submit).toBe('function');
    expect(sm.calls.slice(before).map((c) => c.body.SecretId)).toEqual([ARN]);
  });

  it('fails to start, naming the variable, with neither a key nor a secret (CONFIG_INVALID)', async () => {
    expect(await codeOf(createConsumerRelayer(env({}), new Logger({ logLevel: 'SILENT' })))).toBe('CONFIG_INVALID');
  });
});
