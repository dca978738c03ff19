/** The built CLI on the native driver, which is the default: run, detached lifecycle, exec, logs, -t. */
import { berth } from '../../helpers/run-cli';
import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { NativeDriver } from '../../../drivers/native/native-driver';
import { newId } from './native-fixture';

describe('berth CLI on the native driver', () => {
  const state = tempStateRoot();
  let rootfs = '';
  let available = false;
  beforeAll(async () => {
    available = (await requireBackend(new NativeDriver())).available;
    rootfs = await testRootfs();
  });
  afterAll(() => {
    for (const line of berth(['list'], { root: state.root }).stdout.split('\n').slice(1)) {
      const id = line.split(/\s+/)[0];
      if (id) berth(['delete', '--force', id], { root: state.root });
    }
    state.cleanup();
  });

  it('runs on native by default: stdout and stderr apart, exit code, isolation', () => {
    if (!available) return;
    const r = berth(['run', '--rm', '--rootfs', rootfs, '--', 'sh', '-c', 'echo out $$; echo err >&2; grep -c . /proc/net/dev; exit 3'], { root: state.root });
    expect(r.stderr).toBe('err\n');
    expect(r.stdout).toBe('out 1\n3\n'); // pid 1 of its own pid namespace; only lo in its network namespace
    expect(r.code).toBe(3);
    expect(berth(['list'], { root: state.root }).stdout).not.toContain('native');
  });

  it('detached: logs, exec, pause, kill and delete from separate CLI processes', () => {
    if (!available) return;
    const id = newId();
    const root = state.root;
    expect(berth(['run', '-d', '--name', id, '--rootfs', rootfs, '--', 'sh', '-c', 'echo hello; exec sleep 100'], { root }).stdout).toBe(`${id}\n`);
    expect(JSON.parse(berth(['state', id], { root }).stdout)).toMatchObject({ status: 'running', driver: 'native' });
    expect(berth(['exec', id, '--', 'cat', '/proc/1/cmdline'], { root }).stdout).toBe('sleep\u0000100\u0000');
    expect(berth(['logs', id], { root }).stdout).toBe('hello\n');
    expect(berth(['pause', id], { root }).code).toBe(0);
    expect(JSON.parse(berth(['state', id], { root }).stdout).status).toBe('paused');
    expect(berth(['resume', id], { root }).code).toBe(0);
    expect(berth(['kill', id, 'KILL'], { root }).code).toBe(0);
    expect(berth(['delete', id], { root }).code).toBe(0);
    expect(berth(['state', id], { root }).code).not.toBe(0);
  });

  it('-t gives the process a terminal', () => {
    if (!available) return;
    const r = berth(['run', '--rm', '-t', '--rootfs', rootfs, '--', 'tty'], { root: state.root });
    expect(r.stdout).toBe('/dev/pts/0\r\n');
    expect(r.code).toBe(0);
  });
});
