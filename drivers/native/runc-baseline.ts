/** The raw reference for the native driver's benchmark: Debian's `runc run` on the same spec and rootfs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawBaseline } from '../../core/driver/execution-driver';
import { defaultSpec } from '../../core/spec/default-spec';

let counter = 0;

export const runcBaseline: RawBaseline = {
  name: 'runc run',
  async prepare(workDir, rootfs, args) {
    const bundle = path.join(workDir, 'runc-bundle');
    fs.mkdirSync(bundle, { recursive: true });
    const spec = defaultSpec({ rootfs, args });
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    const root = path.join(workDir, 'runc-state');
    return { argv: ['runc', '--root', root, 'run', '--bundle', bundle, `bench-runc-${process.pid}-${counter++}`] };
  },
  async cleanup(workDir) {
    fs.rmSync(path.join(workDir, 'runc-bundle'), { recursive: true, force: true });
    fs.rmSync(path.join(workDir, 'runc-state'), { recursive: true, force: true });
  },
};
