import { DockerApi } from './docker-api';
import type { JsonValue } from '../../core';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/**
 * Which engine to talk to: drivers.json options `host` ("unix:///path" or "tcp://host:port") or
 * `socketPath`, else `DOCKER_HOST`, else the default unix socket. Returned as one `DOCKER_HOST`-style
 * string, which create records in the handle so later calls reach the same engine.
 */
export function resolveDockerHost(options: Readonly<Record<string, JsonValue>>, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof options.host === 'string' && options.host) return options.host;
  if (typeof options.socketPath === 'string' && options.socketPath) return `unix://${options.socketPath}`;
  return env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
}

/** A dockerode client for a `DOCKER_HOST`-style address. TLS settings come from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH when the address is DOCKER_HOST's own. */
export function dockerClient(dockerHost: string, env: NodeJS.ProcessEnv = process.env): DockerApi {
  if (dockerHost.startsWith('unix://')) return DockerApi.connect({ socketPath: dockerHost.slice('unix://'.length) });
  if (dockerHost === env.DOCKER_HOST) return DockerApi.connect();
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return DockerApi.connect({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
}
