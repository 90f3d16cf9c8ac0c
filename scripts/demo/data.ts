/**
 * The demo's synthetic data: seeded, with a learnable signal and with personal data the anonymizer must remove.
 *
 * - `reviewsCsv`: a tabular CSV of customer reviews with personal-data columns (name, e-mail, phone, age, postcode)
 *   and free text that sometimes repeats them; label `sentiment`.
 * - `ticketsJsonl`: a text set of support tickets (JSON lines) with PII inside the text (e-mail addresses, phone
 *   numbers, card numbers that pass Luhn, IBANs); label `sentiment`.
 *
 * Both carry the columns a `text-classifier` recipe reads (`text`, `sentiment`), so one job trains on both.
 * `heldOut` rows come from the same distribution and never reach the trainer: the lab scores the model on them.
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same data on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Linus', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Torvalds', 'Perlman', 'Berners'];
const GOOD = ['great', 'excellent', 'love', 'wonderful', 'perfect', 'happy', 'fast', 'helpful'];
const BAD = ['awful', 'terrible', 'hate', 'broken', 'poor', 'sad', 'slow', 'refund'];
const FILLER = ['the', 'a', 'product', 'it', 'was', 'and', 'very', 'this', 'delivery', 'price', 'i', 'my', 'order', 'team'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function sentence(r: () => number, positive: boolean): string {
  const words = Array.from({ length: 4 + Math.floor(r() * 6) }, () => pick(r, FILLER));
  const cues = positive ? GOOD : BAD;
  for (let i = 0, n = 1 + Math.floor(r() * 2); i < n; i++) words.splice(Math.floor(r() * (words.length + 1)), 0, pick(r, cues));
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + '.';
}

/** A card number that passes Luhn (test BIN 4111 11). */
export function luhnCard(r: () => number): string {
  const digits = [4, 1, 1, 1, 1, 1, ...Array.from({ length: 9 }, () => Math.floor(r() * 10))];
  let sum = 0;
  for (let i = digits.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = digits[i] as number;
    if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('');
}

/** A German IBAN with a valid mod-97 check. */
export function germanIban(r: () => number): string {
  const bban = Array.from({ length: 18 }, () => Math.floor(r() * 10)).join('');
  const numeric = `${bban}131400`; // D=13 E=14, then "00"
  const check = 98n - (BigInt(numeric) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

/** A US number in E.164 (area codes 201-989, exchange 200-999: valid NANP). */
export function usPhone(r: () => number): string {
  const area = 201 + Math.floor(r() * 700);
  const exchange = 200 + Math.floor(r() * 800);
  return `+1${area}${exchange}${String(Math.floor(r() * 10_000)).padStart(4, '0')}`;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface DemoData {
  /** The file's bytes. */
  bytes: Buffer;
  rows: number;
  /** Values that must never reach the trainer (names, e-mails, phones, cards, IBANs seeded into the data). */
  canaries: string[];
}

/** Customer reviews (CSV) with personal-data columns; `n` rows from `seed`. */
export function reviewsCsv(n: number, seed: number): DemoData {
  const r = rng(seed);
  const lines = ['customer_name,email,phone,age,postcode,text,sentiment'];
  const canaries: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = r() < 0.6;
    const name = `${pick(r, FIRST)} ${pick(r, LAST)}`;
    const email = `${name.toLowerCase().replace(' ', '.')}${i}@example.org`;
    const phone = usPhone(r);
    let text = sentence(r, positive);
    if (r() < 0.3) text += ` Reach me at ${email}.`;
    if (r() < 0.2) text += ` Call ${phone}.`;
    canaries.push(email, phone);
    lines.push([name, email, phone, 18 + Math.floor(r() * 60), `0${2100 + Math.floor(r() * 40)}`, text, positive ? 'pos' : 'neg'].map(csvCell).join(','));
  }
  return { bytes: Buffer.from(lines.join('\n') + '\n'), rows: n, canaries };
}

/** Support tickets (JSON lines) with PII in the free text; `n` rows from `seed`. */
export function ticketsJsonl(n: number, seed: number): DemoData {
  const r = rng(seed);
  const out: string[] = [];
  const canaries: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = r() < 0.55;
    let text = sentence(r, positive);
    const roll = r();
    if (roll < 0.25) {
      const card = luhnCard(r);
      canaries.push(card);
      text += ` My card ${card} was charged.`;
    } else if (roll < 0.45) {
      const iban = germanIban(r);
      canaries.push(iban);
      text += ` Refund to ${iban} please.`;
    } else if (roll < 0.6) {
      const email = `ticket${i}@mail.example.com`;
      canaries.push(email);
      text += ` Contact: ${email}`;
    }
    out.push(JSON.stringify({ text, sentiment: positive ? 'pos' : 'neg' }));
  }
  return { bytes: Buffer.from(out.join('\n') + '\n'), rows: n, canaries };
}

/** Held-out rows (text, label) from the same distribution, for scoring the delivered model. */
export function heldOut(n: number, seed: number): { text: string; sentiment: 'pos' | 'neg' }[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const positive = r() < 0.6;
    return { text: sentence(r, positive), sentiment: positive ? 'pos' : 'neg' };
  });
}
