import * as crypto from 'node:crypto';
import Docker from 'dockerode';
import { DockerDriver } from '../../../drivers/docker/docker-driver';
import { DriverRegistry } from '../../../core/registry/driver-registry';
import { ContainerManager } from '../../../core/runtime/container-manager';
import { StateStore } from '../../../core/state/state-store';
import { silentLogger } from '../../../core/logging/logger';
import type { DriversConfig } from '../../../core/registry/drivers-config';
import * as path from 'node:path';

/**
 * The engine the tests use: the private dockerd that scripts/daemons/dockerd.sh starts, whose
 * DOCKER_HOST jest loads from /run/berth-test/dockerd.env (test/helpers/daemon-env.ts). These tests
 * also pass it as the drivers.json option `host`, the way a user's drivers.json would.
 */
export const TEST_DOCKER_HOST = process.env.DOCKER_HOST || 'unix:///run/berth-test/docker.sock';
export const TEST_OPTIONS = { host: TEST_DOCKER_HOST };

export function testDriver(): DockerDriver {
  return new DockerDriver(TEST_OPTIONS);
}

export function testDocker(): Docker {
  // Full dockerode for the tests' own checks (listImages, listContainers...); unix sockets only.
  return new Docker({ socketPath: TEST_DOCKER_HOST.replace(/^unix:\/\//, '') });
}

/** A ContainerManager whose registry has only the docker driver, pointed at the test engine. */
export function testManager(stateRoot: string): ContainerManager {
  const config: DriversConfig = {
    drivers: { docker: { module: path.resolve(__dirname, '../../../drivers/docker'), options: TEST_OPTIONS, baseDir: '/' } },
    preference: ['docker'],
    hosts: [],
    sources: [],
  };
  return new ContainerManager(new DriverRegistry(config), new StateStore(stateRoot), silentLogger);
}

export function testId(): string {
  return `t-docker-${crypto.randomBytes(4).toString('hex')}`;
}
