import * as fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from './container-record';
import type { Spec } from '../spec/oci-spec';
import { BerthError } from '../errors/berth-error';
import { withFileLock } from './file-lock';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function assertValidId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new BerthError('CONTAINER_ID_INVALID', `invalid container id "${id}": use letters, digits, '_', '.', '-' (max 128)`);
  }
}

/**
 * Container records under a state root: `<root>/<id>/record.json` (written by rename, so a reader
 * never sees half a record), `<root>/<id>/config.json` (the spec as created), `<root>/<id>/driver/`
 * (the driver's own files). Mutations hold `<root>/<id>.lock`.
 */
export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  driverDir(id: string): string {
    return path.join(this.dir(id), 'driver');
  }

  /**
   * Claim `id` atomically (mkdir): throws CONTAINER_EXISTS when taken. The driver's name is written
   * first, in a file of its own, so even a corrupted record can be handed to its driver for cleanup.
   */
  async claim(id: string, driver = ''): Promise<void> {
    assertValidId(id);
    await fs.mkdir(this.root, { recursive: true, mode: 0o711 });
    try {
      await fs.mkdir(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BerthError('CONTAINER_EXISTS', `container "${id}" already exists`);
      }
      throw err;
    }
    await fs.mkdir(this.driverDir(id), { mode: 0o711 });
    await fs.writeFile(path.join(this.dir(id), 'driver.name'), driver);
  }

  /** The driver named at claim time, or undefined when even that file is gone. */
  async driverNameOf(id: string): Promise<string | undefined> {
    const name = await fs.readFile(path.join(this.dir(id), 'driver.name'), 'utf8').catch(() => '');
    return name.trim() || undefined;
  }

  async write(record: ContainerRecord, spec?: Spec): Promise<void> {
    const dir = this.dir(record.id);
    if (spec) await writeAtomic(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    await writeAtomic(path.join(dir, 'record.json'), JSON.stringify(record, null, 2));
  }

  async read(id: string): Promise<ContainerRecord> {
    assertValidId(id);
    const file = path.join(this.dir(id), 'record.json');
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const dirExists = await fs.access(this.dir(id), fsConstants.F_OK).then(() => true, () => false);
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

  async readSpec(id: string): Promise<Spec> {
    const file = path.join(this.dir(id), 'config.json');
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as Spec;
    } catch (err) {
      throw new BerthError('STATE_CORRUPT', `container "${id}": ${file} is unreadable; use delete --force`, { cause: err });
    }
  }

  async exists(id: string): Promise<boolean> {
    return fs.access(this.dir(id), fsConstants.F_OK).then(() => true, () => false);
  }

  async ids(): Promise<string[]> {
    const entries = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && ID_PATTERN.test(e.name)).map((e) => e.name).sort();
  }

  async remove(id: string): Promise<void> {
    assertValidId(id);
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }

  lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    assertValidId(id);
    return withFileLock(path.join(this.root, `.${id}.lock`), fn);
  }
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  await fs.rename(tmp, file);
}
