/**
 * The wire format berth-native reads on fd 3: records `<key> <length>\n<bytes>\n`; a record with
 * several fields separates them with NUL bytes. Binary-safe (the seccomp program goes as is).
 */
export class PlanWriter {
  private readonly parts: Buffer[] = [];

  add(key: string, ...fields: (string | number | Buffer)[]): this {
    const values = fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(String(f))));
    for (const v of values) {
      if (fields.length > 1 && v.includes(0)) throw new Error(`plan: ${key} field contains a NUL byte`);
    }
    const value = Buffer.concat(values.flatMap((v, i) => (i === 0 ? [v] : [Buffer.from([0]), v])));
    this.parts.push(Buffer.from(`${key} ${value.length}\n`), value, Buffer.from('\n'));
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Parse the format back (tests and debugging). */
export function decodePlan(buf: Buffer): { key: string; fields: string[]; raw: Buffer }[] {
  const out: { key: string; fields: string[]; raw: Buffer }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const sp = buf.indexOf(0x20, pos);
    const nl = buf.indexOf(0x0a, sp);
    const key = buf.subarray(pos, sp).toString();
    const len = Number(buf.subarray(sp + 1, nl).toString());
    const raw = buf.subarray(nl + 1, nl + 1 + len);
    out.push({ key, raw, fields: raw.toString('latin1').split('\0') });
    pos = nl + 1 + len + 1;
  }
  return out;
}
