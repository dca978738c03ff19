import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where a driver that keeps its own logs puts a detached container's output. */
export function logPaths(stateDir: string): { stdout: string; stderr: string } {
  return { stdout: path.join(stateDir, 'stdout.log'), stderr: path.join(stateDir, 'stderr.log') };
}

/**
 * Copy the two log files to fds; with `follow`, keep copying new output until `isDone()` turns
 * true (then drain once more). Used by `logs` in drivers that write stdout.log/stderr.log.
 */
export async function copyLogs(
  files: { stdout: string; stderr: string },
  out: { stdout: number; stderr: number },
  follow: boolean,
  isDone: () => boolean | Promise<boolean>,
): Promise<void> {
  const offsets = { stdout: 0, stderr: 0 };
  const drain = () => {
    for (const key of ['stdout', 'stderr'] as const) {
      let fd: number;
      try {
        fd = fs.openSync(files[key], 'r');
      } catch {
        continue;
      }
      try {
        const buf = Buffer.alloc(65536);
        for (;;) {
          const n = fs.readSync(fd, buf, 0, buf.length, offsets[key]);
          if (n <= 0) break;
          fs.writeSync(out[key], buf, 0, n);
          offsets[key] += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
  };
  drain();
  if (!follow) return;
  while (!(await isDone())) {
    await new Promise((r) => setTimeout(r, 100));
    drain();
  }
  drain();
}
