import { BerthError } from '../errors/berth-error';

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker-style sizes: `512`, `64k`, `100m`, `1.5g` (binary units, optional trailing `b`). */
export function parseByteSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new BerthError('INVALID_ARGUMENT', `${flag}: not a size: "${text}" (use e.g. 512k, 100m, 1g)`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}
