/**
 * berth's own CNI executor (CNI spec 1.0.0, also 0.3.x and 0.4.0), doing what libcni does for a
 * network configuration list:
 * - ADD runs the plugins in order; each gets the list's `name` and `cniVersion`, the previous
 *   plugin's result as `prevResult`, and the capability arguments it declares as `runtimeConfig`.
 *   ADD is atomic: when a plugin fails, every plugin run so far (the failing one included) gets DEL
 *   in reverse order with the last good result, and the ADD error is thrown.
 * - DEL runs the plugins in reverse order with the cached ADD result as `prevResult` (0.4.0+). It
 *   goes on past a failing plugin so one broken plugin does not strand the others' state; the first
 *   error is thrown afterwards with the rest attached.
 * - CHECK runs the plugins in order with the cached result (0.4.0+, unless `disableCheck`).
 */
import { BerthError } from '../../errors/berth-error';
import { convertCniResult, parseCniResult, parseCniResultText, type CniResult } from './cni-result';
import { CniPluginError } from './cni-plugin-error';
import { DEFAULT_CNI_PATH, execPlugin } from './cni-plugin-exec';
import { isCniVersion, type CniVersion, type NetConfList, type PluginConf, type RuntimeConf } from './cni-types';

export interface CniExecutorOptions {
  /** Folders searched for plugin binaries, in order. */
  cniPath?: readonly string[];
  /** Per plugin call. */
  timeoutMs?: number;
}

export interface PluginVersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

const atLeast040 = (v: CniVersion) => v === '0.4.0' || v === '1.0.0';

export class CniExecutor {
  readonly cniPath: readonly string[];
  private readonly timeoutMs: number | undefined;

  constructor(options: CniExecutorOptions = {}) {
    this.cniPath = options.cniPath ?? DEFAULT_CNI_PATH;
    this.timeoutMs = options.timeoutMs;
  }

  /** ADD the list; returns the last plugin's result in the list's version. Atomic (see above). */
  async add(list: NetConfList, rt: RuntimeConf): Promise<CniResult> {
    const version = checkList(list);
    let prev: CniResult | undefined;
    for (let i = 0; i < list.plugins.length; i++) {
      const plugin = list.plugins[i]!;
      try {
        const out = await this.call('ADD', plugin.type, pluginConfig(list, version, plugin, rt, prev), rt);
        prev = convertCniResult(parseCniResultText(out.stdout, `CNI plugin ${plugin.type} ADD`), version);
      } catch (err) {
        const rollback = await this.delPlugins(list, version, list.plugins.slice(0, i + 1), rt, prev);
        if (err instanceof CniPluginError) {
          err.relatedErrors.push(...rollback);
          throw err;
        }
        throw new CniPluginError({
          plugin: plugin.type,
          command: 'ADD',
          containerId: rt.containerId,
          exitCode: 0,
          stderr: '',
          fallbackMessage: (err as Error).message,
          relatedErrors: rollback,
        });
      }
    }
    return prev!;
  }

  /** DEL the list in reverse order with the cached ADD result (absent after a lost record). */
  async del(list: NetConfList, rt: RuntimeConf, cached?: CniResult): Promise<void> {
    const version = checkList(list);
    const errors = await this.delPlugins(list, version, list.plugins, rt, cached);
    const first = errors[0];
    if (first) {
      if (first instanceof CniPluginError) first.relatedErrors.push(...errors.slice(1));
      throw first;
    }
  }

  /** CHECK the list against the cached ADD result; throws the first plugin's error. */
  async check(list: NetConfList, rt: RuntimeConf, cached: CniResult): Promise<void> {
    const version = checkList(list);
    if (!atLeast040(version)) throw new BerthError('NETWORK_CONFIG_INVALID', `network "${list.name}": CHECK needs cniVersion 0.4.0 or later, not ${version}`);
    if (list.disableCheck) return;
    for (const plugin of list.plugins) {
      await this.call('CHECK', plugin.type, pluginConfig(list, version, plugin, rt, cached), rt);
    }
  }

  /** The plugin's VERSION answer: which spec versions it speaks. */
  async version(pluginType: string): Promise<PluginVersionInfo> {
    const out = await this.call('VERSION', pluginType, { cniVersion: '1.0.0' });
    let raw: unknown;
    try {
      raw = JSON.parse(out.stdout);
    } catch {
      raw = undefined;
    }
    const r = raw as Partial<PluginVersionInfo> | undefined;
    if (!r || typeof r.cniVersion !== 'string' || !Array.isArray(r.supportedVersions)) {
      throw new BerthError('NETWORK_PLUGIN_FAILED', `CNI plugin ${pluginType} VERSION: unexpected answer ${JSON.stringify(out.stdout.slice(0, 120))}`);
    }
    return { cniVersion: r.cniVersion, supportedVersions: r.supportedVersions.map(String) };
  }

  private async delPlugins(list: NetConfList, version: CniVersion, plugins: readonly PluginConf[], rt: RuntimeConf, cached?: CniResult): Promise<Error[]> {
    const prev = cached && atLeast040(version) ? cached : undefined;
    const errors: Error[] = [];
    for (const plugin of [...plugins].reverse()) {
      try {
        await this.call('DEL', plugin.type, pluginConfig(list, version, plugin, rt, prev), rt);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    return errors;
  }

  private call(command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION', plugin: string, config: object, runtime?: RuntimeConf) {
    return execPlugin({
      command,
      plugin,
      config,
      ...(runtime ? { runtime } : {}),
      cniPath: this.cniPath,
      ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
    });
  }
}

/** The list's version, after checking the list is runnable at all. */
export function checkList(list: NetConfList): CniVersion {
  const where = `network "${list?.name ?? '?'}"`;
  if (!list || typeof list.name !== 'string' || list.name === '') throw new BerthError('NETWORK_CONFIG_INVALID', 'CNI network list without a name');
  if (!isCniVersion(list.cniVersion)) {
    throw new BerthError('NETWORK_CONFIG_INVALID', `${where}: cniVersion "${list.cniVersion}" is not supported (0.3.0, 0.3.1, 0.4.0, 1.0.0)`);
  }
  if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw new BerthError('NETWORK_CONFIG_INVALID', `${where}: "plugins" is empty`);
  list.plugins.forEach((p, i) => {
    if (!p || typeof p.type !== 'string' || p.type === '') throw new BerthError('NETWORK_CONFIG_INVALID', `${where}: plugins[${i}] has no "type"`);
  });
  return list.cniVersion;
}

/** One plugin's stdin for a list call: the plugin's own keys plus what the runtime injects. */
export function pluginConfig(list: NetConfList, version: CniVersion, plugin: PluginConf, rt: RuntimeConf, prev: CniResult | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: version, name: list.name };
  delete conf.prevResult;
  delete conf.runtimeConfig;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(plugin.capabilities ?? {})) {
    const value = rt.capabilityArgs?.[capability];
    if (enabled && value !== undefined) runtimeConfig[capability] = value;
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prev) conf.prevResult = convertCniResult(parseCniResult(prev, 'prevResult'), version);
  return conf;
}
