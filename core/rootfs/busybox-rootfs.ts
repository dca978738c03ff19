import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BerthError } from '../errors/berth-error';
import { withFileLock } from '../state/file-lock';

export const HOST_BUSYBOX = '/bin/busybox';
export const DEFAULT_ROOTFS = '/var/lib/berth/rootfs/busybox';

const DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var/tmp', 'run', 'mnt'];

/**
 * Build a minimal rootfs from the host's static busybox: the binary, a link per applet at the path
 * busybox itself names, /usr, /etc/os-release, passwd and group (enough for nspawn and LXC too).
 * Built in a temporary folder and renamed into place, so a half-built rootfs is never seen.
 */
export function buildBusyboxRootfs(target: string, busybox = HOST_BUSYBOX): void {
  if (!isStaticBusybox(busybox)) {
    throw new BerthError('INVALID_ARGUMENT', `${busybox}: no static busybox on this host (apt-get install busybox-static)`);
  }
  if (fs.existsSync(target)) throw new BerthError('INVALID_ARGUMENT', `${target} already exists`);
  const abs = path.resolve(target);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = `${abs}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    for (const d of DIRS) fs.mkdirSync(path.join(tmp, d), { recursive: true });
    fs.chmodSync(path.join(tmp, 'tmp'), 0o1777);
    fs.copyFileSync(busybox, path.join(tmp, 'bin/busybox'));
    fs.chmodSync(path.join(tmp, 'bin/busybox'), 0o755);
    for (const applet of appletPaths(busybox)) {
      const link = path.join(tmp, applet);
      if (applet === '/bin/busybox' || fs.existsSync(link)) continue;
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync('/bin/busybox', link);
    }
    writeEtc(tmp);
    makeDeviceNodes(path.join(tmp, 'dev'));
    fs.renameSync(tmp, abs);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The default busybox rootfs, built on first use (concurrent first uses build it once). */
export async function ensureDefaultRootfs(target = DEFAULT_ROOTFS): Promise<string> {
  if (fs.existsSync(path.join(target, 'bin/busybox'))) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await withFileLock(`${target}.lock`, async () => {
    if (!fs.existsSync(path.join(target, 'bin/busybox'))) buildBusyboxRootfs(target);
  }, 60000);
  return target;
}

/**
 * The basic character devices, for backends that do not mount their own /dev (a plain chroot);
 * runtimes that mount a tmpfs on /dev hide them. Needs root (mknod); skipped otherwise.
 */
const DEVICES: readonly [string, number, number][] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];

function makeDeviceNodes(dev: string): void {
  if (process.getuid?.() !== 0) return;
  for (const [name, major, minor] of DEVICES) {
    const r = spawnSync('mknod', ['-m', '666', path.join(dev, name), 'c', String(major), String(minor)]);
    if (r.status !== 0) throw new BerthError('INTERNAL', `mknod ${name} failed: ${r.stderr}`);
  }
}

function isStaticBusybox(busybox: string): boolean {
  if (!fs.existsSync(busybox)) return false;
  const head = fs.readFileSync(busybox).subarray(0, 4096).toString('latin1');
  // A dynamic ELF names its interpreter (ld-linux); the static build has none.
  return !head.includes('ld-linux');
}

function appletPaths(busybox: string): string[] {
  const r = spawnSync(busybox, ['--list-full'], { encoding: 'utf8' });
  if (r.status !== 0) throw new BerthError('INVALID_ARGUMENT', `${busybox} --list-full failed`);
  return r.stdout.split('\n').filter(Boolean).map((p) => `/${p.replace(/^\/+/, '')}`);
}

function writeEtc(root: string): void {
  const etc = (name: string, text: string) => fs.writeFileSync(path.join(root, 'etc', name), text);
  etc('passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  etc('group', 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  etc('os-release', 'NAME="berth busybox"\nID=busybox\nPRETTY_NAME="berth busybox rootfs"\n');
  etc('hostname', 'berth\n');
  etc('hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  etc('resolv.conf', '');
}
