/** Unit test of the stats reading for both cgroup versions, with a stand-in for lxc-cgroup (the v1 path also runs for real in lxc-driver.test.ts). */
import { limitValue, parseKeyed, readLxcStats } from '../../../drivers/lxc/lxc-stats';
import type { LxcTools } from '../../../vendor/lxc-ts-shim/src';

const fakeTools = (files: Record<string, string>) => ({ cgroupGet: async (_name: string, file: string) => {
  if (!(file in files)) throw new Error(`no ${file}`);
  return files[file]!;
} }) as unknown as LxcTools;

test('v1 file names and units', async () => {
  const stats = await readLxcStats(fakeTools({
    'memory.usage_in_bytes': '4096', 'memory.max_usage_in_bytes': '8192', 'memory.limit_in_bytes': '9223372036854771712',
    'cpuacct.usage': '5000000', 'cpuacct.stat': 'user 3\nsystem 1\n', 'pids.current': '2', 'pids.max': 'max',
  }), 'c', 'v1');
  expect(stats).toEqual({ memory: { usageBytes: 4096, maxUsageBytes: 8192 }, cpu: { usageNanos: 5000000, userNanos: 30000000, systemNanos: 10000000 }, pids: { current: 2 } });
});

test('v2 file names and units', async () => {
  const stats = await readLxcStats(fakeTools({
    'memory.current': '4096', 'memory.peak': '8192', 'memory.max': '1048576', 'cpu.stat': 'usage_usec 7\nuser_usec 5\nsystem_usec 2\n', 'pids.current': '3', 'pids.max': '10',
  }), 'c', 'v2');
  expect(stats).toEqual({ memory: { usageBytes: 4096, maxUsageBytes: 8192, limitBytes: 1048576 }, cpu: { usageNanos: 7000, userNanos: 5000, systemNanos: 2000 }, pids: { current: 3, limit: 10 } });
});

test('limits and keyed files', () => {
  expect([limitValue('max'), limitValue('9223372036854771712'), limitValue('100'), limitValue(undefined)]).toEqual([undefined, undefined, 100, undefined]);
  expect(parseKeyed('a 1\nb 2\n')).toEqual({ a: 1, b: 2 });
});
