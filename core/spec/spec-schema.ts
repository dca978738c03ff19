/**
 * The structural schema of config.json (OCI runtime-spec 1.2, Linux), written with zod.
 * Unknown properties are accepted and dropped, as the runtime-spec requires of runtimes; semantic
 * rules (names, paths, cross-field checks) live in spec-rules.ts.
 */
import { z } from 'zod';
import { NAMESPACE_TYPES } from './oci-spec';

const uint32 = z.number().int().min(0).max(0xffffffff);
const int64 = z.number().int();
const uint64 = z.number().int().min(0);
const stringList = z.array(z.string());

const idMapping = z.object({ containerID: uint32, hostID: uint32, size: uint32 });

const mount = z.object({
  destination: z.string().min(1),
  type: z.string().optional(),
  source: z.string().optional(),
  options: stringList.optional(),
  uidMappings: z.array(idMapping).optional(),
  gidMappings: z.array(idMapping).optional(),
});

const user = z.object({
  uid: uint32,
  gid: uint32,
  umask: uint32.optional(),
  additionalGids: z.array(uint32).optional(),
  username: z.string().optional(),
});

const capabilities = z.object({
  bounding: stringList.optional(),
  effective: stringList.optional(),
  inheritable: stringList.optional(),
  permitted: stringList.optional(),
  ambient: stringList.optional(),
});

const rlimit = z.object({ type: z.string(), hard: uint64, soft: uint64 });

const processSchema = z.object({
  terminal: z.boolean().optional(),
  consoleSize: z.object({ height: uint32, width: uint32 }).optional(),
  user,
  args: stringList.optional(),
  commandLine: z.string().optional(),
  env: stringList.optional(),
  cwd: z.string(),
  capabilities: capabilities.optional(),
  rlimits: z.array(rlimit).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  scheduler: z
    .object({
      policy: z.string(),
      nice: z.number().int().optional(),
      priority: z.number().int().optional(),
      flags: stringList.optional(),
      runtime: uint64.optional(),
      deadline: uint64.optional(),
      period: uint64.optional(),
    })
    .optional(),
  selinuxLabel: z.string().optional(),
  ioPriority: z
    .object({ class: z.enum(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']), priority: z.number().int() })
    .optional(),
  execCPUAffinity: z.object({ initial: z.string().optional(), final: z.string().optional() }).optional(),
});

const hook = z.object({
  path: z.string().min(1),
  args: stringList.optional(),
  env: stringList.optional(),
  timeout: z.number().int().min(1).optional(),
});
const hookList = z.array(hook).optional();

const hooks = z.object({
  prestart: hookList,
  createRuntime: hookList,
  createContainer: hookList,
  startContainer: hookList,
  poststart: hookList,
  poststop: hookList,
});

const seccompAction = z.enum([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);

const seccomp = z.object({
  defaultAction: seccompAction,
  defaultErrnoRet: uint32.optional(),
  architectures: stringList.optional(),
  flags: stringList.optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z
    .array(
      z.object({
        names: z.array(z.string()).min(1),
        action: seccompAction,
        errnoRet: uint32.optional(),
        args: z
          .array(
            z.object({
              index: z.number().int().min(0).max(5),
              value: uint64,
              valueTwo: uint64.optional(),
              op: z.enum([
                'SCMP_CMP_NE',
                'SCMP_CMP_LT',
                'SCMP_CMP_LE',
                'SCMP_CMP_EQ',
                'SCMP_CMP_GE',
                'SCMP_CMP_GT',
                'SCMP_CMP_MASKED_EQ',
              ]),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

const throttleDevice = z.object({ major: int64, minor: int64, rate: uint64 });

const resources = z.object({
  devices: z
    .array(
      z.object({
        allow: z.boolean(),
        type: z.enum(['a', 'c', 'b']).optional(),
        major: int64.optional(),
        minor: int64.optional(),
        access: z.string().regex(/^[rwm]*$/, 'access must be made of r, w and m').optional(),
      }),
    )
    .optional(),
  memory: z
    .object({
      limit: int64.optional(),
      reservation: int64.optional(),
      swap: int64.optional(),
      kernel: int64.optional(),
      kernelTCP: int64.optional(),
      swappiness: uint64.max(100).optional(),
      disableOOMKiller: z.boolean().optional(),
      useHierarchy: z.boolean().optional(),
      checkBeforeUpdate: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .object({
      shares: uint64.optional(),
      quota: int64.optional(),
      burst: uint64.optional(),
      period: uint64.optional(),
      realtimeRuntime: int64.optional(),
      realtimePeriod: uint64.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
      idle: int64.optional(),
    })
    .optional(),
  pids: z.object({ limit: int64 }).optional(),
  blockIO: z
    .object({
      weight: z.number().int().min(10).max(1000).optional(),
      leafWeight: z.number().int().min(10).max(1000).optional(),
      weightDevice: z
        .array(z.object({ major: int64, minor: int64, weight: uint32.optional(), leafWeight: uint32.optional() }))
        .optional(),
      throttleReadBpsDevice: z.array(throttleDevice).optional(),
      throttleWriteBpsDevice: z.array(throttleDevice).optional(),
      throttleReadIOPSDevice: z.array(throttleDevice).optional(),
      throttleWriteIOPSDevice: z.array(throttleDevice).optional(),
    })
    .optional(),
  hugepageLimits: z.array(z.object({ pageSize: z.string(), limit: uint64 })).optional(),
  network: z
    .object({
      classID: uint32.optional(),
      priorities: z.array(z.object({ name: z.string(), priority: uint32 })).optional(),
    })
    .optional(),
  rdma: z.record(z.string(), z.object({ hcaHandles: uint32.optional(), hcaObjects: uint32.optional() })).optional(),
  unified: z.record(z.string(), z.string()).optional(),
});

const linux = z.object({
  namespaces: z
    .array(z.object({ type: z.enum(NAMESPACE_TYPES as [string, ...string[]]), path: z.string().optional() }))
    .optional(),
  uidMappings: z.array(idMapping).optional(),
  gidMappings: z.array(idMapping).optional(),
  timeOffsets: z.record(z.string(), z.object({ secs: int64.optional(), nanosecs: uint32.optional() })).optional(),
  devices: z
    .array(
      z.object({
        type: z.enum(['c', 'b', 'u', 'p']),
        path: z.string(),
        major: int64.optional(),
        minor: int64.optional(),
        fileMode: uint32.optional(),
        uid: uint32.optional(),
        gid: uint32.optional(),
      }),
    )
    .optional(),
  cgroupsPath: z.string().optional(),
  resources: resources.optional(),
  rootfsPropagation: z.enum(['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable']).optional(),
  seccomp: seccomp.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
  maskedPaths: stringList.optional(),
  readonlyPaths: stringList.optional(),
  mountLabel: z.string().optional(),
  intelRdt: z
    .object({
      closID: z.string().optional(),
      l3CacheSchema: z.string().optional(),
      memBwSchema: z.string().optional(),
      enableCMT: z.boolean().optional(),
      enableMBM: z.boolean().optional(),
    })
    .optional(),
  personality: z.object({ domain: z.enum(['LINUX', 'LINUX32']), flags: stringList.optional() }).optional(),
});

export const specSchema = z.object({
  ociVersion: z.string(),
  root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }).optional(),
  mounts: z.array(mount).optional(),
  process: processSchema.optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  hooks: hooks.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  linux: linux.optional(),
});
