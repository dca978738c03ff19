import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The cgroup folders of a process, one per hierarchy (`/sys/fs/cgroup/pids/lxc.payload.c1`, or the
 * unified folder), read from /proc/PID/cgroup. Empty when the process is gone.
 */
export function processCgroupDirs(pid: number, root = '/sys/fs/cgroup'): string[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  const unifiedRoot = fs.existsSync(path.join(root, 'cgroup.controllers')) ? root : path.join(root, 'unified');
  const dirs: string[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers, rel] = line.split(':') as [string, string, string];
    if (controllers === '') dirs.push(path.join(unifiedRoot, rel));
    else dirs.push(path.join(root, controllers.replace(/^name=/, ''), rel));
  }
  return dirs.filter((d) => fs.existsSync(d));
}

/** Every pid in the cgroup folder `dir` and its descendants. */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      for (const p of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) out.push(Number(p));
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      /* gone meanwhile */
    }
  };
  walk(dir);
  return out;
}

/**
 * The cgroup folders LXC makes for container `name` (`lxc.payload.NAME`, `lxc.monitor.NAME` and their
 * `-N` retries) under every hierarchy below `root`. Used to check and clean up after a container.
 */
export function containerCgroupDirs(name: string, root = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`^lxc\\.(payload|monitor|pivot)\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)?$`);
  const hierarchies = fs.existsSync(path.join(root, 'cgroup.controllers')) ? [root] : fs.readdirSync(root).map((h) => path.join(root, h));
  for (const h of hierarchies) {
    let entries: string[];
    try {
      entries = fs.readdirSync(h);
    } catch {
      continue;
    }
    for (const e of entries) if (pattern.test(e)) out.push(path.join(h, e));
  }
  return out;
}

/**
 * The cgroup paths of a process relative to each hierarchy's root (`/lxc.payload.c1`), one per
 * distinct path (usually one for all hierarchies), from /proc/PID/cgroup; empty when it is gone.
 */
export function processCgroupPaths(pid: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    const rel = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    if (line && rel) paths.add(rel);
  }
  return [...paths];
}

/**
 * The folders that exist for the relative cgroup paths `rels` under every hierarchy below `root`:
 * the exact counterpart of containerCgroupDirs when the paths are known (a few stat calls instead
 * of reading every hierarchy's folder).
 */
export function cgroupDirsAt(rels: readonly string[], root = '/sys/fs/cgroup'): string[] {
  const hierarchies = fs.existsSync(path.join(root, 'cgroup.controllers')) ? [root] : fs.readdirSync(root).map((h) => path.join(root, h));
  const out: string[] = [];
  for (const h of hierarchies) {
    for (const rel of rels) {
      const dir = path.join(h, rel);
      const inside = path.relative(h, dir);
      if (inside !== '' && !inside.startsWith('..') && fs.existsSync(dir)) out.push(dir);
    }
  }
  return out;
}

/** Remove cgroup folders depth first (a cgroup folder is removed with rmdir once empty). */
export function removeCgroupDirs(dirs: readonly string[]): string[] {
  const failed: string[] = [];
  const rm = (d: string) => {
    try {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(d, e.name));
      fs.rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed.push(d);
    }
  };
  dirs.forEach(rm);
  return failed;
}

/**
 * Freeze or thaw the cgroup of `pid` directly (v1 `freezer.state`, v2 `cgroup.freeze`) and wait until
 * the kernel reports it done. For hosts where `lxc-freeze` fails (LXC 5.0 on hybrid v1/v2 layouts).
 * Returns false when the process has no freezer cgroup.
 */
export async function setCgroupFrozen(pid: number, frozen: boolean, timeoutMs = 5000, root = '/sys/fs/cgroup'): Promise<boolean> {
  const dirs = processCgroupDirs(pid, root);
  const v1 = dirs.find((d) => d.startsWith(path.join(root, 'freezer') + path.sep));
  const deadline = Date.now() + timeoutMs;
  const settle = async (done: () => boolean) => {
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`cgroup of pid ${pid} did not ${frozen ? 'freeze' : 'thaw'} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  if (v1) {
    const file = path.join(v1, 'freezer.state');
    fs.writeFileSync(file, frozen ? 'FROZEN' : 'THAWED');
    await settle(() => fs.readFileSync(file, 'utf8').trim() === (frozen ? 'FROZEN' : 'THAWED'));
    return true;
  }
  const v2 = dirs.find((d) => fs.existsSync(path.join(d, 'cgroup.freeze')));
  if (!v2) return false;
  fs.writeFileSync(path.join(v2, 'cgroup.freeze'), frozen ? '1' : '0');
  await settle(() => /^frozen (\d)$/m.exec(fs.readFileSync(path.join(v2, 'cgroup.events'), 'utf8'))?.[1] === (frozen ? '1' : '0'));
  return true;
}
