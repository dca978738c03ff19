import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureToFiles, type OutputCapture } from '../../core/util/output-capture';

/** Temporary files standing in for a container's stdout/stderr, read back after it exits; close removes them. */
export function captureStdio(): OutputCapture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-io-'));
  const capture = captureToFiles(dir);
  return {
    ...capture,
    close: () => {
      capture.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
