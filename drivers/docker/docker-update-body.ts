import type { Resources } from '../../core';
import { resourceConfig, type DockerHostConfig } from './docker-create-body';
import { DockerRefusalError } from './docker-refusal-error';

/** Limits that `POST /containers/{id}/update` accepts (moby api/types/container.Resources, update path). */
const UPDATABLE = new Set(['Memory', 'MemoryReservation', 'MemorySwap', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit']);

const FIELD_OF: Record<string, string> = {
  MemorySwappiness: 'memory.swappiness',
  OomKillDisable: 'memory.disableOOMKiller',
  DeviceCgroupRules: 'devices',
};

/**
 * linux.resources of `berth update` -> the update body: pure translation; limits Docker cannot change
 * live are refused. Docker refuses a new memory limit without a memory+swap limit, so an unchanged
 * swap limit is restated from `current` (the container's resources so far; none set = -1, unlimited).
 */
export function dockerUpdateBody(resources: Resources, current: Resources = {}): Partial<DockerHostConfig> {
  const body = resourceConfig(resources, 'linux.resources');
  if (body.Memory !== undefined && body.MemorySwap === undefined) body.MemorySwap = current.memory?.swap ?? -1;
  for (const key of Object.keys(body)) {
    if (!UPDATABLE.has(key)) {
      throw new DockerRefusalError(`linux.resources.${FIELD_OF[key] ?? key}`, 'Docker cannot change this limit on a live container');
    }
  }
  return body;
}
