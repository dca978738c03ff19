import { BerthError } from './berth-error';

/** A lifecycle operation (exec, pause, update...) that the driver does not implement. */
export class OperationNotSupportedError extends BerthError {
  readonly driver: string;
  readonly operation: string;

  constructor(driver: string, operation: string, reason?: string) {
    super('OPERATION_NOT_SUPPORTED', `${operation}: not supported by driver "${driver}"${reason ? `: ${reason}` : ''}`);
    this.driver = driver;
    this.operation = operation;
  }
}
