/**
 * Render typed options into an LXC config file. Every key the shim supports is written here, in a
 * fixed order; values go through configValue/fstabField/hookCommand so that no option can inject a
 * second key or break a line.
 */
import type { CgroupVersion, LxcConfigOptions, LxcMountEntry } from './config-options';
import { configValue, fstabField, hookCommand, mountOption } from './config-escape';
import { cgroupAssignments, cgroupKeyPrefix } from './cgroup-keys';
import { LxcConfigError } from './lxc-error';

export interface RenderContext {
  cgroupVersion: CgroupVersion;
}

/** Capability name as LXC writes it: `CAP_NET_ADMIN` -> `net_admin`. */
export function lxcCapabilityName(name: string): string {
  return name.replace(/^CAP_/i, '').toLowerCase();
}

function mountEntryLine(m: LxcMountEntry, key: string): string {
  if (!m.target.startsWith('/')) throw new LxcConfigError(key, `mount target "${m.target}" must be absolute`);
  // LXC resolves a relative target against the container's rootfs; "/" itself becomes ".".
  const target = m.target.replace(/^\/+/, '') || '.';
  const options = m.options.length > 0 ? m.options.map((o) => mountOption(key, o)).join(',') : 'defaults';
  return `${fstabField(key, m.source)} ${fstabField(key, target)} ${fstabField(key, m.type)} ${options} 0 0`;
}

function limitValue(n: number): string {
  return n < 0 || !Number.isFinite(n) || n >= 2 ** 64 - 1 ? 'unlimited' : String(n);
}

export function renderConfig(o: LxcConfigOptions, ctx: RenderContext): string {
  const lines: string[] = ['# Rendered by lxc-ts-shim'];
  const put = (key: string, value: string) => lines.push(`${key} = ${configValue(key, value)}`);
  const putRaw = (key: string, value: string) => lines.push(`${key} = ${value}`);

  if (o.utsName !== undefined) put('lxc.uts.name', o.utsName);
  put('lxc.rootfs.path', `dir:${o.rootfs.path}`);
  if (o.rootfs.mount) put('lxc.rootfs.mount', o.rootfs.mount);
  if (o.rootfs.readonly) put('lxc.rootfs.options', 'ro');
  if (o.cloneNamespaces) put('lxc.namespace.clone', o.cloneNamespaces.join(' '));
  for (const [ns, target] of Object.entries(o.shareNamespaces ?? {})) put(`lxc.namespace.share.${ns}`, target!);
  if (o.network) put('lxc.net.0.type', o.network);
  for (const m of o.idMaps ?? []) put('lxc.idmap', `${m.kind} ${m.containerId} ${m.hostId} ${m.size}`);
  if (o.mountAuto && o.mountAuto.length > 0) put('lxc.mount.auto', o.mountAuto.join(' '));
  put('lxc.autodev', o.autodev ? '1' : '0');
  (o.mounts ?? []).forEach((m, i) => putRaw('lxc.mount.entry', mountEntryLine(m, `mounts[${i}]`)));

  const init = o.init ?? {};
  if (init.uid !== undefined) put('lxc.init.uid', String(init.uid));
  if (init.gid !== undefined) put('lxc.init.gid', String(init.gid));
  if (init.groups && init.groups.length > 0) put('lxc.init.groups', init.groups.join(','));
  if (init.cwd !== undefined) put('lxc.init.cwd', init.cwd);
  if (init.cmd && init.cmd.length > 0) {
    if (init.cmd.some((a) => /\s/.test(a) || a === '')) throw new LxcConfigError('lxc.init.cmd', 'LXC splits lxc.init.cmd on blanks: an argument with blanks cannot be written');
    put('lxc.init.cmd', init.cmd.join(' '));
  }
  for (const e of o.environment ?? []) {
    if (!/^[^=\s]+=/.test(e)) throw new LxcConfigError('lxc.environment', `"${e}" is not NAME=VALUE`);
    put('lxc.environment', e);
  }

  const caps = o.capabilities;
  if (caps && 'keep' in caps) put('lxc.cap.keep', caps.keep.length > 0 ? caps.keep.map(lxcCapabilityName).join(' ') : 'none');
  if (caps && 'drop' in caps && caps.drop.length > 0) put('lxc.cap.drop', caps.drop.map(lxcCapabilityName).join(' '));
  for (const [name, l] of Object.entries(o.prlimits ?? {})) {
    if (!/^[a-z]+$/.test(name)) throw new LxcConfigError(`lxc.prlimit.${name}`, 'not an rlimit name');
    put(`lxc.prlimit.${name}`, `${limitValue(l.soft)}:${limitValue(l.hard)}`);
  }
  for (const [name, value] of Object.entries(o.sysctls ?? {})) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new LxcConfigError(`lxc.sysctl.${name}`, 'not a sysctl name');
    put(`lxc.sysctl.${name}`, value);
  }
  if (o.noNewPrivs !== undefined) put('lxc.no_new_privs', o.noNewPrivs ? '1' : '0');
  if (o.seccompProfile) put('lxc.seccomp.profile', o.seccompProfile);
  put('lxc.apparmor.profile', o.apparmorProfile ?? 'unconfined');
  put('lxc.console.path', o.consolePath ?? 'none');

  if (o.cgroup) {
    const prefix = cgroupKeyPrefix(ctx.cgroupVersion);
    for (const a of cgroupAssignments(o.cgroup, ctx.cgroupVersion)) put(`${prefix}${a.file}`, a.value);
  }
  for (const argv of o.hooks?.startHost ? [o.hooks.startHost] : []) putRaw('lxc.hook.start-host', hookCommand('lxc.hook.start-host', argv));
  for (const argv of o.hooks?.postStop ? [o.hooks.postStop] : []) putRaw('lxc.hook.post-stop', hookCommand('lxc.hook.post-stop', argv));
  if (o.log?.level) put('lxc.log.level', o.log.level);
  if (o.log?.file) put('lxc.log.file', o.log.file);
  return `${lines.join('\n')}\n`;
}
