import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OutputCapture {
  stdout: number;
  stderr: number;
  /** What was written so far. */
  read(): { stdout: string; stderr: string };
  /** Close both fds (the files stay in `dir`). */
  close(): void;
}

/** Two files in `dir` standing in for a container's stdout and stderr, read back after it exits. */
export function captureToFiles(dir: string): OutputCapture {
  const files = { stdout: path.join(dir, 'stdout'), stderr: path.join(dir, 'stderr') };
  const stdout = fs.openSync(files.stdout, 'w+');
  const stderr = fs.openSync(files.stderr, 'w+');
  return {
    stdout,
    stderr,
    read: () => ({ stdout: fs.readFileSync(files.stdout, 'utf8'), stderr: fs.readFileSync(files.stderr, 'utf8') }),
    close: () => {
      fs.closeSync(stdout);
      fs.closeSync(stderr);
    },
  };
}
