/**
 * OCI mount options to mount(2) flags, propagation flags and the data string. Pure. An option
 * berth cannot honour (idmap, tmpcopyup, a filesystem option on a bind mount...) is refused by
 * name rather than dropped.
 */
import { SpecInvalidError } from '../../core/errors/spec-invalid-error';

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

/** option -> [flags to set, flags to clear] */
const FLAG_OPTIONS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0], mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0], diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME],
  nosymfollow: [MS.NOSYMFOLLOW, 0], symfollow: [0, MS.NOSYMFOLLOW],
  bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0],
  defaults: [0, 0],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, shared: MS.SHARED, slave: MS.SLAVE, unbindable: MS.UNBINDABLE,
};

/** `rslave` -> MS_SLAVE|MS_REC; undefined for anything else. */
export function propagationFlags(option: string): number | undefined {
  const rec = option.startsWith('r') && option.slice(1) in PROPAGATION;
  const base = PROPAGATION[rec ? option.slice(1) : option];
  return base === undefined ? undefined : base | (rec ? MS.REC : 0);
}

const REFUSED = new Set(['idmap', 'ridmap', 'tmpcopyup', 'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnoatime', 'ratime', 'rnodiratime', 'rdiratime', 'rrelatime', 'rnorelatime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow']);

export interface MountFlags {
  flags: number;
  propagation: number;
  data: string;
}

export function parseMountOptions(options: readonly string[], bind: boolean, field: string): MountFlags {
  let flags = bind ? MS.BIND : 0;
  let propagation = 0;
  const data: string[] = [];
  options.forEach((option, i) => {
    const known = FLAG_OPTIONS[option];
    if (known) {
      flags = (flags | known[0]) & ~known[1];
      return;
    }
    const prop = propagationFlags(option);
    if (prop !== undefined) {
      propagation = prop;
      return;
    }
    if (REFUSED.has(option)) {
      throw new SpecInvalidError([{ path: `${field}.options[${i}]`, message: `mount option "${option}" is not supported by driver "native"` }]);
    }
    if (bind) {
      throw new SpecInvalidError([{ path: `${field}.options[${i}]`, message: `"${option}" is a filesystem option; a bind mount takes none (driver "native")` }]);
    }
    if (option.includes(',')) throw new SpecInvalidError([{ path: `${field}.options[${i}]`, message: 'a mount option cannot contain ","' }]);
    data.push(option);
  });
  return { flags, propagation, data: data.join(',') };
}
