import type {
  ContainerRef,
  ContainerStats,
  DriverHandle,
  ExecRequest,
  ExitResult,
  LogsRequest,
} from './execution-driver';
import type { Resources } from '../spec/oci-spec';
import { OperationNotSupportedError } from '../errors/operation-not-supported-error';

/**
 * Optional operations, each refusing with OperationNotSupportedError. A driver extends this and
 * overrides what it implements (and declares the matching `op.*` feature).
 */
export abstract class BaseDriver {
  abstract readonly name: string;

  exec(_ref: ContainerRef, _request: ExecRequest): Promise<ExitResult> {
    return this.refuse('exec');
  }
  pause(_ref: ContainerRef): Promise<void> {
    return this.refuse('pause');
  }
  resume(_ref: ContainerRef): Promise<void> {
    return this.refuse('resume');
  }
  stats(_ref: ContainerRef): Promise<ContainerStats> {
    return this.refuse('stats');
  }
  update(_ref: ContainerRef, _resources: Resources): Promise<void> {
    return this.refuse('update');
  }
  logs(_ref: ContainerRef, _request: LogsRequest): Promise<void> {
    return this.refuse('logs');
  }
  recover(ref: ContainerRef): Promise<DriverHandle> {
    return Promise.resolve(ref.handle);
  }

  protected refuse(operation: string): Promise<never> {
    return Promise.reject(new OperationNotSupportedError(this.name, operation));
  }
}
