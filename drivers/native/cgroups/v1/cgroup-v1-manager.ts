/**
 * cgroup v1 manager: one directory per hierarchy (`<mount>/<controller>/<relPath>`), limits
 * written per controller, the freezer for pause/resume and for a race-free kill of everything.
 */
import { fsp } from '../cgroupfs-sync';
import * as path from 'node:path';
import type { Resources } from '../../../../core/spec/oci-spec';
import type { ContainerStats } from '../../../../core/driver/execution-driver';
import type { SpecFeature } from '../../../../core/driver/features';
import { SpecInvalidError } from '../../../../core/errors/spec-invalid-error';
import type { BerthCgroupManager, CgroupHandle } from '../cgroup-manager';
import { CgroupError } from '../cgroup-error';
import {
  applyWrites, cgroupTreeDeepestFirst, exists, normaliseCgroupPath, parseKeyValues, readCgroupFile,
  readCgroupNumber, readProcs, sleep, writeCgroupFile,
} from '../cgroup-files';
import { assertResourceValues, assertResourcesHonoured } from '../cgroup-validate';
import { detectV1Support, type V1FileSupport } from './v1-features';
import { v1MemoryWrites } from './v1-memory';
import { cpusetWrites, v1CpuWrites } from './v1-cpu';
import { pidsWrites, v1BlkioWrites } from './v1-pids-blkio';
import { v1DeviceWrites } from './v1-devices';
import { readV1Stats } from './v1-stats';

const EMPTY_TIMEOUT_MS = 10000;
const FREEZE_TIMEOUT_MS = 5000;

export class CgroupV1Manager implements BerthCgroupManager {
  readonly version = 1 as const;
  private support: V1FileSupport | undefined;

  /** `hierarchies`: controller (`memory`, `cpu`, `name=systemd` ...) -> mount point. */
  constructor(readonly hierarchies: Record<string, string>) {}

  private files(): V1FileSupport {
    this.support ??= detectV1Support(this.hierarchies);
    return this.support;
  }

  resourceFeatures(): ReadonlySet<SpecFeature> {
    return this.files().features;
  }

  validate(resources: Resources | undefined): void {
    assertResourcesHonoured(resources, this.resourceFeatures(), 'cgroup v1');
    assertResourceValues(resources);
    const b = resources?.blockIO;
    const leaf = b?.leafWeight !== undefined || (b?.weightDevice ?? []).some((d) => d.leafWeight !== undefined);
    if (leaf && this.files().blkioWeightFile !== 'blkio.weight') {
      throw new SpecInvalidError([{ path: 'linux.resources.blockIO.leafWeight', message: 'leaf weights need the CFQ blkio.leaf_weight files, which this kernel does not have (native driver, cgroup v1)' }]);
    }
  }

  /** v1 enforces device rules through devices.allow/deny: nothing for the caller to attach. */
  deviceFilter(_resources?: Resources): Buffer | undefined {
    return undefined;
  }

  async create(relPath: string, resources: Resources | undefined): Promise<CgroupHandle> {
    const rel = normaliseCgroupPath(relPath);
    this.validate(resources);
    const paths: Record<string, string> = {};
    for (const [controller, mount] of Object.entries(this.hierarchies)) paths[controller] = path.join(mount, rel);
    const handle: CgroupHandle = { version: 1, paths };
    try {
      for (const [controller, dir] of Object.entries(paths)) {
        if (controller === 'cpuset') await this.makeCpusetDirs(this.hierarchies.cpuset!, rel);
        else await fsp.mkdir(dir, { recursive: true });
      }
      if (resources) await this.apply(handle, resources);
    } catch (err) {
      await this.destroy(handle).catch(() => undefined);
      throw err;
    }
    return handle;
  }

  /** A new cpuset cgroup starts with empty cpus/mems and accepts no task: copy them from the parent, level by level. */
  private async makeCpusetDirs(mount: string, rel: string): Promise<void> {
    let dir = mount;
    for (const part of rel.split('/')) {
      const parent = dir;
      dir = path.join(dir, part);
      try {
        await fsp.mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CgroupError(dir, undefined, err, 'mkdir');
      }
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const own = (await readCgroupFile(dir, file))?.trim();
        if (own) continue;
        const inherited = (await readCgroupFile(parent, file))?.trim();
        if (inherited) await writeCgroupFile(dir, file, inherited, 'initialising cpuset from parent');
      }
    }
  }

  private async apply(handle: CgroupHandle, r: Resources): Promise<void> {
    const p = handle.paths;
    const support = this.files();
    if (p.devices && r.devices?.length) await applyWrites(p.devices, v1DeviceWrites(r.devices), 'devices');
    if (p.memory && r.memory) {
      const currentLimit = await readCgroupNumber(p.memory, 'memory.limit_in_bytes');
      await applyWrites(p.memory, v1MemoryWrites(r.memory, { currentLimit, swapAccounting: support.swapAccounting }), 'memory');
    }
    if (p.cpu) await applyWrites(p.cpu, v1CpuWrites(r.cpu), 'cpu');
    if (p.cpuset) await applyWrites(p.cpuset, cpusetWrites(r.cpu), 'cpuset');
    if (p.pids) await applyWrites(p.pids, pidsWrites(r.pids), 'pids');
    if (p.blkio) await applyWrites(p.blkio, v1BlkioWrites(r.blockIO, support.blkioWeightFile), 'blkio');
    if (p.hugetlb) {
      for (const h of r.hugepageLimits ?? []) await writeCgroupFile(p.hugetlb, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit), 'hugetlb');
    }
  }

  procsFiles(handle: CgroupHandle): string[] {
    return uniqueDirs(handle).map((d) => path.join(d, 'cgroup.procs'));
  }

  async join(handle: CgroupHandle, pid: number): Promise<void> {
    for (const dir of uniqueDirs(handle)) await writeCgroupFile(dir, 'cgroup.procs', String(pid), 'join');
  }

  async update(handle: CgroupHandle, resources: Resources): Promise<void> {
    this.validate(resources);
    await this.apply(handle, resources);
  }

  async freeze(handle: CgroupHandle): Promise<void> {
    const dir = this.freezerDir(handle);
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    for (;;) {
      await writeCgroupFile(dir, 'freezer.state', 'FROZEN', 'freeze');
      if ((await readCgroupFile(dir, 'freezer.state'))?.trim() === 'FROZEN') return;
      if (Date.now() > deadline) {
        await writeCgroupFile(dir, 'freezer.state', 'THAWED', 'thaw after failed freeze').catch(() => undefined);
        throw new CgroupError(path.join(dir, 'freezer.state'), 'FROZEN', 'ETIMEDOUT', 'the cgroup did not reach FROZEN');
      }
      await sleep(2);
    }
  }

  async thaw(handle: CgroupHandle): Promise<void> {
    await writeCgroupFile(this.freezerDir(handle), 'freezer.state', 'THAWED', 'thaw');
  }

  async isFrozen(handle: CgroupHandle): Promise<boolean> {
    const state = (await readCgroupFile(this.freezerDir(handle), 'freezer.state'))?.trim();
    return state === 'FROZEN' || state === 'FREEZING';
  }

  private freezerDir(handle: CgroupHandle): string {
    const dir = handle.paths.freezer;
    if (!dir) throw new CgroupError('freezer', undefined, 'ENOENT', 'no freezer hierarchy is mounted');
    return dir;
  }

  stats(handle: CgroupHandle): Promise<ContainerStats> {
    return readV1Stats(handle.paths);
  }

  /** Every pid in the container's cgroup and its sub-cgroups, across all hierarchies. */
  async pids(handle: CgroupHandle): Promise<number[]> {
    const all = new Set<number>();
    for (const dir of uniqueDirs(handle)) {
      for (const d of await cgroupTreeDeepestFirst(dir)) for (const pid of await readProcs(d)) all.add(pid);
    }
    return [...all].sort((a, b) => a - b);
  }

  async killAll(handle: CgroupHandle, signal: NodeJS.Signals): Promise<void> {
    for (const pid of await this.pids(handle)) signalPid(pid, signal);
  }

  async oomKilled(handle: CgroupHandle): Promise<boolean> {
    const dir = handle.paths.memory;
    if (!dir) return false;
    const oom = parseKeyValues(await readCgroupFile(dir, 'memory.oom_control'));
    return (oom.oom_kill ?? 0) > 0;
  }

  async destroy(handle: CgroupHandle): Promise<void> {
    const dirs = uniqueDirs(handle);
    const present: string[] = [];
    for (const d of dirs) if (await exists(d)) present.push(d);
    if (present.length === 0) return;
    await killEverything(this, handle);
    for (const dir of present) {
      for (const d of await cgroupTreeDeepestFirst(dir)) await removeCgroupDir(d);
    }
  }
}

/** Freeze (so nothing forks while we kill), SIGKILL every pid, thaw (SIGKILL is delivered on thaw), wait until empty. */
async function killEverything(m: CgroupV1Manager, handle: CgroupHandle): Promise<void> {
  const deadline = Date.now() + EMPTY_TIMEOUT_MS;
  const canFreeze = !!handle.paths.freezer && (await exists(path.join(handle.paths.freezer, 'freezer.state')));
  for (;;) {
    const pids = await m.pids(handle);
    if (pids.length === 0) return;
    if (canFreeze) await m.freeze(handle).catch(() => undefined);
    for (const pid of await m.pids(handle)) signalPid(pid, 'SIGKILL');
    if (canFreeze) await m.thaw(handle).catch(() => undefined);
    if (Date.now() > deadline) {
      throw new CgroupError(handle.paths.freezer ?? Object.values(handle.paths)[0] ?? '?', undefined, 'EBUSY', `processes ${pids.join(' ')} survived SIGKILL`);
    }
    await sleep(5);
  }
}

async function removeCgroupDir(dir: string): Promise<void> {
  const deadline = Date.now() + EMPTY_TIMEOUT_MS;
  for (;;) {
    try {
      await fsp.rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw new CgroupError(dir, undefined, err, 'rmdir');
      await sleep(5);
    }
  }
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** The handle's directories, one per hierarchy (co-mounted controllers share one). */
export function uniqueDirs(handle: CgroupHandle): string[] {
  return [...new Set(Object.values(handle.paths))];
}
