/*
 * Provena key release, a Lit Action (Datil). The data key is encrypted by Lit under one condition,
 * `:currentActionIpfsId` = this file's IPFS CID, so only this exact code can have it decrypted. The action checks,
 * on chain, the rule the API's local authorizer checks (shared/domain/keyReleasePolicy.ts with
 * shared/adapters/chain/EvmConditionEvaluator.ts), and only then asks Lit to decrypt; it answers with the key
 * sealed to the requester's public key (ECIES, shared/crypto/ecies.ts), never the key itself.
 *
 * Runs in Lit's action runtime: globals `Lit`, `ethers` (v5) and `crypto` (WebCrypto); no imports. Every input
 * (`jsParams.release`) is the caller's and is trusted only once bound:
 * - the Provena conditions: their SHA-256 (canonical JSON) is inside the Lit ciphertext, compared after decryption
 *   and before anything leaves the action;
 * - the chain: the RPC is Lit's own for the conditions' chain (`Lit.Actions.getRpcUrl`), never a caller's URL;
 * - the requester: the address checked on chain is the address of the public key the key is sealed to, and the
 *   EIP-712 key request must be signed by it within +-300 s. The single-use nonce is the API gate's (an action
 *   keeps no state); a replayed request yields a box only the requester's private key opens.
 *
 * Answer (`Lit.Actions.setResponse`): JSON `{ok: true, sealed}` or `{ok: false, code, reason}` with a Provena error
 * code. Changing one byte of this file changes its CID: keys wrapped for the old CID stay bound to the old code.
 */
(async () => {
  const MAX_SKEW_SECONDS = 300;
  const SECP256K1_N_DIV_2 = BigInt('0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0');
  const SEAL_SCHEME = 'ecies-secp256k1-hkdf-sha256-aes256gcm-v1';
  // shared/eip712.ts: keyRequestDomain and KEY_REQUEST_TYPES (a test signs with those and runs this file).
  const KEY_REQUEST_TYPES = {
    KeyRequest: [
      { name: 'datasetId', type: 'string' },
      { name: 'version', type: 'uint256' },
      { name: 'grantType', type: 'string' },
      { name: 'grantId', type: 'uint256' },
      { name: 'licenseId', type: 'uint256' },
      { name: 'requesterPublicKey', type: 'bytes' },
      { name: 'nonce', type: 'bytes32' },
      { name: 'issuedAt', type: 'uint64' },
    ],
  };
  const u = ethers.utils;
  const enc = new TextEncoder();

  class Refusal extends Error {
    constructor(code, reason) {
      super(reason);
      this.code = code;
    }
  }
  const refuse = (code, reason) => {
    throw new Refusal(code, reason);
  };

  const canonical = (v) => {
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
    }
    return JSON.stringify(v);
  };
  const hex = (bytes) => u.hexlify(bytes);
  const sha256Hex = async (text) => hex(new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text)))).slice(2);
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const isUint = (s) => typeof s === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(s);

  // ---- the requester and its signed request --------------------------------------------------------------
  function checkRequester(r) {
    if (!r || typeof r.datasetId !== 'string' || !Number.isSafeInteger(r.version) || r.version < 1) refuse('VALIDATION_FAILED', 'malformed release request');
    const g = r.grant;
    const grantOk = g && ((g.type === 'license' && isUint(g.licenseId)) || (g.type === 'job' && isUint(g.jobId) && (g.licenseId === undefined || isUint(g.licenseId))));
    if (!grantOk) refuse('VALIDATION_FAILED', 'malformed grant');
    let address;
    let fromKey;
    try {
      address = u.getAddress(r.requester.address);
      fromKey = u.computeAddress(r.requester.publicKey);
    } catch {
      refuse('KEY_REQUEST_SIGNATURE_INVALID', 'requester address or public key is malformed');
    }
    if (fromKey !== address) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'public key does not belong to the requester address');
    return address;
  }

  function checkSignature(r, address, chainId) {
    const sig = r.proof && r.proof.signature;
    if (typeof sig !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(sig)) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'signature is not 65 bytes');
    const v = Number.parseInt(sig.slice(130, 132), 16);
    if (BigInt(`0x${sig.slice(66, 130)}`) > SECP256K1_N_DIV_2 || ![0, 1, 27, 28].includes(v)) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'signature is malleable or malformed');
    if (typeof r.proof.nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(r.proof.nonce)) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'nonce is not 32 bytes');
    const g = r.grant;
    const value = {
      datasetId: r.datasetId,
      version: String(r.version),
      grantType: g.type,
      grantId: g.type === 'license' ? g.licenseId : g.jobId,
      licenseId: g.licenseId === undefined ? '0' : g.licenseId,
      requesterPublicKey: r.requester.publicKey,
      nonce: r.proof.nonce,
      issuedAt: String(r.proof.issuedAt),
    };
    let signer;
    try {
      signer = u.verifyTypedData({ name: 'Provena KeyGate', version: '2', chainId }, KEY_REQUEST_TYPES, value, sig);
    } catch {
      refuse('KEY_REQUEST_SIGNATURE_INVALID', 'key request signature does not verify');
    }
    if (signer !== address) refuse('KEY_REQUEST_SIGNATURE_INVALID', 'key request is not signed by the requester');
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isSafeInteger(r.proof.issuedAt) || Math.abs(now - r.proof.issuedAt) > MAX_SKEW_SECONDS) {
      refuse('KEY_REQUEST_EXPIRED', `key request time is outside +-${MAX_SKEW_SECONDS}s`);
    }
  }

  // ---- the conditions, on chain (EvmConditionEvaluator's rule) ---------------------------------------------
  const providers = new Map();
  async function providerFor(chain) {
    if (!providers.has(chain)) {
      let url;
      try {
        url = await Lit.Actions.getRpcUrl({ chain });
      } catch {
        url = undefined;
      }
      if (typeof url !== 'string' || url === '') refuse('KEY_GATE_MISCONFIGURED', `Lit has no RPC for chain '${chain}'`);
      providers.set(chain, new ethers.providers.JsonRpcProvider(url));
    }
    return providers.get(chain);
  }

  const isInt = (t) => /^u?int\d*$/.test(t);
  function normalize(type, v) {
    if (type === 'bool') return String(v);
    if (type === 'address') return u.getAddress(String(v));
    if (isInt(type)) return BigInt(v.toString()).toString();
    return String(v).toLowerCase();
  }
  function compare(type, actual, comparator, expected) {
    if (comparator === 'contains') {
      if (!type.endsWith('[]') || !Array.isArray(actual)) return false;
      const el = type.slice(0, -2);
      const want = normalize(el, expected);
      return actual.some((a) => normalize(el, a) === want);
    }
    if (isInt(type)) {
      const a = BigInt(actual.toString());
      const e = BigInt(expected);
      return { '=': a === e, '!=': a !== e, '>': a > e, '>=': a >= e, '<': a < e, '<=': a <= e }[comparator] === true;
    }
    const a = normalize(type, actual);
    const e = normalize(type, expected);
    if (comparator === '=') return a === e;
    if (comparator === '!=') return a !== e;
    return false;
  }

  async function one(c, ctx) {
    const refusalCode = c.refusalCode || 'KEY_ACCESS_DENIED';
    const sub = (p) => (p === ':userAddress' ? ctx.userAddress : p === ':licenseId' ? ctx.licenseId : p === ':jobId' ? ctx.jobId : p);
    const params = c.functionParams.map(sub);
    const expected = sub(c.returnValueTest.value);
    if (params.some((p) => p === undefined) || expected === undefined) return { allowed: false, c, refusalCode, reason: 'missing-context' };
    const iface = new u.Interface([c.functionAbi]);
    const fn = iface.getFunction(c.functionName);
    let data;
    try {
      data = iface.encodeFunctionData(fn, params);
    } catch {
      return { allowed: false, c, refusalCode, reason: 'missing-context' };
    }
    let raw;
    try {
      raw = await (await providerFor(c.chain)).call({ to: c.contractAddress, data });
    } catch (err) {
      if (err instanceof Refusal) throw err;
      if (err && err.code === 'CALL_EXCEPTION') return { allowed: false, c, refusalCode, reason: 'reverted' };
      refuse('CHAIN_UNAVAILABLE', `chain '${c.chain}' did not answer ${c.functionName}`);
    }
    let result;
    try {
      result = iface.decodeFunctionResult(fn, raw);
    } catch {
      return { allowed: false, c, refusalCode, reason: 'reverted' };
    }
    const key = c.returnValueTest.key;
    const idx = key === '' ? 0 : fn.outputs.findIndex((o) => o.name === key);
    if (idx < 0) refuse('KEY_GATE_MISCONFIGURED', `returnValueTest.key '${key}' is not an output of ${c.functionName}`);
    const actual = Array.isArray(result[idx]) ? Array.from(result[idx]) : result[idx];
    return compare(fn.outputs[idx].type, actual, c.returnValueTest.comparator, expected) ? { allowed: true } : { allowed: false, c, refusalCode, reason: 'false-result' };
  }

  async function list(items, ctx) {
    const opItem = items.find((x) => !Array.isArray(x) && x && 'operator' in x);
    const op = opItem ? opItem.operator : 'and';
    let last = { allowed: true };
    let telling;
    for (const item of items) {
      if (!Array.isArray(item) && 'operator' in item) continue;
      last = Array.isArray(item) ? await list(item, ctx) : await one(item, ctx);
      if (op === 'and' && !last.allowed) return last;
      if (op === 'or' && last.allowed) return last;
      if (op === 'or' && !last.allowed && last.reason !== 'missing-context') telling = telling || last;
    }
    return telling || last;
  }

  function chainsOf(items, out = new Set()) {
    for (const item of items) {
      if (Array.isArray(item)) chainsOf(item, out);
      else if (item && typeof item.chain === 'string') out.add(item.chain);
    }
    return out;
  }

  // ---- sealing to the requester (shared/crypto/ecies.ts, secp256k1) -----------------------------------------
  async function seal(recipientPublicKey, plaintext, context) {
    const recipientPub = u.arrayify(u.computePublicKey(recipientPublicKey, true));
    const eph = new u.SigningKey(u.randomBytes(32));
    const ephemeralPub = u.arrayify(u.computePublicKey(eph.publicKey, true));
    let secret = u.arrayify(eph.computeSharedSecret(recipientPublicKey));
    if (secret.length === 65) secret = secret.slice(1, 33); // ethers 6 returns the point; ethers 5 its x-coordinate
    const info = concat(enc.encode(SEAL_SCHEME), new Uint8Array([0]), enc.encode(context));
    const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: concat(ephemeralPub, recipientPub), info }, ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: enc.encode(context), tagLength: 128 }, key, plaintext));
    return { scheme: SEAL_SCHEME, ephemeralPublicKey: hex(ephemeralPub), nonce: hex(nonce), ciphertext: hex(ct), context };
  }

  // shared/domain/keyReleasePolicy.ts releaseContext (the client checks it when it opens the box).
  function releaseContext(r, requester) {
    const g = r.grant;
    const grant = g.type === 'license' ? { type: 'license', licenseId: g.licenseId } : { type: 'job', jobId: g.jobId, ...(g.licenseId === undefined ? {} : { licenseId: g.licenseId }) };
    return JSON.stringify({ v: 1, datasetId: r.datasetId, version: r.version, grant, requester, nonce: r.proof.nonce.toLowerCase() });
  }

  // ---- the release ----------------------------------------------------------------------------------------
  async function releaseKey(p) {
    const r = p.request;
    const address = checkRequester(r);
    if (!Array.isArray(p.conditions) || p.conditions.length === 0) refuse('MANIFEST_MISMATCH', 'no access conditions');
    const chains = [...chainsOf(p.conditions)];
    if (chains.length !== 1) refuse('KEY_GATE_MISCONFIGURED', 'the conditions must name exactly one chain');
    let chainId;
    try {
      chainId = (await (await providerFor(chains[0])).getNetwork()).chainId;
    } catch (err) {
      if (err instanceof Refusal) throw err;
      refuse('CHAIN_UNAVAILABLE', `chain '${chains[0]}' did not answer eth_chainId`);
    }
    checkSignature(r, address, chainId);

    const g = r.grant;
    const decision = await list(p.conditions, { userAddress: address, ...(g.licenseId === undefined ? {} : { licenseId: g.licenseId }), ...(g.type === 'job' ? { jobId: g.jobId } : {}) });
    if (!decision.allowed) refuse(decision.refusalCode, `access condition ${decision.c.functionName} failed (${decision.reason})`);

    // Only now: ask Lit for the key. Lit itself refuses unless this code is the action the key is bound to.
    let plaintext;
    try {
      plaintext = await Lit.Actions.decryptAndCombine({
        accessControlConditions: p.accessControlConditions,
        ciphertext: p.ciphertext,
        dataToEncryptHash: p.dataToEncryptHash,
        authSig: null,
        chain: 'ethereum',
      });
    } catch (err) {
      refuse('KEY_UNWRAP_FAILED', `Lit did not decrypt the key: ${String(err && err.message ? err.message : err).slice(0, 200)}`);
    }
    let wrapped;
    try {
      wrapped = JSON.parse(plaintext);
    } catch {
      refuse('KEY_UNWRAP_FAILED', 'the decrypted payload is not a Provena key payload');
    }
    const conditionsHash = await sha256Hex(canonical(p.conditions));
    if (wrapped.v !== 1 || wrapped.datasetId !== r.datasetId || wrapped.version !== r.version || wrapped.conditionsHash !== conditionsHash) {
      refuse('MANIFEST_MISMATCH', 'the key was wrapped for another dataset version or other conditions');
    }
    const key = u.arrayify(`0x${wrapped.key}`);
    if (key.length !== 32) refuse('KEY_UNWRAP_FAILED', 'the wrapped key is not 32 bytes');
    const context = releaseContext(r, address);
    const sealed = await Lit.Actions.runOnce({ waitForResponse: true, name: 'provena-seal' }, async () => JSON.stringify(await seal(r.requester.publicKey, key, context)));
    key.fill(0);
    return { ok: true, requester: address, sealed: JSON.parse(sealed) };
  }

  let answer;
  try {
    // Lit passes jsParams both as the `jsParams` object and as globals of their own names.
    const params = typeof jsParams === 'object' && jsParams !== null ? jsParams.release : globalThis.release;
    answer = await releaseKey(params);
  } catch (err) {
    answer = err instanceof Refusal ? { ok: false, code: err.code, reason: err.message } : { ok: false, code: 'LIT_ACTION_FAILED', reason: String(err && err.message ? err.message : err).slice(0, 300) };
  }
  Lit.Actions.setResponse({ response: JSON.stringify(answer) });
})();
