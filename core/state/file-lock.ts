import * as fs from 'node:fs/promises';
import { BerthError } from '../errors/berth-error';

/**
 * An advisory lock file holding the owner's pid, created with O_EXCL. A lock whose owner process
 * is gone is stale and taken over, so a CLI killed with SIGKILL never blocks the next one.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockPath)) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new BerthError('LOCK_TIMEOUT', `${lockPath}: still locked after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

async function isStale(lockPath: string): Promise<boolean> {
  let text: string;
  try {
    text = await fs.readFile(lockPath, 'utf8');
  } catch {
    return false;
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) {
    // Written but not yet filled, or garbage: stale only if old.
    const stat = await fs.stat(lockPath).catch(() => undefined);
    return stat !== undefined && Date.now() - stat.mtimeMs > 2000;
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
