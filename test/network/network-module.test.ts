/** The DI wiring: a driver module loading networkModule() gets the attacher; two drivers can both load it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from 'inversify';
import { CniNetworkAttacher, NetworkAttacher, NetworkStore, networkModule, networkOptionsFromEnv } from '../../core';

test('networkModule binds NetworkAttacher once, even when loaded twice', async () => {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  try {
    const container = new Container();
    const options = { ...networkOptionsFromEnv({}), configDir };
    await container.load(networkModule(options));
    await container.load(networkModule(options));
    const attacher = container.get<NetworkAttacher>(NetworkAttacher);
    expect(attacher).toBeInstanceOf(CniNetworkAttacher);
    expect(container.get(NetworkStore).options.configDir).toBe(configDir);
    expect(container.get(NetworkStore).list().networks.map((n) => n.name)).toEqual(['berth0']);
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
});

test('networkOptionsFromEnv: defaults and overrides', () => {
  expect(networkOptionsFromEnv({})).toEqual({
    configDir: '/etc/berth/networks',
    cniPath: ['/usr/lib/cni', '/opt/cni/bin'],
    ipamDir: '/var/lib/cni/networks',
    stateDir: '/var/lib/berth/network',
  });
  expect(networkOptionsFromEnv({ BERTH_NETWORK_DIR: '/x', BERTH_CNI_PATH: '/a:/b', BERTH_NETWORK_STATE_DIR: '/s' })).toMatchObject({ configDir: '/x', cniPath: ['/a', '/b'], stateDir: '/s' });
});
