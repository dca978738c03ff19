/**
 * cgroup v2 manager: one directory in the unified hierarchy. Controllers are enabled level by
 * level through cgroup.subtree_control, limits written to the v2 files, cgroup.freeze for
 * pause/resume, cgroup.kill (5.14+) or freeze + SIGKILL for a race-free kill of everything.
 * Devices: with `callerAttachesDeviceFilter`, deviceFilter() gives the eBPF program the caller
 * attaches (device-filter.ts); without it only the default rule set is accepted (v2-devices.ts).
 */
import { fsp } from '../cgroupfs-sync';
import * as path from 'node:path';
import type { Resources } from '../../../../core/spec/oci-spec';
import type { ContainerStats } from '../../../../core/driver/execution-driver';
import type { SpecFeature } from '../../../../core/driver/features';
import { SpecInvalidError } from '../../../../core/errors/spec-invalid-error';
import type { BerthCgroupManager, CgroupHandle, CgroupManagerOptions } from '../cgroup-manager';
import { FeatureNotSupportedError } from '../../../../core/errors/feature-not-supported-error';
import { compileDeviceFilter } from './device-filter';
import { CgroupError } from '../cgroup-error';
import {
  applyWrites, cgroupTreeDeepestFirst, exists, normaliseCgroupPath, parseKeyValues, readCgroupFile,
  readProcs, sleep, writeCgroupFile, type CgroupWrite,
} from '../cgroup-files';
import { assertResourceValues, assertResourcesHonoured } from '../cgroup-validate';
import { signalPid } from '../v1/cgroup-v1-manager';
import { cpusetWrites } from '../v1/v1-cpu';
import { pidsWrites } from '../v1/v1-pids-blkio';
import { detectV2Support, readControllers, type V2Support } from './v2-features';
import { v2MemoryWrites } from './v2-memory';
import { v2CpuWrites } from './v2-cpu';
import { v2IoWrites } from './v2-io';
import { assertV2DeviceRules } from './v2-devices';
import { readV2Stats } from './v2-stats';

/** The controllers berth enables for a container, when the parent offers them. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb'] as const;
const EMPTY_TIMEOUT_MS = 10000;
const FREEZE_TIMEOUT_MS = 5000;
const CGROUP2_SUPER_MAGIC = 0x63677270;

export class CgroupV2Manager implements BerthCgroupManager {
  readonly version = 2 as const;
  private support: V2Support | undefined;

  constructor(readonly root: string, private readonly options: CgroupManagerOptions = {}) {}

  deviceFilter(resources: Resources | undefined): Buffer | undefined {
    const rules = resources?.devices ?? [];
    if (!this.options.callerAttachesDeviceFilter || rules.length === 0) return undefined;
    return compileDeviceFilter(rules);
  }

  private files(): V2Support {
    this.support ??= detectV2Support(this.root);
    return this.support;
  }

  resourceFeatures(): ReadonlySet<SpecFeature> {
    return this.files().features;
  }

  validate(resources: Resources | undefined): void {
    assertResourcesHonoured(resources, this.resourceFeatures(), 'cgroup v2');
    assertResourceValues(resources);
    if (!resources) return;
    if (this.options.callerAttachesDeviceFilter) compileDeviceFilter(resources.devices ?? []); // throws on bad rules
    else assertV2DeviceRules(resources.devices);
    const b = resources.blockIO;
    if (b?.leafWeight !== undefined || (b?.weightDevice ?? []).some((d) => d.leafWeight !== undefined)) {
      throw new SpecInvalidError([{ path: 'linux.resources.blockIO.leafWeight', message: 'cgroup v2 has no leaf weights (native driver)' }]);
    }
    v2MemoryWrites(resources.memory); // throws on an impossible swap value
    for (const key of Object.keys(resources.unified ?? {})) {
      if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key) || key.startsWith('cgroup.')) {
        throw new SpecInvalidError([{ path: `linux.resources.unified["${key}"]`, message: 'must name a controller interface file such as "memory.high" (no "/", no cgroup.* core files)' }]);
      }
      const controller = key.split('.')[0]!;
      if (!this.files().controllers.has(controller)) {
        throw new SpecInvalidError([{ path: `linux.resources.unified["${key}"]`, message: `controller "${controller}" is not available in ${this.root}` }]);
      }
    }
  }

  async create(relPath: string, resources: Resources | undefined): Promise<CgroupHandle> {
    const rel = normaliseCgroupPath(relPath);
    this.validate(resources);
    const dir = path.join(this.root, rel);
    const handle: CgroupHandle = { version: 2, paths: { unified: dir } };
    try {
      let current = this.root;
      for (const part of rel.split('/')) {
        await this.enableControllers(current);
        current = path.join(current, part);
        try {
          await fsp.mkdir(current);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CgroupError(current, undefined, err, 'mkdir');
        }
      }
      if (resources) await this.apply(dir, resources);
    } catch (err) {
      await this.destroy(handle).catch(() => undefined);
      throw err;
    }
    return handle;
  }

  /** Enable in `dir`'s cgroup.subtree_control every wanted controller `dir` offers and has not enabled yet. */
  private async enableControllers(dir: string): Promise<void> {
    const offered = readControllers(dir);
    const enabled = new Set(((await readCgroupFile(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean));
    const wanted = V2_CONTROLLERS.filter((c) => offered.has(c) && !enabled.has(c));
    if (wanted.length === 0) return;
    try {
      await writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '), 'enabling controllers');
    } catch {
      // One by one, so that one refused controller (e.g. cpuset busy) does not block the others.
      for (const c of wanted) await writeCgroupFile(dir, 'cgroup.subtree_control', `+${c}`).catch(() => undefined);
    }
  }

  /** The writes for `r`, in order (exported through writesFor for tests). */
  writesFor(r: Resources): CgroupWrite[] {
    const unified = Object.entries(r.unified ?? {}).map(([file, value]) => ({ file, value }));
    const hugetlb = (r.hugepageLimits ?? []).map((h) => ({ file: `hugetlb.${h.pageSize}.max`, value: String(h.limit) }));
    return [
      ...v2MemoryWrites(r.memory),
      ...v2CpuWrites(r.cpu),
      ...cpusetWrites(r.cpu),
      ...pidsWrites(r.pids),
      ...v2IoWrites(r.blockIO, this.files().bfq),
      ...hugetlb,
      ...unified,
    ];
  }

  private async apply(dir: string, r: Resources): Promise<void> {
    await applyWrites(dir, this.writesFor(r), 'cgroup v2');
  }

  procsFiles(handle: CgroupHandle): string[] {
    return [path.join(dirOf(handle), 'cgroup.procs')];
  }

  async join(handle: CgroupHandle, pid: number): Promise<void> {
    await writeCgroupFile(dirOf(handle), 'cgroup.procs', String(pid), 'join');
  }

  async update(handle: CgroupHandle, resources: Resources): Promise<void> {
    if ((resources.devices ?? []).length > 0 && this.options.callerAttachesDeviceFilter) {
      throw new FeatureNotSupportedError('native (cgroup v2: device rules are an eBPF program attached at create; they cannot be updated live)', [
        { feature: 'resources.devices', field: 'linux.resources.devices' },
      ]);
    }
    this.validate(resources);
    await this.apply(dirOf(handle), resources);
  }

  async freeze(handle: CgroupHandle): Promise<void> {
    const dir = dirOf(handle);
    await writeCgroupFile(dir, 'cgroup.freeze', '1', 'freeze');
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    for (;;) {
      const events = parseKeyValues(await readCgroupFile(dir, 'cgroup.events'));
      if (events.frozen === 1 || events.frozen === undefined) return;
      if (Date.now() > deadline) {
        await writeCgroupFile(dir, 'cgroup.freeze', '0').catch(() => undefined);
        throw new CgroupError(path.join(dir, 'cgroup.events'), undefined, 'ETIMEDOUT', 'the cgroup did not report "frozen 1"');
      }
      await sleep(2);
    }
  }

  async thaw(handle: CgroupHandle): Promise<void> {
    await writeCgroupFile(dirOf(handle), 'cgroup.freeze', '0', 'thaw');
  }

  async isFrozen(handle: CgroupHandle): Promise<boolean> {
    const dir = dirOf(handle);
    const events = parseKeyValues(await readCgroupFile(dir, 'cgroup.events'));
    if (events.frozen !== undefined) return events.frozen === 1;
    return (await readCgroupFile(dir, 'cgroup.freeze'))?.trim() === '1';
  }

  stats(handle: CgroupHandle): Promise<ContainerStats> {
    return readV2Stats(dirOf(handle));
  }

  async pids(handle: CgroupHandle): Promise<number[]> {
    const all = new Set<number>();
    for (const d of await cgroupTreeDeepestFirst(dirOf(handle))) for (const pid of await readProcs(d)) all.add(pid);
    return [...all].sort((a, b) => a - b);
  }

  async killAll(handle: CgroupHandle, signal: NodeJS.Signals): Promise<void> {
    const dir = dirOf(handle);
    if (signal === 'SIGKILL' && (await exists(path.join(dir, 'cgroup.kill')))) {
      await writeCgroupFile(dir, 'cgroup.kill', '1', 'kill');
      return;
    }
    for (const pid of await this.pids(handle)) signalPid(pid, signal);
  }

  async oomKilled(handle: CgroupHandle): Promise<boolean> {
    const events = parseKeyValues(await readCgroupFile(dirOf(handle), 'memory.events'));
    return (events.oom_kill ?? 0) > 0;
  }

  async destroy(handle: CgroupHandle): Promise<void> {
    const dir = dirOf(handle);
    if (!(await exists(dir))) return;
    const deadline = Date.now() + EMPTY_TIMEOUT_MS;
    const hasKill = await exists(path.join(dir, 'cgroup.kill'));
    for (;;) {
      const left = await this.pids(handle);
      const populated = parseKeyValues(await readCgroupFile(dir, 'cgroup.events')).populated;
      if (left.length === 0 && populated !== 1) break;
      if (Date.now() > deadline) throw new CgroupError(dir, undefined, 'EBUSY', `processes ${left.join(' ')} survived SIGKILL`);
      if (hasKill) {
        await writeCgroupFile(dir, 'cgroup.kill', '1', 'kill');
      } else {
        await this.freeze(handle).catch(() => undefined);
        for (const pid of await this.pids(handle)) signalPid(pid, 'SIGKILL');
        await this.thaw(handle).catch(() => undefined);
      }
      await sleep(5);
    }
    for (const d of await cgroupTreeDeepestFirst(dir)) await removeDir(d);
  }
}

function dirOf(handle: CgroupHandle): string {
  const dir = handle.paths.unified;
  if (handle.version !== 2 || !dir) throw new CgroupError(JSON.stringify(handle), undefined, 'EINVAL', 'not a cgroup v2 handle');
  return dir;
}

/** rmdir on cgroupfs; a directory that is not on cgroup2 (a test's fake layout) is removed with its files. */
async function removeDir(dir: string): Promise<void> {
  const deadline = Date.now() + EMPTY_TIMEOUT_MS;
  for (;;) {
    try {
      const fsType = (await fsp.statfs(dir)).type;
      if (fsType !== CGROUP2_SUPER_MAGIC) await fsp.rm(dir, { recursive: true, force: true });
      else await fsp.rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw new CgroupError(dir, undefined, err, 'rmdir');
      await sleep(5);
    }
  }
}
