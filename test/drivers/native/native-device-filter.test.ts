/**
 * cgroup v2 device control through berth-native: the eBPF program from compileDeviceFilter is
 * loaded and attached by the monitor to the container's cgroup before the init joins it. This host
 * is hybrid, so the test uses a fresh directory of its cgroup2 mount (/sys/fs/cgroup/unified).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';
import { compileDeviceFilter } from '../../../drivers/native/cgroups/v2/device-filter';
import { encodePlan, launchPlan } from '../../../drivers/native/launch-plan';
import { findNativeBinary } from '../../../drivers/native/native-binary';
import { launchMonitor } from '../../../drivers/native/native-process';
import { readExit, waitForFiles } from '../../../drivers/native/native-state-files';
import { NativeDriver } from '../../../drivers/native/native-driver';
import { seccompCompiler } from '../../../drivers/native/seccomp-compiler';
import { shSpec } from './native-fixture';

const CGROUP2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => fs.existsSync(path.join(d, 'cgroup.controllers')));

describe('native driver: cgroup v2 device program attached by berth-native', () => {
  let available = false;
  beforeAll(async () => {
    available = (await requireBackend(new NativeDriver())).available && CGROUP2 !== undefined;
  });

  it('allows the OCI default devices and denies the rest (EPERM), as the spec rules say', async () => {
    if (!available) return;
    const rootfs = await testRootfs();
    const cgroup = path.join(CGROUP2!, `berth-test-${crypto.randomBytes(4).toString('hex')}`);
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-devfilter-'));
    const io = captureStdio();
    fs.mkdirSync(cgroup);
    try {
      const spec = shSpec(rootfs, 'echo x > /dev/null && echo null-ok; head -c 1 /dev/kmsg; echo kmsg=$?', (s) => {
        s.linux!.devices = [{ type: 'c', path: '/dev/kmsg', major: 1, minor: 11, fileMode: 0o644 }];
        s.mounts = s.mounts!.filter((m) => m.type !== 'cgroup');
      });
      const program = compileDeviceFilter([{ allow: false, access: 'rwm' }]);
      const plan = launchPlan(spec, { stateDir, procsFiles: [path.join(cgroup, 'cgroup.procs')], cgroupBinds: [], cgroupVersion: 2, deviceFilter: { program, cgroup }, compileSeccomp: seccompCompiler()! });
      await launchMonitor(findNativeBinary()!, encodePlan(plan), { stdin: 'ignore', stdout: io.stdout, stderr: io.stderr });
      const fd = fs.openSync(path.join(stateDir, 'start.fifo'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      fs.writeSync(fd, 'S');
      fs.closeSync(fd);
      await waitForFiles(stateDir, ['exit'], 10000);
      expect(readExit(stateDir)?.exitCode).toBe(0);
      const out = io.read();
      expect(out.stdout).toBe('null-ok\nkmsg=1\n');
      expect(out.stderr).toMatch(/kmsg: Operation not permitted/);
    } finally {
      io.close();
      for (let i = 0; i < 100; i++) {
        try {
          fs.rmdirSync(cgroup);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
