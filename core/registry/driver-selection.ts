import * as os from 'node:os';
import type { ExecutionDriver } from '../driver/execution-driver';
import type { DriverRegistry } from './driver-registry';
import { BerthError } from '../errors/berth-error';

export interface DriverChoice {
  driver: ExecutionDriver;
  /** Why this driver: shown with --debug. */
  reason: string;
}

/** Glob with `*` and `?` over a whole host name. */
export function hostnameMatches(pattern: string, hostname: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(hostname);
}

/**
 * `--driver` > `BERTH_DRIVER` > the first host rule matching this host > the first available driver
 * in preference order (then in drivers.json order). Explicit choices are used even when the driver
 * reports itself unavailable only if it is available; otherwise the refusal says why.
 */
export async function selectDriver(
  registry: DriverRegistry,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  hostname: string = os.hostname(),
): Promise<DriverChoice> {
  const named = explicit
    ? { name: explicit, reason: `--driver ${explicit}` }
    : env.BERTH_DRIVER
      ? { name: env.BERTH_DRIVER, reason: `BERTH_DRIVER=${env.BERTH_DRIVER}` }
      : ruleFor(registry, hostname);
  if (named) {
    const driver = await registry.get(named.name);
    await assertAvailable(registry, driver);
    return { driver, reason: named.reason };
  }
  const order = [...registry.config.preference, ...registry.names().filter((n) => !registry.config.preference.includes(n))];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const driver = await registry.get(name);
      const fp = await registry.fingerprint(driver);
      if (fp.available) return { driver, reason: `first available in preference order${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}` };
      skipped.push(`${name}: ${fp.reason ?? 'unavailable'}`);
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new BerthError('DRIVER_UNAVAILABLE', `no available driver (${skipped.join('; ') || 'none registered'})`);
}

function ruleFor(registry: DriverRegistry, hostname: string): { name: string; reason: string } | undefined {
  const rule = registry.config.hosts.find((r) => hostnameMatches(r.hostname, hostname));
  return rule ? { name: rule.driver, reason: `host rule "${rule.hostname}" matches ${hostname}` } : undefined;
}

export async function assertAvailable(registry: DriverRegistry, driver: ExecutionDriver): Promise<void> {
  const fp = await registry.fingerprint(driver);
  if (!fp.available) {
    const hint = fp.installHint ? ` (${fp.installHint})` : '';
    throw new BerthError('DRIVER_UNAVAILABLE', `driver "${driver.name}" is unavailable: ${fp.reason ?? 'unknown reason'}${hint}`);
  }
}
