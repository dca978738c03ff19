import type { ExecutionDriver, Fingerprint } from '../../core/driver/execution-driver';

/**
 * Integration tests call this in beforeAll. Without CI=true a missing backend skips the suite with
 * its reason printed; with CI=true it fails, because CI installs every backend.
 */
export async function requireBackend(driver: ExecutionDriver): Promise<Fingerprint> {
  const fp = await driver.fingerprint();
  if (!fp.available) {
    const why = `driver ${driver.name} unavailable: ${fp.reason ?? '?'}${fp.installHint ? ` (${fp.installHint})` : ''}`;
    if (process.env.CI === 'true') throw new Error(`${why}; CI must install it`);
    process.stderr.write(`SKIP ${why}\n`);
  }
  return fp;
}

/** `describe` when the condition holds, otherwise `describe.skip` (the reason is printed by requireBackend). */
export function describeIf(condition: boolean): jest.Describe {
  return condition ? describe : describe.skip;
}

export const isRoot = process.getuid?.() === 0;
