/**
 * NVIDIA reference integrity manifests (RIMs): TCG SWID tags listing, per measurement index, whether it is checked
 * (`active`) and the allowed SHA-384 values (`Hash0`, `Hash1`, …). NVIDIA publishes one per driver and one per
 * VBIOS version.
 *
 * Only the reference values are read. The RIM's XML signature (XMLDSig under NVIDIA's RIM signing chain) is NOT
 * verified here: the caller must obtain RIMs from a trusted source (NVIDIA's RIM service over TLS, or a copy pinned
 * by hash in configuration).
 */
import { ProvenaError } from '../errors.js';

/** One RIM: its version and, per measurement index (0-based, as in the RIM), the allowed values. */
export interface NvidiaRim {
  /** `colloquialVersion` of the RIM (driver "545.00", VBIOS "96.00.5E.00.01"), lowercase. */
  version: string;
  /** Index → allowed lowercase hex values; only active entries are listed. */
  golden: Map<number, string[]>;
}

function attrs(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(/([\w:.-]+)="([^"]*)"/g)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * Parses a RIM SWID tag. Throws ATTESTATION_RIM_INVALID when it has no version or an active entry without a hash.
 *
 * @example
 * ```ts
 * const rim = parseNvidiaRim(readFileSync('Driver_RIM.swidtag', 'utf8'));
 * rim.golden.get(7); // ['0e0ee161…']
 * ```
 */
export function parseNvidiaRim(xml: string): NvidiaRim {
  const meta = /<(?:\w+:)?Meta\s([^>]*colloquialVersion="[^"]*"[^>]*)>/.exec(xml);
  const version = meta === null ? undefined : attrs(meta[1]!).get('colloquialVersion');
  if (version === undefined) throw new ProvenaError('ATTESTATION_RIM_INVALID', 'The RIM has no colloquialVersion');
  const golden = new Map<number, string[]>();
  for (const m of xml.matchAll(/<(?:\w+:)?Resource\s([^>]*)\/?>/g)) {
    const a = attrs(m[1]!);
    if (a.get('type') !== 'Measurement') continue;
    const index = Number(a.get('index'));
    if (!Number.isInteger(index) || index < 0) throw new ProvenaError('ATTESTATION_RIM_INVALID', `RIM measurement index "${a.get('index')}" is not an integer`);
    if (a.get('active')?.toLowerCase() !== 'true') continue;
    const hashes = [...a.entries()].filter(([k]) => /(^|:)Hash\d+$/.test(k)).map(([, v]) => v.toLowerCase());
    if (hashes.length === 0 || hashes.some((h) => !/^[0-9a-f]+$/.test(h))) {
      throw new ProvenaError('ATTESTATION_RIM_INVALID', `RIM measurement ${index} is active without a hex hash`);
    }
    golden.set(index, hashes);
  }
  return { version: version.toLowerCase(), golden };
}
