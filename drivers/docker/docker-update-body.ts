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

/** linux.resources of `berth update` -> the update body: pure translation; limits Docker cannot change live are refused. */
export function dockerUpdateBody(resources: Resources): Partial<DockerHostConfig> {
  const body = resourceConfig(resources, 'linux.resources');
  for (const key of Object.keys(body)) {
    if (!UPDATABLE.has(key)) {
      throw new DockerRefusalError(`linux.resources.${FIELD_OF[key] ?? key}`, 'Docker cannot change this limit on a live container');
    }
  }
  return body;
}
