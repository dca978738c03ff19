import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Temporary files standing in for a container's stdout/stderr, read back after it exits. */
export function captureStdio(): { stdout: number; stderr: number; read: () => { stdout: string; stderr: string }; close: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-io-'));
  const files = { stdout: path.join(dir, 'out'), stderr: path.join(dir, 'err') };
  const stdout = fs.openSync(files.stdout, 'w+');
  const stderr = fs.openSync(files.stderr, 'w+');
  return {
    stdout,
    stderr,
    read: () => ({ stdout: fs.readFileSync(files.stdout, 'utf8'), stderr: fs.readFileSync(files.stderr, 'utf8') }),
    close: () => {
      fs.closeSync(stdout);
      fs.closeSync(stderr);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
