/** Spec fields the conformance suite does not cover for the native driver: namespace joins, domainname, rootfs propagation. */
import * as fs from 'node:fs';
import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs } from '../../helpers/busybox-fixture';
import { newId, nativeFixture, runToExit, shSpec, type NativeFixture } from './native-fixture';

describe('native driver: more spec fields', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  it('joins the network, ipc, uts and pid namespaces of another container by path', async () => {
    if (!available) return;
    const first = newId();
    const driver = await fx.manager['registry'].get('native');
    await fx.manager.create({ id: first, bundle: rootfs, spec: shSpec(rootfs, 'sleep 100', (s) => (s.hostname = 'first')), driver, stdio: { kind: 'log' } });
    try {
      await fx.manager.start(first);
      const { pid } = await fx.manager.state(first);
      const ns = (type: string) => fs.readlinkSync(`/proc/${pid}/ns/${type}`);
      const spec = shSpec(rootfs, 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done; hostname; ps -o comm | grep -c sleep', (s) => {
        delete s.hostname;
        for (const n of s.linux!.namespaces!) {
          const file = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid' }[n.type as string];
          if (file) n.path = `/proc/${pid}/ns/${file}`;
        }
      });
      const r = await runToExit(fx.manager, spec, rootfs);
      expect(r.stdout.split('\n')).toEqual([ns('net'), ns('ipc'), ns('uts'), ns('pid'), 'first', '1', '']);
    } finally {
      await fx.manager.delete(first, true);
    }
  });

  it('sets the domainname in its uts namespace', async () => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, 'cat /proc/sys/kernel/domainname', (s) => (s.domainname = 'example.test')), rootfs);
    expect(r.stdout).toBe('example.test\n');
  });

  it.each([
    ['private', /^(?!.*(shared|master):)/],
    ['shared', /shared:\d+/],
  ])('applies linux.rootfsPropagation %s to /', async (propagation, pattern) => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, "awk '$5 == \"/\"' /proc/self/mountinfo", (s) => (s.linux!.rootfsPropagation = propagation)), rootfs);
    const root = r.stdout.trim().split('\n');
    expect(root).toHaveLength(1);
    expect(root[0]!.split(' - ')[0]).toMatch(pattern);
  });

  it('refuses create with a missing args[0] as COMMAND_NOT_FOUND, leaving nothing', async () => {
    if (!available) return;
    const driver = await fx.manager['registry'].get('native');
    const id = newId();
    await expect(fx.manager.create({ id, bundle: rootfs, spec: shSpec(rootfs, 'x', (s) => (s.process!.args = ['/nope'])), driver, stdio: { kind: 'log' } }))
      .rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
    expect(await fx.manager.store.exists(id)).toBe(false);
  });
});
