import type { ExecutionDriver } from '../core/driver/execution-driver';
import type { CliContext } from './cli-context';

/** `--drivers a,b` or, by default, every registered driver that is available, in drivers.json order. */
export async function chosenDrivers(ctx: CliContext, list: string | undefined): Promise<{ driver: ExecutionDriver; version?: string }[]> {
  const registry = ctx.registry();
  const names = list ? list.split(',').map((s) => s.trim()).filter(Boolean) : registry.names();
  const out: { driver: ExecutionDriver; version?: string }[] = [];
  for (const name of names) {
    try {
      const driver = await registry.get(name);
      const fp = await registry.fingerprint(driver);
      if (fp.available) out.push({ driver, ...(fp.version ? { version: fp.version } : {}) });
      else if (list) throw new Error(`driver "${name}" is unavailable: ${fp.reason ?? '?'}`);
      else ctx.log.debug(`skipping unavailable driver ${name}: ${fp.reason ?? '?'}`);
    } catch (err) {
      if (list) throw err;
      ctx.log.debug(`skipping driver ${name}: ${(err as Error).message}`);
    }
  }
  return out;
}
