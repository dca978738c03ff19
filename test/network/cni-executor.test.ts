/** The CNI executor against real plugin processes (recording shell-script plugins). */
import { CniExecutor, CniPluginError, type NetConfList, type RuntimeConf } from '../../core/network/cni';
import { FakePlugins } from './fake-cni-plugins';

describe('CniExecutor', () => {
  const fakes = new FakePlugins(['first', 'second', 'third']);
  const executor = new CniExecutor({ cniPath: ['/nonexistent-berth-dir', fakes.dir] });
  const rt: RuntimeConf = {
    containerId: 'c1',
    netns: '/run/netns/fake',
    ifName: 'eth0',
    args: [['IgnoreUnknown', '1']],
    capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  };
  const list = (extra: Record<string, unknown>[] = [{}, {}, {}]): NetConfList => ({
    cniVersion: '1.0.0',
    name: 'fakenet',
    plugins: [
      { type: 'first', ...extra[0] },
      { type: 'second', capabilities: { portMappings: true }, ...extra[1] },
      { type: 'third', ...extra[2] },
    ],
  });

  beforeEach(() => fakes.reset());
  afterAll(() => fakes.cleanup());

  test('ADD runs the chain in order with env, name, version, prevResult and capability args', async () => {
    const result = await executor.add(list(), rt);
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.ips).toEqual([{ address: '10.99.0.2/24', gateway: '10.99.0.1', interface: 0 }]);
    const calls = fakes.calls();
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(['ADD first', 'ADD second', 'ADD third']);
    for (const c of calls) {
      expect(c.env).toMatchObject({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/fake', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1' });
      expect(c.env.CNI_PATH).toBe(`/nonexistent-berth-dir:${fakes.dir}`);
      expect(c.stdin).toMatchObject({ cniVersion: '1.0.0', name: 'fakenet', type: c.plugin });
    }
    expect(calls[0]!.stdin.prevResult).toBeUndefined();
    // the plugin answered 0.4.0; the executor hands it on converted to the list's 1.0.0 (no ips[].version)
    expect(calls[1]!.stdin.prevResult).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.99.0.2/24' }] });
    expect((calls[1]!.stdin.prevResult as { ips: object[] }).ips[0]).not.toHaveProperty('version');
    // only the plugin declaring the capability gets runtimeConfig
    expect(calls[0]!.stdin.runtimeConfig).toBeUndefined();
    expect(calls[1]!.stdin.runtimeConfig).toEqual({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    expect(calls[2]!.stdin.runtimeConfig).toBeUndefined();
  });

  test('DEL runs in reverse order, every plugin with the cached result', async () => {
    const cached = await executor.add(list(), rt);
    fakes.reset();
    await executor.del(list(), rt, cached);
    const calls = fakes.calls();
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(['DEL third', 'DEL second', 'DEL first']);
    for (const c of calls) expect(c.stdin.prevResult).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.99.0.2/24' }] });
  });

  test('a 0.4.0 list gets prevResult in 0.4.0 form', async () => {
    const l = { ...list(), cniVersion: '0.4.0' };
    await executor.add(l, rt);
    const prev = fakes.calls()[1]!.stdin.prevResult as { cniVersion: string; ips: { version: string }[] };
    expect(prev.cniVersion).toBe('0.4.0');
    expect(prev.ips[0]!.version).toBe('4');
  });

  test('a failing ADD rolls back every plugin run so far, in reverse, and throws the typed error', async () => {
    const err = await executor.add(list([{}, {}, { fail: 'ADD' }]), rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniPluginError);
    const e = err as CniPluginError;
    expect(e.code).toBe('NETWORK_PLUGIN_FAILED');
    expect(e.plugin).toBe('third');
    expect(e.command).toBe('ADD');
    expect(e.cniCode).toBe(107);
    expect(e.cniMsg).toBe('refused by fake');
    expect(e.details).toBe('fail was set for ADD');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('refused by fake: fail was set for ADD (CNI error 107)');
    const calls = fakes.calls();
    expect(calls.map((c) => `${c.command} ${c.plugin}`)).toEqual(['ADD first', 'ADD second', 'ADD third', 'DEL third', 'DEL second', 'DEL first']);
    // the rollback carries the last good result
    expect(calls[3]!.stdin.prevResult).toMatchObject({ ips: [{ address: '10.99.0.2/24' }] });
  });

  test('a plugin printing garbage fails the ADD and is rolled back', async () => {
    const err = (await executor.add(list([{}, { garbage: true }, {}]), rt).catch((e: unknown) => e)) as CniPluginError;
    expect(err).toBeInstanceOf(CniPluginError);
    expect(err.plugin).toBe('second');
    expect(err.message).toContain('printed no JSON result');
    expect(fakes.calls().map((c) => `${c.command} ${c.plugin}`)).toEqual(['ADD first', 'ADD second', 'DEL second', 'DEL first']);
  });

  test('DEL goes on past a failing plugin and reports every failure', async () => {
    const l = list([{ fail: 'DEL' }, {}, { fail: 'DEL' }]);
    const err = (await executor.del(l, rt).catch((e: unknown) => e)) as CniPluginError;
    expect(fakes.calls().map((c) => `${c.command} ${c.plugin}`)).toEqual(['DEL third', 'DEL second', 'DEL first']);
    expect(err).toBeInstanceOf(CniPluginError);
    expect(err.plugin).toBe('third');
    expect(err.relatedErrors.map((e) => (e as CniPluginError).plugin)).toEqual(['first']);
    // no cached result: no prevResult
    expect(fakes.calls()[0]!.stdin.prevResult).toBeUndefined();
  });

  test('CHECK runs in order with the cached result', async () => {
    const cached = await executor.add(list(), rt);
    fakes.reset();
    await executor.check(list(), rt, cached);
    expect(fakes.calls().map((c) => `${c.command} ${c.plugin}`)).toEqual(['CHECK first', 'CHECK second', 'CHECK third']);
    expect(fakes.calls()[0]!.stdin.prevResult).toMatchObject({ ips: [{ address: '10.99.0.2/24' }] });
    await expect(executor.check({ ...list(), cniVersion: '0.3.1' }, rt, cached)).rejects.toThrow(/CHECK needs cniVersion 0.4.0/);
  });

  test('a missing plugin is a typed error naming the search path; VERSION is parsed', async () => {
    await expect(executor.add({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'nope' }] }, rt)).rejects.toThrow(/no executable plugin "nope" in \/nonexistent-berth-dir/);
    await expect(executor.version('first')).resolves.toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0'] });
  });

  test('invalid lists are refused before any plugin runs', async () => {
    await expect(executor.add({ cniVersion: '0.2.0', name: 'x', plugins: [{ type: 'first' }] }, rt)).rejects.toThrow(/cniVersion "0.2.0" is not supported/);
    await expect(executor.add({ cniVersion: '1.0.0', name: 'x', plugins: [] }, rt)).rejects.toThrow(/"plugins" is empty/);
    expect(fakes.calls()).toEqual([]);
  });
});
