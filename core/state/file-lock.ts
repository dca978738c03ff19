import * as fs from 'node:fs';
import { BerthError } from '../errors/berth-error';

/**
 * An advisory lock: a symbolic link whose target is the owner's pid (made atomically by symlink(2),
 * which fails when the name exists; one inode and no data block, where an O_EXCL file with the pid
 * written into it costs a data block and three calls more). A lock whose owner process is gone is
 * stale and taken over, so a CLI killed with SIGKILL never blocks the next one. A plain file left by
 * an older berth is read the same way.
 * The file operations are synchronous: they are tiny, and a round trip through libuv's thread pool
 * per operation costs more than the operation on a loaded host. Only waiting is asynchronous.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryLock(lockPath)) {
    if (isStale(lockPath)) {
      unlinkLock(lockPath);
      continue;
    }
    if (Date.now() > deadline) throw new BerthError('LOCK_TIMEOUT', `${lockPath}: still locked after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
  }
  try {
    return await fn();
  } finally {
    unlinkLock(lockPath);
  }
}

function unlinkLock(lockPath: string): void {
  try {
    fs.unlinkSync(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function tryLock(lockPath: string): boolean {
  try {
    fs.symlinkSync(String(process.pid), lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  return true;
}

/** The owner's pid as the lock holds it (link target, or an older berth's file content). */
function lockOwner(lockPath: string): string | undefined {
  try {
    return fs.readlinkSync(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') return undefined;
  }
  try {
    return fs.readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
}

function isStale(lockPath: string): boolean {
  const text = lockOwner(lockPath);
  if (text === undefined) return false;
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) {
    // Created but not yet filled, or garbage: stale only if old.
    try {
      return Date.now() - fs.lstatSync(lockPath).mtimeMs > 2000;
    } catch {
      return false;
    }
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
