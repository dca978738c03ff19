/**
 * What /proc/self/mountinfo says about a path: the mount that holds it (the longest mount point that
 * is the path or one of its parents; mount points with spaces are octal-escaped there, as \040).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface MountOf {
  /** The mount point holding the path. */
  point: string;
  /** Its file system type (`tmpfs`, `ext4`...). */
  type: string;
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount holding `dir` (which need not exist: its path decides), from mountinfo text (default: this process's). */
export function mountOf(dir: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): MountOf {
  const target = path.resolve(dir);
  let best: MountOf = { point: '', type: '?' };
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0) continue;
    const point = unescape(fields[4]!);
    const type = fields[dash + 1] ?? '?';
    const under = target === point || target.startsWith(point.endsWith('/') ? point : `${point}/`);
    // Equal length: the later line is the mount on top.
    if (under && point.length >= best.point.length) best = { point, type };
  }
  return best;
}

/** Whether `dir` is itself a mount point. */
export function isMountPoint(dir: string, mountinfo?: string): boolean {
  return mountOf(dir, mountinfo).point === path.resolve(dir);
}
