/**
 * Which `resources.*` features the unified hierarchy honours: by the controllers the root offers
 * (cgroup.controllers) and, for files that exist only below the root (memory.swap.max,
 * cpu.max.burst, io.bfq.weight), by looking at the root's existing children.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpecFeature } from '../../../../core/driver/features';

export interface V2Support {
  controllers: Set<string>;
  features: Set<SpecFeature>;
  bfq: boolean;
}

function childHasFile(root: string, file: string): boolean {
  if (fs.existsSync(path.join(root, file))) return true;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, file)));
}

export function readControllers(dir: string): Set<string> {
  try {
    return new Set(fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}

export function detectV2Support(root: string): V2Support {
  const controllers = readControllers(root);
  const features = new Set<SpecFeature>(['resources.unified', 'resources.devices']);
  if (controllers.has('memory')) {
    features.add('resources.memory.limit');
    features.add('resources.memory.reservation');
    const cmdline = (() => {
      try {
        return fs.readFileSync('/proc/cmdline', 'utf8');
      } catch {
        return '';
      }
    })();
    if (childHasFile(root, 'memory.swap.max') || (!/\bswapaccount=0\b/.test(cmdline) && !childHasFile(root, 'memory.current'))) {
      features.add('resources.memory.swap');
    }
  }
  if (controllers.has('cpu')) {
    features.add('resources.cpu.shares');
    features.add('resources.cpu.quota');
    if (childHasFile(root, 'cpu.max.burst')) features.add('resources.cpu.burst');
    if (childHasFile(root, 'cpu.idle')) features.add('resources.cpu.idle');
  }
  if (controllers.has('cpuset')) {
    features.add('resources.cpu.cpus');
    features.add('resources.cpu.mems');
  }
  if (controllers.has('pids')) features.add('resources.pids');
  if (controllers.has('io')) {
    features.add('resources.blockIO.weight');
    features.add('resources.blockIO.throttle');
  }
  if (controllers.has('hugetlb')) features.add('resources.hugepageLimits');
  return { controllers, features, bfq: childHasFile(root, 'io.bfq.weight') };
}
