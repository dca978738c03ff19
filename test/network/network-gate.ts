import * as fs from 'node:fs';
import { isRoot } from '../helpers/backend-gate';

/** CNI tests need root and the standard plugins; CI installs them, so there a gap fails the run. */
export function cniAvailable(): boolean {
  const missing = ['bridge', 'host-local', 'portmap', 'loopback', 'firewall', 'tuning'].filter((p) => !fs.existsSync(`/usr/lib/cni/${p}`));
  const why = !isRoot ? 'not root' : missing.length > 0 ? `CNI plugins missing in /usr/lib/cni: ${missing.join(', ')} (apt-get install containernetworking-plugins)` : '';
  if (!why) return true;
  if (process.env.CI === 'true') throw new Error(`network tests cannot run: ${why}; CI must provide it`);
  process.stderr.write(`SKIP network tests: ${why}\n`);
  return false;
}
