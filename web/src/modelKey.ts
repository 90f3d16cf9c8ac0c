/**
 * The lab's model key in this browser. At submit the console generates a secp256k1 key and keeps its private half
 * in localStorage (per wallet address), offering it as a file to save; the job is sealed to its public half. At
 * download the console uses the kept key when it is the job's, else asks for the key file (the one saved here, or
 * the CLI's `--model-key` pair), so a cleared browser, another machine or a CLI-submitted job can still open it.
 * The private key never leaves the browser.
 */
import { SigningKey, Wallet } from 'ethers';

const slot = (address: string) => `provena.modelKey.${address.toLowerCase()}`;

/** The key kept for `address`, generating and keeping one if there is none. */
export function keptOrNewModelKey(address: string): { privateKey: string; publicKey: string } {
  let pk = localStorage.getItem(slot(address));
  if (!pk) {
    pk = Wallet.createRandom().privateKey;
    localStorage.setItem(slot(address), pk);
  }
  return { privateKey: pk, publicKey: SigningKey.computePublicKey(pk, true) };
}

/** Whether `privateKey` is the private half of `publicKey` (either point form). */
export function opensModelKey(privateKey: string, publicKey: string): boolean {
  try {
    return SigningKey.computePublicKey(privateKey, true) === SigningKey.computePublicKey(publicKey, true);
  } catch {
    return false;
  }
}

/** The key this browser kept for `address` if it is the private half of the job's `modelKey`. */
export function keptModelKeyFor(address: string, modelKey: string): string | undefined {
  const pk = localStorage.getItem(slot(address));
  return pk && opensModelKey(pk, modelKey) ? pk : undefined;
}

/** A private key read from a key file: 32 bytes of hex, with or without 0x, surrounding whitespace ignored. */
export function parseKeyFile(text: string): string | undefined {
  const t = text.trim();
  return /^(0x)?[0-9a-fA-F]{64}$/.test(t) ? (t.startsWith('0x') ? t : `0x${t}`) : undefined;
}
