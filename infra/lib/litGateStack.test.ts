/**
 * The stack with the Lit key gate: the API's config carries the pinned release action and the gate wallet's secret,
 * only the key-gate routes may read that secret, and a Lit stack without the wallet is refused before synth.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { routeList as routes } from '../../shared/http/routes.js';
import { readInfraConfig } from './InfraConfig.js';
import { ProvenaStack } from './ProvenaStack.js';
import { LIT_SDK_MODULES } from './constructs/HttpApi.js';
import { readdirSync } from 'node:fs';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource?: unknown };

const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;
const WALLET_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:provena/test/lit-wallet-XyZ789';
const ACTION_CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
/** A Capacity Credits delegation to the gate wallet, in the shape Lit's createCapacityDelegationAuthSig returns. */
const DELEGATION = {
  sig: `0x${'5a'.repeat(65)}`,
  derivedVia: 'web3.eth.personal.sign',
  signedMessage: "localhost wants you to sign in with your Ethereum account:\n0x40c06032dc7012BC7BD784c9D2A7634db0e35A8D\n\nURI: lit:capability:delegation\n",
  address: '0x40c06032dc7012BC7BD784c9D2A7634db0e35A8D',
};
const litEnv = {
  PROVENA_STAGE: 'test',
  PROVENA_CHAIN_RPC_URL: 'https://rpc.example.org',
  PROVENA_CHAIN_ID: '84532',
  PROVENA_CHAIN_NAME: 'baseSepolia',
  PROVENA_CONTRACTS: JSON.stringify({
    PaymentToken: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    DatasetRegistry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    LicenseManager: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    AttestationRegistry: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
    TrainingLicense: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
  }),
  PROVENA_KUBO_URL: 'https://kubo.internal.example.org:5001',
  PROVENA_KEY_GATE: 'lit',
  PROVENA_LIT_NETWORK: 'datil-test',
  PROVENA_LIT_ACTION_CID: ACTION_CID,
  PROVENA_ENCLAVE_PCR0: 'ab'.repeat(48),
};

describe('a stack with the Lit key gate', () => {
  it('is refused without the gate wallet secret, naming the variable', () => {
    expect(() => readInfraConfig(litEnv)).toThrow(/PROVENA_LIT_WALLET_SECRET_ARN/);
  });

  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
  const webDist = mkdtempSync(join(tmpdir(), 'provena-web-dist-'));
  writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>Provena</title>');
  const stack = new ProvenaStack(app, 'Provena-lit', { webConsoleDir: webDist, config: readInfraConfig({ ...litEnv, PROVENA_LIT_WALLET_SECRET_ARN: WALLET_SECRET_ARN, PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: JSON.stringify(DELEGATION) }) });
  const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const resources = Object.entries(json.Resources);
  const props = (r: Resource): Record<string, unknown> => r.Properties ?? {};
  const lambdaOf = (name: string): Resource => {
    const route = routes.find((r) => r.name === name);
    const fn = resources.find(([, r]) => r.Type === 'AWS::Lambda::Function' && String(props(r)['Description']).startsWith(`${route?.method} ${route?.path}:`));
    if (fn === undefined) throw new Error(`no Lambda for ${name}`);
    return fn[1];
  };
  const statementsOf = (fn: Resource): Statement[] => {
    const role = ((props(fn)['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
    return resources
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (props(r)['Roles'] as { Ref: string }[]).some((x) => x.Ref === role))
      .flatMap(([, r]) => (props(r)['PolicyDocument'] as { Statement: Statement[] }).Statement);
  };
  const readsWallet = (fn: Resource): boolean =>
    statementsOf(fn).some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource) === JSON.stringify(WALLET_SECRET_ARN));

  it('gives the API the Lit network, the pinned action and the wallet secret (its ARN, never a key)', () => {
    const vars = (props(lambdaOf('releaseKey'))['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toMatchObject({ PROVENA_KEY_GATE: 'lit', PROVENA_LIT_NETWORK: 'datil-test', PROVENA_LIT_ACTION_CID: ACTION_CID, PROVENA_LIT_WALLET_KEY: WALLET_SECRET_ARN });
  });

  it('lets only the routes that build the gate (wrap at completeUpload, release) read the wallet secret', () => {
    const readers = routes.filter((r) => readsWallet(lambdaOf(r.name))).map((r) => r.name).sort();
    expect(readers).toEqual(routes.filter((r) => r.access.keyGate === 'wrap' || r.access.keyGate === 'release').map((r) => r.name).sort());
    expect(readers).toEqual(expect.arrayContaining(['completeUpload', 'releaseKey']));
  });

  it('gives the Capacity Credits delegation to the key-gate Lambdas only, as the JSON the API parses', () => {
    const delegationOf = (name: string): unknown => ((props(lambdaOf(name))['Environment'] as { Variables: Record<string, unknown> }).Variables)['PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG'];
    const gateRoutes = routes.filter((r) => r.access.keyGate === 'wrap' || r.access.keyGate === 'release').map((r) => r.name);

    expect(gateRoutes).toEqual(expect.arrayContaining(['completeUpload', 'releaseKey']));
    for (const name of gateRoutes) expect(JSON.parse(delegationOf(name) as string)).toEqual(DELEGATION);
    expect(routes.filter((r) => !gateRoutes.includes(r.name) && delegationOf(r.name) !== undefined).map((r) => r.name)).toEqual([]);
  });

  it('refuses a malformed delegation before synth, naming the variable', () => {
    expect(() => readInfraConfig({ ...litEnv, PROVENA_LIT_WALLET_SECRET_ARN: WALLET_SECRET_ARN, PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG: '{"sig":"0x00"}' })).toThrow(/PROVENA_LIT_CAPACITY_DELEGATION_AUTH_SIG/);
  });

  it('installs beside the gate Lambdas every Lit package the adapters import at run time', () => {
    const dir = new URL('../../shared/adapters/lit/', import.meta.url);
    const specifiers = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/'(@lit-protocol\/[a-z0-9-]+)'/g)) specifiers.add(m[1] as string);
    }
    expect(specifiers.size).toBeGreaterThan(0);
    expect([...specifiers].filter((s) => !LIT_SDK_MODULES.includes(s))).toEqual([]);
  });
});
