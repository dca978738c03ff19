import type { Spec } from '../../core';

/**
 * The argv that runs the spec's process under coreutils `chroot`: pure translation.
 * `chroot` always changes to `/`; for another cwd the rootfs's own `/bin/sh` changes directory
 * before exec'ing the command (so a cwd other than `/` needs a shell in the rootfs).
 */
export function chrootArguments(spec: Spec, chrootBinary = 'chroot'): string[] {
  const proc = spec.process!;
  const { uid, gid, additionalGids } = proc.user;
  const groups = additionalGids && additionalGids.length > 0 ? additionalGids : [gid];
  const argv = [chrootBinary, `--userspec=${uid}:${gid}`, `--groups=${groups.join(',')}`, spec.root!.path];
  const args = proc.args ?? [];
  if (proc.cwd && proc.cwd !== '/') {
    return [...argv, '/bin/sh', '-c', 'cd -- "$0" || exit 126; exec "$@"', proc.cwd, ...args];
  }
  return [...argv, ...args];
}
