import * as fs from 'node:fs';
import { BerthError } from '../errors/berth-error';

/**
 * An advisory lock file holding the owner's pid, created with O_EXCL. A lock whose owner process
 * is gone is stale and taken over, so a CLI killed with SIGKILL never blocks the next one.
 * The file operations are synchronous: they are tiny, and a round trip through libuv's thread pool
 * per operation costs more than the operation on a loaded host. Only waiting is asynchronous.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryLock(lockPath)) {
    if (isStale(lockPath)) {
      fs.rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new BerthError('LOCK_TIMEOUT', `${lockPath}: still locked after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}

function tryLock(lockPath: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, String(process.pid));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function isStale(lockPath: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, 'utf8');
  } catch {
    return false;
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) {
    // Created but not yet filled, or garbage: stale only if old.
    try {
      return Date.now() - fs.statSync(lockPath).mtimeMs > 2000;
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
