/** Annotations berth itself reads, where the OCI spec has no field of its own. */
export const BERTH_ANNOTATIONS = {
  /** `none`, `host`, `bridge` or `bridge:NAME`. */
  network: 'org.berth.network',
  /** JSON array of published ports: `[{"hostIp":"","hostPort":8080,"containerPort":80,"protocol":"tcp"}]`. */
  publish: 'org.berth.publish',
} as const;
