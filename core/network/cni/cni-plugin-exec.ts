/**
 * Running one CNI plugin binary: found by its `type` in the plugin folders, started with an argv
 * array (never a shell), the CNI_* parameters in its environment and its configuration on stdin.
 * Stdout is the result (or the error document); stderr is the plugin's log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../util/run-command';
import { CniPluginError, parseCniErrorDocument } from './cni-plugin-error';
import type { CniCommand, RuntimeConf } from './cni-types';

/** Where Debian's containernetworking-plugins and the upstream tarball put the plugins. */
export const DEFAULT_CNI_PATH: readonly string[] = ['/usr/lib/cni', '/opt/cni/bin'];

/** How long one plugin call may take before it is killed. */
export const PLUGIN_TIMEOUT_MS = 60_000;

export interface PluginCall {
  command: CniCommand;
  /** The plugin's `type`. */
  plugin: string;
  /** The configuration document sent on stdin. */
  config: object;
  /** Absent for VERSION. */
  runtime?: RuntimeConf;
  cniPath: readonly string[];
  timeoutMs?: number;
}

export interface PluginOutput {
  stdout: string;
  stderr: string;
}

/** The plugin binary for `type`, or undefined when no folder holds an executable of that name. */
export function findPlugin(type: string, cniPath: readonly string[]): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(type)) return undefined;
  for (const dir of cniPath) {
    const file = path.join(dir, type);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The environment of one call: the caller's minus any CNI_* variable, plus this call's CNI_* set. */
export function pluginEnvironment(call: Pick<PluginCall, 'command' | 'runtime' | 'cniPath'>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('CNI_')) env[k] = v;
  // Plugins find iptables, ip6tables and friends through PATH.
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
  env.PATH = dirs.join(':');
  env.CNI_COMMAND = call.command;
  env.CNI_PATH = call.cniPath.join(':');
  const rt = call.runtime;
  if (rt) {
    env.CNI_CONTAINERID = rt.containerId;
    env.CNI_NETNS = rt.netns;
    env.CNI_IFNAME = rt.ifName;
    env.CNI_ARGS = (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';');
  }
  return env;
}

/** Run one plugin; a non-zero exit becomes a CniPluginError carrying the plugin's error document. */
export async function execPlugin(call: PluginCall): Promise<PluginOutput> {
  const containerId = call.runtime?.containerId ?? '-';
  const binary = findPlugin(call.plugin, call.cniPath);
  if (!binary) {
    throw new CniPluginError({
      plugin: call.plugin,
      command: call.command,
      containerId,
      exitCode: null,
      stderr: '',
      fallbackMessage: `no executable plugin "${call.plugin}" in ${call.cniPath.join(':')} (install containernetworking-plugins)`,
    });
  }
  const result = await runCommand([binary], {
    env: pluginEnvironment(call),
    input: JSON.stringify(call.config),
    allowFailure: true,
    timeoutMs: call.timeoutMs ?? PLUGIN_TIMEOUT_MS,
  }).catch((err: Error) => {
    throw new CniPluginError({ plugin: call.plugin, command: call.command, containerId, exitCode: null, stderr: err.message });
  });
  if (result.exitCode !== 0) {
    const document = parseCniErrorDocument(result.stdout);
    throw new CniPluginError({
      plugin: call.plugin,
      command: call.command,
      containerId,
      ...(document ? { document } : {}),
      exitCode: result.exitCode,
      stderr: result.stderr,
    });
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

/** The plugins berth's bridge networks need. */
export const REQUIRED_CNI_PLUGINS: readonly string[] = ['loopback', 'bridge', 'host-local', 'portmap', 'firewall'];

/**
 * For a driver's fingerprint: which of `plugins` are missing from the plugin path (empty when CNI
 * networking can work), with the install hint.
 */
export function missingCniPlugins(cniPath: readonly string[] = DEFAULT_CNI_PATH, plugins: readonly string[] = REQUIRED_CNI_PLUGINS): { missing: string[]; installHint: string } {
  return { missing: plugins.filter((p) => !findPlugin(p, cniPath)), installHint: 'apt-get install containernetworking-plugins iptables iproute2' };
}
