import { lxcTestKit, specFor } from './lxc-test-kit';
import { testRootfs } from '../../helpers/busybox-fixture';
import { captureStdio } from '../../helpers/capture-stdio';

test('smoke', async () => {
  const kit = lxcTestKit();
  const io = captureStdio();
  try {
    const spec = specFor(await testRootfs(), ['/bin/sh', '-c', 'echo out; echo err >&2; id; cat /proc/self/status | grep Cap; ls -la /dev; cat /proc/self/mountinfo; exit 3']);
    const req = kit.request(spec, { kind: 'fds', stdin: null, stdout: io.stdout, stderr: io.stderr });
    const t0 = Date.now();
    let handle;
    try {
      handle = await kit.driver.create(req);
    } catch (err) {
      console.log(err, require('fs').readFileSync(req.stateDir + '/lxc.conf', 'utf8'));
      throw err;
    }
    const ref = kit.ref(req, handle);
    console.log('created', Date.now() - t0, await kit.driver.state(ref));
    await kit.driver.start(ref);
    const r = await kit.driver.wait(ref);
    console.log('exit', Date.now() - t0, r, await kit.driver.state(ref), io.read());
    await kit.driver.delete(ref, false);
    console.log(require('fs').readFileSync(req.stateDir + '/lxc.conf', 'utf8'));
  } finally {
    io.close();
    await kit.cleanup();
  }
});
