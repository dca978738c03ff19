import { requireBackend } from '../../helpers/backend-gate';
import { testRootfs } from '../../helpers/busybox-fixture';
import { nativeFixture, runToExit, shSpec, type NativeFixture } from './native-fixture';

describe('native driver: end to end', () => {
  let fx: NativeFixture;
  let rootfs: string;
  let available = false;
  beforeAll(async () => {
    fx = nativeFixture();
    available = (await requireBackend(fx.driver)).available;
    rootfs = await testRootfs();
  });
  afterAll(async () => fx.cleanup());

  it('runs a busybox echo in new namespaces, stdout and stderr apart, exit code back', async () => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, 'echo out $(hostname) $$; echo err >&2; exit 7'), rootfs);
    expect(r.stdout).toBe('out berth 1\n');
    expect(r.stderr).toBe('err\n');
    expect(r.exitCode).toBe(7);
  });

  it('brings lo up in a new network namespace (and it is the only interface)', async () => {
    if (!available) return;
    const r = await runToExit(fx.manager, shSpec(rootfs, 'ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c 1 -W 1 127.0.0.1 >/dev/null && echo ping-ok'), rootfs);
    expect(r.stdout).toBe('lo\n0x9\nping-ok\n'); // IFF_UP | IFF_LOOPBACK
  });
});
