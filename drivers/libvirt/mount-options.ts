/**
 * OCI mount options split into what mount(2) takes: per-mount flags (MS_*), propagation, and the
 * file-system data string. Pure. Unknown words are returned so the caller can refuse them by field.
 */

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  NOATIME: 1024,
  NODIRATIME: 2048,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

const FLAG_WORDS: Readonly<Record<string, { set?: number; clear?: number }>> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  noatime: { set: MS.NOATIME },
  nodiratime: { set: MS.NODIRATIME },
  relatime: { set: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
};

/** Words that only say "this is a bind mount" or ask for private propagation (libvirt's default). */
const BIND_WORDS = new Set(['bind', 'rbind', 'private', 'rprivate']);

export interface ParsedMountOptions {
  /** MS_* flags to apply to the mount point. */
  flags: number;
  readonly: boolean;
  /** key=value or bare words passed to the file system (size=64m, mode=1777, newinstance). */
  data: string[];
  /** Options that are neither flags, bind words nor data: shared/slave propagation and the like. */
  unsupported: string[];
}

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  const data: string[] = [];
  const unsupported: string[] = [];
  for (const word of options) {
    const flag = FLAG_WORDS[word];
    if (flag) {
      flags = (flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    } else if (BIND_WORDS.has(word)) {
      continue;
    } else if (PROPAGATION.has(word)) {
      unsupported.push(word);
    } else {
      data.push(word);
    }
  }
  return { flags, readonly: (flags & MS.RDONLY) !== 0, data, unsupported };
}

/** Normalise `mode=0620` and `mode=620` alike, for comparing data options. */
export function normaliseDataOption(word: string): string {
  const m = /^(mode|ptmxmode)=0*([0-7]+)$/.exec(word);
  return m ? `${m[1]}=${m[2]}` : word;
}

/** `size=64m` -> KiB (libvirt's <source usage>); undefined when absent or not a size. */
export function tmpfsSizeKiB(data: readonly string[]): number | undefined {
  const size = data.find((w) => w.startsWith('size='))?.slice(5);
  if (size === undefined) return undefined;
  const m = /^(\d+)([kmg%]?)$/i.exec(size);
  if (!m || m[2] === '%') return undefined;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  if (unit === 'k') return n;
  if (unit === 'm') return n * 1024;
  if (unit === 'g') return n * 1024 * 1024;
  return Math.ceil(n / 1024);
}
