/**
 * The one cgroup that berth manages for an nspawn container (systemd is absent, so nspawn cannot
 * hand limits to it). The supervisor joins it through `procsFiles()` before starting nspawn,
 * so nspawn, the container and later execs all live below it.
 *
 * cgroup v1 (each controller its own hierarchy under ROOT/<controller>, co-mounted ones counted
 * once) and v2 (ROOT/cgroup.controllers exists). Kept in one file so it can be swapped for the
 * shared drivers/native/cgroups manager later. All paths are plain data (JSON in the handle).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, type ContainerStats, type Resources } from '../../core';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * v1 hierarchies every container joins: limits and stats (memory, cpu, cpuacct, pids), pause and
 * kill --all (freezer), and name=systemd, where nspawn makes its payload/ subgroup. cpuset and
 * devices only when the spec asks for them: each v1 move costs milliseconds of start-up.
 */
const V1_BASE = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'systemd'];
const V1_DEFAULT = [...V1_BASE, 'cpuset', 'devices'];

/** The v1 hierarchies a container with these resources needs. */
export function cgroupControllers(r: Resources | undefined): string[] {
  return [...V1_BASE, ...(r?.cpu?.cpus || r?.cpu?.mems ? ['cpuset'] : []), ...((r?.devices ?? []).length > 0 ? ['devices'] : [])];
}
const V2_CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids'];

export interface CgroupPaths {
  version: 1 | 2;
  /** v1: controller -> directory; v2: { unified: directory }. */
  dirs: Record<string, string>;
}

/** Devices every container gets on top of the spec's rules (as runc does): null, zero, full, tty, random, urandom, console, ptmx, pts, tun. */
export const DEFAULT_DEVICE_RULES = ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm'];

export function cgroupVersion(root = CGROUP_ROOT): 1 | 2 {
  return fs.existsSync(path.join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** Where this container's cgroup lives: ROOT/<hierarchy>/<parent>/<leaf>. */
export function planCgroup(parent: string, leaf: string, controllers: readonly string[] = V1_DEFAULT, root = CGROUP_ROOT): CgroupPaths {
  const version = cgroupVersion(root);
  if (version === 2) return { version, dirs: { unified: path.join(root, parent, leaf) } };
  const dirs: Record<string, string> = {};
  const seen = new Set<string>();
  for (const c of controllers) {
    const mount = path.join(root, c);
    let real: string;
    try {
      real = fs.realpathSync(mount);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    dirs[c] = path.join(mount, parent, leaf);
  }
  return { version, dirs };
}

export class NspawnCgroup {
  constructor(readonly paths: CgroupPaths) {}

  /** Make the directories, with limits and device rules applied before any process joins. */
  create(resources: Resources | undefined): void {
    if (this.paths.version === 2) {
      const dir = this.paths.dirs.unified!;
      const parent = path.dirname(dir);
      fs.mkdirSync(parent, { recursive: true });
      enableControllers(path.dirname(parent));
      enableControllers(parent);
      fs.mkdirSync(dir);
    } else {
      for (const [controller, dir] of Object.entries(this.paths.dirs)) {
        fs.mkdirSync(dir, { recursive: true });
        if (controller === 'cpuset') inheritCpuset(dir);
      }
      if (this.paths.dirs.devices) this.applyDevices(resources);
    }
    this.update(resources ?? {});
  }

  /** Files whose writing "0" moves the writer into the cgroup. */
  procsFiles(): string[] {
    return Object.values(this.paths.dirs).map((d) => path.join(d, 'cgroup.procs'));
  }

  /** Apply resource limits (create and live update). */
  update(r: Resources): void {
    const v1 = this.paths.version === 1;
    const m = r.memory;
    if (m?.limit !== undefined) this.write('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max', limitValue(m.limit, v1));
    if (m?.reservation !== undefined) this.write('memory', v1 ? 'memory.soft_limit_in_bytes' : 'memory.low', limitValue(m.reservation, v1));
    const c = r.cpu;
    if (c?.shares !== undefined) {
      if (v1) this.write('cpu', 'cpu.shares', String(c.shares));
      else this.write('cpu', 'cpu.weight', String(sharesToWeight(c.shares)));
    }
    if (c?.quota !== undefined || c?.period !== undefined) {
      if (v1) {
        if (c.period !== undefined) this.write('cpu', 'cpu.cfs_period_us', String(c.period));
        if (c.quota !== undefined) this.write('cpu', 'cpu.cfs_quota_us', String(c.quota));
      } else {
        const quota = c.quota === undefined || c.quota < 0 ? 'max' : String(c.quota);
        this.write('cpu', 'cpu.max', `${quota} ${c.period ?? 100000}`);
      }
    }
    if (c?.cpus) this.write('cpuset', 'cpuset.cpus', c.cpus);
    if (c?.mems) this.write('cpuset', 'cpuset.mems', c.mems);
    if (r.pids) this.write('pids', 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  }

  freeze(): void {
    if (this.paths.version === 1) this.write('freezer', 'freezer.state', 'FROZEN');
    else this.write('freezer', 'cgroup.freeze', '1');
  }

  thaw(): void {
    if (this.paths.version === 1) this.write('freezer', 'freezer.state', 'THAWED');
    else this.write('freezer', 'cgroup.freeze', '0');
  }

  /** FROZEN, FREEZING or THAWED (v2: from cgroup.events). */
  freezerState(): 'FROZEN' | 'FREEZING' | 'THAWED' {
    if (this.paths.version === 1) return (this.read('freezer', 'freezer.state')?.trim() as 'FROZEN' | 'FREEZING' | 'THAWED') ?? 'THAWED';
    const events = this.read('freezer', 'cgroup.events') ?? '';
    const wanted = this.read('freezer', 'cgroup.freeze')?.trim() === '1';
    const frozen = /^frozen 1$/m.test(events);
    return frozen ? 'FROZEN' : wanted ? 'FREEZING' : 'THAWED';
  }

  /** Every pid in the cgroup (and below it: nspawn makes subgroups). */
  pids(): number[] {
    const dir = this.paths.version === 1 ? (this.paths.dirs.freezer ?? Object.values(this.paths.dirs)[0]) : this.paths.dirs.unified;
    if (!dir) return [];
    const out = new Set<number>();
    for (const d of walk(dir)) {
      const text = readQuiet(path.join(d, 'cgroup.procs')) ?? '';
      for (const line of text.split('\n')) if (line) out.add(Number(line));
    }
    return [...out];
  }

  stats(): ContainerStats {
    const v1 = this.paths.version === 1;
    const num = (controller: string, file: string) => {
      const t = this.read(controller, file)?.trim();
      return t === undefined || t === '' || t === 'max' ? undefined : Number(t);
    };
    const out: ContainerStats = {};
    const usage = num('memory', v1 ? 'memory.usage_in_bytes' : 'memory.current');
    if (usage !== undefined) {
      const limit = num('memory', v1 ? 'memory.limit_in_bytes' : 'memory.max');
      const max = num('memory', v1 ? 'memory.max_usage_in_bytes' : 'memory.peak');
      const events = this.read('memory', v1 ? 'memory.oom_control' : 'memory.events') ?? '';
      const oom = /^oom_kill (\d+)$/m.exec(events);
      out.memory = {
        usageBytes: usage,
        ...(max !== undefined ? { maxUsageBytes: max } : {}),
        ...(limit !== undefined && limit < 2 ** 62 ? { limitBytes: limit } : {}),
        ...(oom ? { oomEvents: Number(oom[1]) } : {}),
      };
    }
    if (v1) {
      const cpu = num('cpuacct', 'cpuacct.usage');
      if (cpu !== undefined) {
        const stat = this.read('cpuacct', 'cpuacct.stat') ?? '';
        const tick = 1e9 / 100;
        const user = /^user (\d+)$/m.exec(stat);
        const system = /^system (\d+)$/m.exec(stat);
        out.cpu = { usageNanos: cpu, ...(user ? { userNanos: Number(user[1]) * tick } : {}), ...(system ? { systemNanos: Number(system[1]) * tick } : {}) };
      }
    } else {
      const stat = this.read('cpu', 'cpu.stat') ?? '';
      const field = (name: string) => {
        const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
        return m ? Number(m[1]) * 1000 : undefined;
      };
      const usageNanos = field('usage_usec');
      if (usageNanos !== undefined) out.cpu = { usageNanos, userNanos: field('user_usec'), systemNanos: field('system_usec') };
    }
    const current = num('pids', 'pids.current');
    if (current !== undefined) {
      const limit = num('pids', 'pids.max');
      out.pids = { current, ...(limit !== undefined ? { limit } : {}) };
    }
    return out;
  }

  /** Signal every process except those in `spare`; with SIGKILL, frozen first so none can fork away. */
  killAll(signal: NodeJS.Signals, spare: ReadonlySet<number>): void {
    const freeze = signal === 'SIGKILL' && this.freezerState() === 'THAWED';
    if (freeze) this.freezeAndWait();
    try {
      for (const pid of this.pids()) {
        if (spare.has(pid)) continue;
        try {
          process.kill(pid, signal);
        } catch {
          /* gone */
        }
      }
    } finally {
      if (freeze) this.thaw();
    }
  }

  freezeAndWait(timeoutMs = 2000): void {
    this.freeze();
    const deadline = Date.now() + timeoutMs;
    while (this.freezerState() !== 'FROZEN' && Date.now() < deadline) {
      // FREEZING: rewrite, as the v1 freezer documentation asks, until every task is frozen.
      this.freeze();
      sleepMs(1);
    }
  }

  /** Remove the directories (children first); true when nothing is left. */
  destroy(): boolean {
    let clean = true;
    for (const dir of Object.values(this.paths.dirs)) {
      for (const d of walk(dir).reverse()) {
        try {
          fs.rmdirSync(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') clean = false;
        }
      }
    }
    return clean;
  }

  exists(): boolean {
    return Object.values(this.paths.dirs).some((d) => fs.existsSync(d));
  }

  private applyDevices(resources: Resources | undefined): void {
    const rules = resources?.devices;
    if (!rules || rules.length === 0) return;
    for (const rule of rules) {
      const type = rule.type ?? 'a';
      const major = rule.major === undefined || rule.major < 0 ? '*' : String(rule.major);
      const minor = rule.minor === undefined || rule.minor < 0 ? '*' : String(rule.minor);
      const line = type === 'a' ? 'a' : `${type} ${major}:${minor} ${rule.access ?? 'rwm'}`;
      this.write('devices', rule.allow ? 'devices.allow' : 'devices.deny', line);
    }
    for (const line of DEFAULT_DEVICE_RULES) this.write('devices', 'devices.allow', line);
  }

  private dir(controller: string): string | undefined {
    return this.paths.version === 2 ? this.paths.dirs.unified : this.paths.dirs[controller];
  }

  private write(controller: string, file: string, value: string): void {
    const dir = this.dir(controller);
    if (!dir) throw new BerthError('OPERATION_NOT_SUPPORTED', `nspawn: ${file} cannot be set: the container was created without the ${controller} cgroup (set it at create)`);
    fs.writeFileSync(path.join(dir, file), value);
  }

  private read(controller: string, file: string): string | undefined {
    const dir = this.dir(controller);
    return dir ? readQuiet(path.join(dir, file)) : undefined;
  }
}

function limitValue(n: number, v1: boolean): string {
  if (n < 0) return v1 ? '-1' : 'max';
  return String(n);
}

/** cgroup v2's cpu.weight for v1 shares (the conversion runc and crun use). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 100;
  return 1 + Math.floor(((Math.max(2, Math.min(shares, 262144)) - 2) * 9999) / 262142);
}

/** Let `parent`'s children use the controllers berth needs (v2). */
function enableControllers(parent: string): void {
  const available = (readQuiet(path.join(parent, 'cgroup.controllers')) ?? '').split(/\s+/);
  const wanted = V2_CONTROLLERS.filter((c) => available.includes(c));
  if (wanted.length === 0) return;
  fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
}

/** A new v1 cpuset group starts empty: fill cpus and mems from the nearest ancestor, top-down to `dir`. */
function inheritCpuset(dir: string): void {
  const chain: string[] = [];
  for (let d = dir; (readQuiet(path.join(d, 'cpuset.cpus')) ?? '').trim() === ''; d = path.dirname(d)) {
    if (!fs.existsSync(path.join(d, 'cpuset.cpus'))) break;
    chain.unshift(d);
  }
  for (const d of chain) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if ((readQuiet(path.join(d, f)) ?? '').trim() === '') fs.writeFileSync(path.join(d, f), readQuiet(path.join(path.dirname(d), f))?.trim() ?? '');
    }
  }
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...walk(path.join(dir, e.name)));
  return out;
}

function readQuiet(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
