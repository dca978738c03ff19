import type { DriverHandle } from '../driver/execution-driver';

/** What berth keeps about one container, in `<root>/<id>/record.json`. */
export interface ContainerRecord {
  version: 1;
  id: string;
  /** The driver that created it: every later command goes to this driver. */
  driver: string;
  bundle: string;
  /** ISO time of creation. */
  created: string;
  /** `creating` until the driver's create returned; then `created`. Live status comes from the driver. */
  phase: 'creating' | 'created';
  /** The driver's opaque handle, once create returned. */
  handle?: DriverHandle;
  /** Whether output goes to the driver's log (detached) or to the caller's fds. */
  stdio: 'log' | 'fds';
  annotations?: Record<string, string>;
}
