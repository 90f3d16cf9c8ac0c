/**
 * An in-process stand-in for a Lit network (Datil, SDK v7 `LitNodeClient`), at the adapter's client seam
 * (`LitClientLike`). What it does for real: Lit's `dataToEncryptHash` (SHA-256 of the plaintext, hex), the
 * ciphertext bound to the identity Lit derives from the conditions and that hash
 * (`lit-accesscontrolcondition://<conditions hash>/<dataToEncryptHash>`), so a key cannot be decrypted under other
 * conditions, and a refusal worded as Lit's nodes word it when the conditions fail.
 *
 * Lit Actions (`executeJs`): the action's code runs in `node:vm` with the globals Lit's runtime gives it: `Lit`
 * (`Lit.Actions.decryptAndCombine`, `decryptToSingleNode`, `runOnce`, `setResponse`, `getRpcUrl`; `Lit.Auth.
 * actionIpfsIds`), `ethers` **v5** (the copy the Lit SDK installs, as Lit's runtime has ethers 5), WebCrypto
 * `crypto`, `TextEncoder`/`TextDecoder`, and the jsParams (as `jsParams` and as globals). The action's CID is
 * computed from its code as Lit computes it (CIDv0, UnixFS), and `:currentActionIpfsId` is that CID: a changed
 * action cannot decrypt a key bound to the original. An action named by CID must have been pinned (`pin`).
 * `getRpcUrl` answers the URLs given (in tests, an HTTP JSON-RPC bridge to the in-process chain: real calls).
 *
 * What it imitates instead of doing: Lit encrypts with BLS12-381 identity-based encryption to the network's
 * public key and decrypts by combining BLS signature shares of a threshold of nodes, each of which evaluates the
 * conditions and checks the session signatures (SIWE + ReCap). Here one AES-256-GCM network key stands in for the
 * BLS key pair (no threshold), `canAccess(address)` stands in for the nodes' evaluation of EVM contract
 * conditions. Session signatures are verified as the nodes do when `sessionWallets` is set (see that option; real
 * ed25519 and secp256k1, the SDK's blockhash endpoint served over HTTP for the SIWE nonce, `sdkClient()` gives the
 * real SDK client with the handshake's outcome in place of its `connect`); otherwise one is trusted for the
 * `address` it names. Only the
 * `:currentActionIpfsId` basic condition is evaluated for Lit Actions (any other fails closed). One node runs
 * each action (`runOnce` simply runs), in the test's process: no TEE, no 30 s / memory limits. The conditions
 * hash is SHA-256 of their JSON, not Lit's canonical form. Of the wire protocol only the blockhash endpoint is
 * spoken over HTTP; the nodes' requests are function calls.
 */
import { createCipheriv, createDecipheriv, createHash, createPublicKey, randomBytes, verify, webcrypto } from 'node:crypto';
import { getAddress, verifyMessage } from 'ethers';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { Script, createContext } from 'node:vm';
import type { LitClientLike } from '../../../shared/adapters/lit/LitKeyGate.js';
import { litActionCid } from '../../../shared/adapters/lit/provenaReleaseActionCid.js';

/** One Lit Action run, for assertions. */
export interface ActionRun {
  cid: string;
  /** Whether the action asked Lit to decrypt, and whether Lit did. */
  decryptAsked: boolean;
  decrypted: boolean;
  response: string | undefined;
}

/** What the fake network records, for assertions. */
export interface FakeLitNetwork {
  client: LitClientLike & Required<Pick<LitClientLike, 'executeJs'>>;
  encrypts: number;
  decrypts: { address: string; granted: boolean }[];
  actionRuns: ActionRun[];
  /** Pins an action's code (the fake's IPFS); returns its CID. */
  pin(code: string): Promise<string>;
  /**
   * A real SDK client (`LitNodeClientNodeJs` 7.4.0) whose `getSessionSigs` is the SDK's own code, connected to this
   * network: `connect` is the handshake (the node URLs, and the SDK's blockhash endpoint served over HTTP by the
   * fake); `encrypt`, `decrypt` and `executeJs` go to the fake's nodes, which verify session signatures
   * when `sessionWallets` is set. Needs `@lit-protocol/lit-node-client` installed.
   */
  sdkClient(): Promise<LitClientLike & Required<Pick<LitClientLike, 'executeJs' | 'getSessionSigs' | 'getLatestBlockhash'>>>;
  /** The fake's node URLs (session signatures carry one entry per node). */
  nodeUrls: readonly string[];
  /** Session-signature refusals, as the nodes worded them. */
  sessionRefusals: string[];
}

/** Options of {@link fakeLitNetwork}. */
export interface FakeLitOptions {
  /** Lit chain name -> RPC URL, for `Lit.Actions.getRpcUrl`. */
  rpcUrls?: Record<string, string>;
  /**
   * Wallets holding Capacity Credits. Set: `executeJs` verifies session signatures as Lit's nodes do (per node: the
   * ed25519 session-key signature over the node's request, its expiry, the resource asked for; the SIWE auth sig
   * recovering to a wallet listed here, its `lit:session:` URI naming the session key, its expiry, its nonce a
   * blockhash this network issued, its ReCap granting `Threshold/Execution` on `lit-litaction://<the CID run>`).
   * A session wallet not listed pays through a Capacity Credits delegation among the capabilities (`lit:capability:
   * delegation`): signed by a listed wallet, unexpired, an issued blockhash as nonce, a `lit-ratelimitincrease://…`
   * `Auth/Auth` grant whose `delegate_to` names the session wallet (or has no such list). Not imitated: `uses`
   * counting and the credits' own rate limits.
   * Unset: a session signature is trusted for the `address` it names (older tests).
   */
  sessionWallets?: string[];
  /** The nodes' clock (default Date.now). */
  now?: () => number;
}

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** ethers v5, as the Lit SDK installs it (the version Lit's action runtime provides). */
function ethersV5(): unknown {
  const req = createRequire(import.meta.url);
  const litClient = req.resolve('@lit-protocol/lit-node-client');
  return createRequire(litClient)('ethers');
}

function addressOf(sessionSigs: Record<string, unknown>): string {
  const address = Object.values(sessionSigs).map((s) => (s as { address?: string }).address).find((a) => typeof a === 'string');
  if (address === undefined) throw new Error('Invalid sessionSigs: no session signature names an address');
  return address;
}

/** A fake Lit network whose EVM contract conditions pass for the addresses `canAccess` accepts. */
export function fakeLitNetwork(canAccess: (address: string) => boolean, options: FakeLitOptions = {}): FakeLitNetwork {
  const networkKey = randomBytes(32);
  const pinned = new Map<string, string>();
  const identity = (conditions: unknown, dataToEncryptHash: string) => `lit-accesscontrolcondition://${sha256Hex(JSON.stringify(conditions))}/${dataToEncryptHash}`;
  const seal = (conditions: unknown, data: Uint8Array) => {
    const dataToEncryptHash = sha256Hex(data);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', networkKey, iv).setAAD(Buffer.from(identity(conditions, dataToEncryptHash)));
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), dataToEncryptHash };
  };
  const open = (conditions: unknown, ciphertext: string, dataToEncryptHash: string): Buffer => {
    const raw = Buffer.from(ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', networkKey, raw.subarray(0, 12)).setAAD(Buffer.from(identity(conditions, dataToEncryptHash)));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    } catch {
      throw new Error('Decryption failed: the ciphertext does not belong to these access control conditions');
    }
  };

  /** Lit's check of `:currentActionIpfsId` conditions for the running action; anything else fails closed. */
  const actionConditionsPass = (accs: unknown, cid: string): boolean =>
    Array.isArray(accs) &&
    accs.length > 0 &&
    accs.every((c: unknown, i: number) => {
      if (i % 2 === 1) return (c as { operator?: string }).operator === 'and';
      const x = c as { parameters?: unknown; returnValueTest?: { comparator?: string; value?: string } };
      return Array.isArray(x.parameters) && x.parameters[0] === ':currentActionIpfsId' && x.returnValueTest?.comparator === '=' && x.returnValueTest.value === cid;
    });

  async function runAction(code: string, cid: string, jsParams: Record<string, unknown>): Promise<{ response: string; logs: string }> {
    const run: ActionRun = { cid, decryptAsked: false, decrypted: false, response: undefined };
    net.actionRuns.push(run);
    const logs: string[] = [];
    const decrypt = async (p: { accessControlConditions: unknown; ciphertext: string; dataToEncryptHash: string }): Promise<string> => {
      run.decryptAsked = true;
      if (!actionConditionsPass(p.accessControlConditions, cid)) {
        throw new Error(`NodeAccessControlConditionsReturnedNotAuthorized: The access control conditions check failed for action ${cid}`);
      }
      const plain = open(p.accessControlConditions, p.ciphertext, p.dataToEncryptHash);
      if (sha256Hex(plain) !== p.dataToEncryptHash) throw new Error('Decryption failed: dataToEncryptHash does not match');
      run.decrypted = true;
      return plain.toString('utf8');
    };
    const Lit = {
      Actions: {
        decryptAndCombine: decrypt,
        decryptToSingleNode: decrypt,
        runOnce: async (_opts: { waitForResponse?: boolean; name?: string }, fn: () => Promise<unknown>) => fn(),
        setResponse: ({ response }: { response: string }) => {
          run.response = response;
        },
        // Async, as Lit's is.
        getRpcUrl: async ({ chain }: { chain: string }) => {
          const url = options.rpcUrls?.[chain];
          if (url === undefined) throw new Error(`no RPC URL for chain ${chain}`);
          return url;
        },
      },
      Auth: { actionIpfsIds: [cid], actionIpfsIdStack: [cid] },
    };
    // Lit serializes jsParams over the wire: the action gets a JSON copy.
    const params = JSON.parse(JSON.stringify(jsParams)) as Record<string, unknown>;
    const context = createContext({
      ...params,
      jsParams: params,
      Lit,
      ethers: ethersV5(),
      crypto: webcrypto,
      TextEncoder,
      TextDecoder,
      console: { log: (...a: unknown[]) => logs.push(a.map(String).join(' ')), error: (...a: unknown[]) => logs.push(a.map(String).join(' ')) },
    });
    const done = new Script(code, { filename: `lit-action-${cid}.js` }).runInContext(context) as unknown;
    await Promise.race([Promise.resolve(done), new Promise((_, reject) => setTimeout(() => reject(new Error('Lit Action timed out')), 30_000).unref())]);
    return { response: run.response ?? '', logs: logs.join('\n') };
  }


  const nodeUrls = ['https://fake-lit-node-1.test:7470', 'https://fake-lit-node-2.test:7470', 'https://fake-lit-node-3.test:7470'];
  const issuedBlockhashes = new Set<string>();
  const paying = options.sessionWallets === undefined ? undefined : new Set(options.sessionWallets.map((a) => getAddress(a)));
  const refuse = (reason: string): never => {
    net.sessionRefusals.push(reason);
    throw new Error(`NodeInvalidSessionSigs: ${reason}`);
  };

  /** What each node checks of its entry of the session signatures before running `ipfsId`; returns the paying wallet. */
  async function verifySessionSigs(sessionSigs: Record<string, unknown>, ipfsId: string): Promise<string> {
    const now = (options.now ?? Date.now)();
    const { SiweMessage } = (await import('siwe')) as typeof import('siwe');
    let wallet: string | undefined;
    let delegations: { sig: string; signedMessage: string; address: string }[] = [];
    for (const url of nodeUrls) {
      const s = sessionSigs[url] as { sig?: string; derivedVia?: string; signedMessage?: string; address?: string; algo?: string } | undefined;
      if (s === undefined || typeof s.signedMessage !== 'string' || typeof s.sig !== 'string' || typeof s.address !== 'string') refuse(`no session signature for node ${url}`);
      if (s!.algo !== 'ed25519' || s!.derivedVia !== 'litSessionSignViaNacl') refuse('session signature is not ed25519');
      const sessionKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(s!.address!, 'hex')]), format: 'der', type: 'spki' });
      if (!verify(null, Buffer.from(s!.signedMessage!, 'utf8'), sessionKey, Buffer.from(s!.sig!, 'hex'))) refuse('the session key did not sign this request');
      const m = JSON.parse(s!.signedMessage!) as { sessionKey: string; nodeAddress: string; expiration: string; resourceAbilityRequests: { resource: { resource: string; resourcePrefix: string }; ability: string }[]; capabilities: { sig: string; signedMessage: string; address: string; derivedVia: string }[] };
      if (m.sessionKey !== s!.address || m.nodeAddress !== url) refuse(`session signature is for node ${m.nodeAddress}, not ${url}`);
      if (!(Date.parse(m.expiration) > now)) refuse('session signature expired');
      const asked = m.resourceAbilityRequests.some((r) => r.ability === 'lit-action-execution' && r.resource.resourcePrefix === 'lit-litaction' && (r.resource.resource === ipfsId || r.resource.resource === '*'));
      if (!asked) refuse(`session does not request executing ${ipfsId}`);
      // The wallet's own auth sig delegates to the session key (`lit:session:`); a Capacity Credits delegation
      // (`lit:capability:delegation`, from `createCapacityDelegationAuthSig`) may sit beside it.
      const uriOf = (c: { signedMessage: string }): string | undefined => /\nURI: (\S+)\n/.exec(c.signedMessage)?.[1];
      const personal = m.capabilities.filter((c) => c.derivedVia === 'web3.eth.personal.sign');
      const authSig = personal.find((c) => uriOf(c)?.startsWith('lit:session:'));
      if (authSig === undefined) refuse('no wallet auth sig in the session capabilities');
      delegations = personal.filter((c) => uriOf(c) === 'lit:capability:delegation');
      let signer: string;
      try {
        signer = verifyMessage(authSig!.signedMessage, authSig!.sig);
      } catch {
        refuse('wallet auth sig does not verify');
      }
      const siwe = new SiweMessage(authSig!.signedMessage);
      if (signer! !== getAddress(authSig!.address) || getAddress(siwe.address) !== signer!) refuse('wallet auth sig is not signed by the wallet it names');
      if (siwe.uri !== `lit:session:${s!.address}`) refuse('wallet auth sig delegates to another session key');
      if (siwe.expirationTime === undefined || !(Date.parse(siwe.expirationTime) > now)) refuse('wallet auth sig expired');
      if (!issuedBlockhashes.has(siwe.nonce)) refuse('wallet auth sig nonce is not a recent Lit blockhash');
      const recap = siwe.resources?.find((r) => r.startsWith('urn:recap:'));
      const att = recap === undefined ? undefined : (JSON.parse(Buffer.from(recap.slice('urn:recap:'.length), 'base64url').toString('utf8')) as { att?: Record<string, Record<string, unknown>> }).att;
      const granted = [`lit-litaction://${ipfsId}`, 'lit-litaction://*'].some((k) => att?.[k]?.['Threshold/Execution'] !== undefined);
      if (!granted) refuse(`the wallet's ReCap does not grant executing ${ipfsId}`);
      if (wallet !== undefined && wallet !== signer!) refuse('session signatures of several wallets');
      wallet = signer!;
    }
    if (!paying!.has(wallet!)) {
      const why = delegations.map((d) => delegationRefusal(d, wallet!, now, SiweMessage));
      if (!why.includes(undefined)) refuse(`wallet ${wallet} holds no Capacity Credits on this network${why.length ? ` (${why.join('; ')})` : ''}`);
    }
    return wallet!;
  }

  /**
   * Why a Capacity Credits delegation does not let `wallet` pay, or undefined when it does: signed by the address it
   * names, that address holds credits, not expired, a Lit blockhash as nonce, and a ReCap granting
   * `lit-ratelimitincrease://…` `Auth/Auth` whose `delegate_to` (when present) lists `wallet` (hex without 0x).
   */
  function delegationRefusal(d: { sig: string; signedMessage: string; address: string }, wallet: string, now: number, Siwe: typeof import('siwe').SiweMessage): string | undefined {
    let signer: string;
    try {
      signer = verifyMessage(d.signedMessage, d.sig);
    } catch {
      return 'delegation does not verify';
    }
    const siwe = new Siwe(d.signedMessage);
    if (signer !== getAddress(d.address) || getAddress(siwe.address) !== signer) return 'delegation is not signed by the address it names';
    if (!paying!.has(signer)) return `delegator ${signer} holds no Capacity Credits`;
    if (siwe.expirationTime === undefined || !(Date.parse(siwe.expirationTime) > now)) return 'delegation expired';
    if (!issuedBlockhashes.has(siwe.nonce)) return 'delegation nonce is not a recent Lit blockhash';
    const recap = siwe.resources?.find((r) => r.startsWith('urn:recap:'));
    const att = recap === undefined ? {} : ((JSON.parse(Buffer.from(recap.slice('urn:recap:'.length), 'base64url').toString('utf8')) as { att?: Record<string, Record<string, unknown>> }).att ?? {});
    const grants = Object.entries(att)
      .filter(([k]) => k.startsWith('lit-ratelimitincrease://'))
      .flatMap(([, v]) => (Array.isArray(v['Auth/Auth']) ? (v['Auth/Auth'] as { delegate_to?: string[] }[]) : []));
    if (grants.length === 0) return 'delegation grants no rate-limit increase';
    const me = wallet.slice(2).toLowerCase();
    if (!grants.some((g) => g.delegate_to === undefined || g.delegate_to.some((a) => a.toLowerCase().replace(/^0x/, '') === me))) return `delegation does not name ${wallet}`;
    return undefined;
  }

  let blockhashServer: Server | undefined;
  async function blockhashUrl(): Promise<string> {
    blockhashServer ??= createServer((_req, res) => {
      const blockhash = `0x${randomBytes(32).toString('hex')}`;
      issuedBlockhashes.add(blockhash);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ blockhash, timestamp: String(Math.floor(Date.now() / 1000)) }));
    });
    if (!blockhashServer.listening) await new Promise<void>((resolve) => blockhashServer!.listen(0, '127.0.0.1', resolve));
    const { port } = blockhashServer.address() as { port: number };
    return `http://127.0.0.1:${port}/get_most_recent_valid_block`;
  }

  const net: FakeLitNetwork = {
    nodeUrls,
    sessionRefusals: [],
    async sdkClient() {
      type Sdk = { LitNodeClientNodeJs: new (cfg: object) => Record<string, unknown> };
      const specifier = '@lit-protocol/lit-node-client-nodejs';
      const mod = (await import(specifier)) as Partial<Sdk> & { default?: Sdk };
      const LitNodeClientNodeJs = (mod.LitNodeClientNodeJs ?? mod.default?.LitNodeClientNodeJs)!;
      const sdk = new LitNodeClientNodeJs({ litNetwork: 'datil-dev', debug: false, alertWhenUnauthorized: false, checkNodeAttestation: false });
      const fake = net.client;
      // The handshake's outcome (the SDK's own connect reads Lit's staking contract on its chain: not here).
      Object.assign(sdk, {
        async connect() {
          Object.assign(sdk, { connectedNodes: new Set(nodeUrls), ready: true, _blockHashUrl: await blockhashUrl(), latestBlockhash: null, lastBlockHashRetrieved: null });
        },
        async disconnect() {
          Object.assign(sdk, { ready: false });
          const srv = blockhashServer;
          blockhashServer = undefined;
          if (srv?.listening) await new Promise((resolve) => srv.close(resolve));
        },
        encrypt: fake.encrypt,
        decrypt: fake.decrypt,
        executeJs: fake.executeJs,
      });
      return sdk as unknown as Awaited<ReturnType<FakeLitNetwork['sdkClient']>>;
    },
    encrypts: 0,
    decrypts: [],
    actionRuns: [],
    async pin(code) {
      const cid = await litActionCid(code);
      pinned.set(cid, code);
      return cid;
    },
    client: {
      async connect() {},
      async disconnect() {},
      async encrypt(p) {
        net.encrypts++;
        return seal('evmContractConditions' in p ? p.evmContractConditions : p.accessControlConditions, p.dataToEncrypt);
      },
      async decrypt({ evmContractConditions, ciphertext, dataToEncryptHash, sessionSigs }) {
        const address = addressOf(sessionSigs);
        const granted = canAccess(address);
        net.decrypts.push({ address, granted });
        if (!granted) throw new Error(`NodeAccessControlConditionsReturnedNotAuthorized: The access control conditions check failed for ${address}`);
        return { decryptedData: new Uint8Array(open(evmContractConditions, ciphertext, dataToEncryptHash)) };
      },
      async executeJs({ ipfsId, code, sessionSigs, jsParams }) {
        if ((ipfsId === undefined) === (code === undefined)) throw new Error('executeJs needs either code or ipfsId');
        const source = code ?? pinned.get(ipfsId!);
        if (source === undefined) throw new Error(`could not fetch Lit Action ${ipfsId} from IPFS`);
        const cid = await litActionCid(source);
        if (paying !== undefined) await verifySessionSigs(sessionSigs, cid);
        else addressOf(sessionSigs);
        return runAction(source, cid, jsParams);
      },
    },
  };
  return net;
}

/** A Capacity Credits delegation as Lit returns it (`createCapacityDelegationAuthSig`): a SIWE message and its signature. */
export interface CapacityDelegation {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
}

/**
 * `owner` delegates its Capacity Credits (token 1, 10 uses, for an hour) to `delegatees`, signed through the real
 * SDK's `createCapacityDelegationAuthSig` on `sdk`, a client of this network (connected here if it is not yet).
 */
export async function capacityDelegation(sdk: Awaited<ReturnType<FakeLitNetwork['sdkClient']>>, owner: { getAddress(): Promise<string>; signMessage(m: string): Promise<string> }, delegatees: string[]): Promise<CapacityDelegation> {
  const client = sdk as unknown as { createCapacityDelegationAuthSig(p: object): Promise<{ capacityDelegationAuthSig: CapacityDelegation }> };
  const expiration = new Date(Date.now() + 3_600_000).toISOString();
  return (await client.createCapacityDelegationAuthSig({ dAppOwnerWallet: owner, capacityTokenId: '1', delegateeAddresses: delegatees, uses: '10', expiration })).capacityDelegationAuthSig;
}

/** An HTTP JSON-RPC endpoint in front of an EIP-1193 provider (the in-process Hardhat chain), for `getRpcUrl`. */
export async function startRpcBridge(provider: { request(a: { method: string; params?: unknown[] }): Promise<unknown> }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown; method: string; params?: unknown[] };
      provider.request({ method: call.method, params: call.params ?? [] }).then(
        (result) => res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result })),
        (err: { code?: number; message?: string; data?: unknown }) => res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: err.code ?? -32000, message: err.message ?? String(err), data: err.data } })),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
