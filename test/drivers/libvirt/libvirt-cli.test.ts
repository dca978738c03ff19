/**
 * The built CLI on the libvirt driver: a foreground run keeps stdout/stderr apart and exits with the
 * container's code; a detached container outlives the CLI that started it (libvirt_lxc supervises
 * it) and is managed by later CLI processes; `--network none` really isolates.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { berth } from '../../helpers/run-cli';
import { describeIf, isRoot, requireBackend } from '../../helpers/backend-gate';
import { testRootfs, tempStateRoot } from '../../helpers/busybox-fixture';
import { LibvirtDriver } from '../../../drivers/libvirt/libvirt-driver';
import { URI } from './libvirt-fixture';

const reachable = isRoot && spawnSync('virsh', ['-c', URI, 'version'], { encoding: 'utf8' }).status === 0;
const suite = process.env.CI === 'true' ? describe : describeIf(reachable);

suite('berth CLI on the libvirt driver', () => {
  const state = tempStateRoot();
  const run = (args: string[]) => berth(args, { root: state.root });
  const records = () => fs.readdirSync(state.root).filter((e) => !e.startsWith('.'));
  let rootfs = '';

  beforeAll(async () => {
    await requireBackend(new LibvirtDriver());
    rootfs = await testRootfs();
  });
  afterAll(() => {
    for (const id of records()) run(['delete', '--force', id]);
    state.cleanup();
  });

  test('run --rm: stdout and stderr apart, the exit code, nothing left', () => {
    const r = run(['run', '--rm', '--driver', 'libvirt', '--rootfs', rootfs, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(records()).toEqual([]);
  });

  test('--network none: only lo', () => {
    const r = run(['run', '--rm', '--network', 'none', '--driver', 'libvirt', '--rootfs', rootfs, '--', 'ls', '/sys/class/net']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('lo');
  });

  test('a detached container outlives its CLI; later CLIs exec, stop and delete it', () => {
    const id = `t-libvirt-cli${process.pid}`;
    const started = run(['run', '-d', '--name', id, '--driver', 'libvirt', '--rootfs', rootfs, '--', 'sh', '-c', 'echo up; sleep 300']);
    expect(started).toMatchObject({ code: 0, stdout: `${id}\n` });
    const s = JSON.parse(run(['state', id]).stdout);
    expect(s.status).toBe('running');
    expect(run(['exec', id, '--', 'sh', '-c', 'echo in; exit 6'])).toMatchObject({ code: 6, stdout: 'in\n' });
    expect(run(['logs', id]).stdout).toBe('up\n');
    expect(run(['kill', id, 'KILL']).code).toBe(0);
    for (let i = 0; i < 50 && JSON.parse(run(['state', id]).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.1']);
    expect(JSON.parse(run(['state', id]).stdout)).toMatchObject({ status: 'stopped', exitCode: 137 });
    expect(run(['delete', id]).code).toBe(0);
    expect(records()).toEqual([]);
    expect(spawnSync('virsh', ['-c', URI, 'domstate', `berth-${id}`]).status).not.toBe(0);
  });

  test('a spec the driver cannot honour is refused in one line naming the field', () => {
    const r = run(['run', '--rm', '--driver', 'libvirt', '--rootfs', rootfs, '--pids-limit', '5', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pids/);
    expect(records()).toEqual([]);
  });
});
