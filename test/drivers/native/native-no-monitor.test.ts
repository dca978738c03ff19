/**
 * The monitor is optional (DESIGN-LESSONS 7): with `monitor: false` the same launch path clones the
 * init as the CALLER's child (CLONE_PARENT), berth-native exits once the init is ready, and the
 * init waits on start.fifo itself, as runc's init does under a containerd shim. Here `sh` plays
 * the caller.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';
import { encodePlan, launchPlan } from '../../../drivers/native/launch-plan';
import { findNativeBinary } from '../../../drivers/native/native-binary';
import { NativeDriver } from '../../../drivers/native/native-driver';
import { seccompCompiler } from '../../../drivers/native/seccomp-compiler';
import { isAlive } from '../../../core/util/processes';
import { shSpec } from './native-fixture';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statOf = (pid: number) => {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]) };
};

describe('native driver: launch without a monitor (runc shape)', () => {
  let available = false;
  beforeAll(async () => {
    available = (await requireBackend(new NativeDriver())).available;
  });

  it("makes the init the caller's child, which waits on start.fifo itself and is reaped by the caller", async () => {
    if (!available) return;
    const rootfs = await testRootfs();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nomonitor-'));
    const io = captureStdio();
    const spec = shSpec(rootfs, 'echo started-by-fifo; exit 4', (s) => {
      s.mounts = s.mounts!.filter((m) => m.type !== 'cgroup');
    });
    const plan = launchPlan(spec, { stateDir: dir, procsFiles: [], cgroupBinds: [], cgroupVersion: 1, monitor: false, compileSeccomp: seccompCompiler()! });
    fs.writeFileSync(path.join(dir, 'plan'), encodePlan(plan));
    const result = path.join(dir, 'result');
    const caller = spawn('/bin/sh', ['-c', '"$0" create 3<"$1" 4>"$2" & echo $! > "$3"; wait $!; sleep 30', findNativeBinary()!, path.join(dir, 'plan'), result, path.join(dir, 'launcher')], { stdio: ['ignore', io.stdout, io.stderr] });
    try {
      let init = 0;
      for (let i = 0; i < 500 && !init; i++) {
        const text = fs.existsSync(result) ? fs.readFileSync(result, 'utf8') : '';
        if (text.startsWith('O') && text.endsWith('\n')) init = Number(text.slice(1));
        else await sleep(10);
      }
      expect(init).toBeGreaterThan(0);
      expect(statOf(init).ppid).toBe(caller.pid);
      // berth-native itself is gone: no monitor stays
      const launcher = Number(fs.readFileSync(path.join(dir, 'launcher'), 'utf8'));
      for (let i = 0; i < 100 && isAlive(launcher); i++) await sleep(10);
      expect(isAlive(launcher)).toBe(false);
      expect(fs.existsSync(path.join(dir, 'monitor.pid'))).toBe(false);
      await sleep(100);
      expect(io.read().stdout).toBe(''); // blocked before exec until start
      const fd = fs.openSync(path.join(dir, 'start.fifo'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      fs.writeSync(fd, 'S');
      fs.closeSync(fd);
      // It runs, exits, and its parent (the caller: sh reaps any child) collects it; nothing else could.
      const reapedOrZombie = () => !fs.existsSync(`/proc/${init}`) || statOf(init).state === 'Z';
      for (let i = 0; i < 300 && !reapedOrZombie(); i++) await sleep(10);
      expect(reapedOrZombie()).toBe(true);
      expect(isAlive(caller.pid!)).toBe(true);
      expect(io.read().stdout).toBe('started-by-fifo\n');
    } finally {
      caller.kill('SIGKILL');
      await new Promise((r) => caller.on('exit', r));
      io.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(isAlive(caller.pid!)).toBe(false);
  });
});
