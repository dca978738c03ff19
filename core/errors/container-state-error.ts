import { BerthError } from './berth-error';
import type { OciStatus } from '../spec/oci-spec';

/** An operation asked of a container in a status that does not allow it (runc's ErrRunning...). */
export class ContainerStateError extends BerthError {
  readonly id: string;
  readonly status: OciStatus;

  constructor(id: string, status: OciStatus, operation: string, allowed: readonly OciStatus[]) {
    super('CONTAINER_STATE', `container "${id}" is ${status}: ${operation} needs ${allowed.join(' or ')}`);
    this.id = id;
    this.status = status;
  }
}
