import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from './container-record';
import type { Spec } from '../spec/oci-spec';
import { BerthError } from '../errors/berth-error';
import { withFileLock } from './file-lock';
import { ensureVolatileRoot, type VolatileRootResult } from './volatile-root';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function assertValidId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new BerthError('CONTAINER_ID_INVALID', `invalid container id "${id}": use letters, digits, '_', '.', '-' (max 128)`);
  }
}

/**
 * Container records under a state root: `<root>/<id>/record.json` (written by rename, so a reader
 * never sees half a record), `<root>/<id>/config.json` (the spec as created), `<root>/<id>/driver/`
 * (the driver's own files). Mutations hold `<root>/<id>.lock`. File operations are synchronous behind
 * the promise API: they are a few small files, and each thread-pool round trip costs more than the
 * operation itself on a loaded host (measured: ~15 ms per lifecycle with async fs).
 */
export class StateStore {
  private rootReady = false;
  /** Parsed record + spec per id, valid while both files keep their inode and mtime. */
  private readonly cache = new Map<string, { stamp: string; record: ContainerRecord; spec: Spec }>();
  /** Specs written by claim in this process, until the first record write caches them with it. */
  private readonly claimedSpecs = new Map<string, Spec>();

  /** Set once the first claim has prepared a volatile root (see volatile-root.ts). */
  volatileRoot?: VolatileRootResult;

  /**
   * `volatile`: the root is runtime state and should be a tmpfs; the first claim mounts one on it
   * when it is on disk (see volatile-root.ts). The CLI asks for it on its default root.
   */
  constructor(
    readonly root: string,
    private readonly options: { volatile?: boolean } = {},
  ) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  driverDir(id: string): string {
    return path.join(this.dir(id), 'driver');
  }

  /**
   * Claim `id` atomically (mkdir): throws CONTAINER_EXISTS when taken. The driver's name is written
   * first, in a file of its own, so even a corrupted record can be handed to its driver for cleanup;
   * then the spec, when given (before any record exists nobody reads it, so no rename is needed: a
   * claim cut short leaves a folder that `delete --force` clears, spec or not).
   */
  async claim(id: string, driver = '', spec?: Spec): Promise<void> {
    assertValidId(id);
    if (!this.rootReady) {
      if (this.options.volatile && !this.volatileRoot) this.volatileRoot = await ensureVolatileRoot(this.root);
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
      this.rootReady = true;
    }
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BerthError('CONTAINER_EXISTS', `container "${id}" already exists`);
      }
      throw err;
    }
    fs.mkdirSync(this.driverDir(id), { mode: 0o711 });
    fs.writeFileSync(path.join(this.dir(id), 'driver.name'), driver);
    if (spec) {
      fs.writeFileSync(path.join(this.dir(id), 'config.json'), JSON.stringify(spec, null, 2), { mode: 0o600 });
      this.claimedSpecs.set(id, structuredClone(spec));
    }
  }

  /** The driver named at claim time, or undefined when even that file is gone. */
  async driverNameOf(id: string): Promise<string | undefined> {
    try {
      return fs.readFileSync(path.join(this.dir(id), 'driver.name'), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async write(record: ContainerRecord, spec?: Spec): Promise<void> {
    const dir = this.dir(record.id);
    const claimed = this.claimedSpecs.get(record.id);
    this.claimedSpecs.delete(record.id);
    if (spec) writeAtomic(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    const recordFile = path.join(dir, 'record.json');
    const recordText = JSON.stringify(record, null, 2);
    // The first record after this process's claim is a new file (O_EXCL): a reader meanwhile sees it
    // missing or incomplete, both "not fully created", as it would without the record. Every later
    // version replaces it by rename, so a reader never sees half of a record that was complete.
    if (claimed && !spec) fs.writeFileSync(recordFile, recordText, { mode: 0o600, flag: 'wx' });
    else writeAtomic(recordFile, recordText);
    // What was just written is what the next read would parse: keep it (copies, as callers may mutate theirs).
    // A record-only write keeps the cached spec only while config.json is the one it was parsed from.
    const previous = this.cache.get(record.id);
    const stamp = this.stamp(record.id);
    const specStamp = (st: string) => st.slice(st.indexOf('/'));
    const known = spec
      ? structuredClone(spec)
      : claimed
        ? claimed
        : previous && stamp && specStamp(previous.stamp) === specStamp(stamp)
          ? previous.spec
          : undefined;
    if (known && stamp) this.cache.set(record.id, { stamp, record: structuredClone(record), spec: known });
    else this.cache.delete(record.id);
  }

  async read(id: string): Promise<ContainerRecord> {
    assertValidId(id);
    const file = path.join(this.dir(id), 'record.json');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const dirExists = fs.existsSync(this.dir(id));
        if (dirExists) throw new BerthError('STATE_CORRUPT', `container "${id}": record is missing (half-created?); use delete --force`);
        throw new BerthError('CONTAINER_NOT_FOUND', `container "${id}" does not exist`);
      }
      throw err;
    }
    try {
      const record = JSON.parse(text) as ContainerRecord;
      if (record.version !== 1 || record.id !== id || typeof record.driver !== 'string') throw new Error('bad fields');
      return record;
    } catch (err) {
      throw new BerthError('STATE_CORRUPT', `container "${id}": record ${file} is corrupted; use delete --force`, { cause: err });
    }
  }

  /** Record and spec together, parsed once per process while the files are unchanged (a rename changes the inode). */
  async readContainer(id: string): Promise<{ record: ContainerRecord; spec: Spec }> {
    const stamp = this.stamp(id);
    const hit = stamp ? this.cache.get(id) : undefined;
    if (hit && hit.stamp === stamp) return { record: hit.record, spec: hit.spec };
    const record = await this.read(id);
    const spec = await this.readSpec(id);
    if (stamp) this.cache.set(id, { stamp, record, spec });
    return { record, spec };
  }

  private stamp(id: string): string | undefined {
    try {
      const r = fs.statSync(path.join(this.dir(id), 'record.json'));
      const c = fs.statSync(path.join(this.dir(id), 'config.json'));
      return `${r.ino}:${r.mtimeMs}:${r.size}/${c.ino}:${c.mtimeMs}:${c.size}`;
    } catch {
      return undefined;
    }
  }

  async readSpec(id: string): Promise<Spec> {
    const file = path.join(this.dir(id), 'config.json');
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as Spec;
    } catch (err) {
      throw new BerthError('STATE_CORRUPT', `container "${id}": ${file} is unreadable; use delete --force`, { cause: err });
    }
  }

  async exists(id: string): Promise<boolean> {
    return fs.existsSync(this.dir(id));
  }

  async ids(): Promise<string[]> {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.root, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries.filter((e) => e.isDirectory() && ID_PATTERN.test(e.name)).map((e) => e.name).sort();
  }

  async remove(id: string): Promise<void> {
    assertValidId(id);
    this.cache.delete(id);
    this.claimedSpecs.delete(id);
    removeTree(this.dir(id));
  }

  lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    assertValidId(id);
    return withFileLock(path.join(this.root, `.${id}.lock`), fn);
  }
}

/**
 * `rm -rf` for a container folder: a plain walk (unlink files, rmdir folders) costs about half of
 * fs.rmSync's, which checks every entry's type separately. Missing entries are fine; a folder that
 * another process filled meanwhile is retried once with rmSync.
 */
function removeTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return fs.rmSync(dir, { force: true });
    throw err;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) removeTree(p);
    else unlinkIfThere(p);
  }
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function unlinkIfThere(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
