import type { Feature } from '../driver/features';
import type { Spec } from '../spec/oci-spec';
import type { ContainerManager } from '../runtime/container-manager';
import type { ExecutionDriver } from '../driver/execution-driver';

/** Facts a case may need: a scratch folder on the host, the host's own namespace ids. */
export interface CaseEnv {
  /** A host folder private to this case run, removed afterwards. */
  scratch: string;
  /** `readlink /proc/self/ns/<type>` of the test process, for namespace cases. */
  hostNamespace(type: string): string;
}

export interface CaseOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What a process case expects; a function gets the whole output and returns an error text or undefined. */
export interface CaseExpectation {
  exitCode?: number;
  stdout?: string | RegExp;
  stderr?: string | RegExp;
  check?: (out: CaseOutput, env: CaseEnv) => string | undefined;
}

/** Tools an operation case gets: a manager, the driver, a spec builder, output capture. */
export interface OperationHarness {
  manager: ContainerManager;
  driver: ExecutionDriver;
  env: CaseEnv;
  /** A fresh id for a container of this case (cleaned up by the runner). */
  newId(): string;
  /** The base spec for this driver running `args`. */
  spec(args: string[]): Spec;
  /** Create + start detached (`log` stdio) and return the id. */
  startDetached(args: string[], mutate?: (spec: Spec) => void): Promise<string>;
}

interface CaseBase {
  /** Stable id, e.g. `process.env` or `op.exec`. */
  id: string;
  title: string;
  /** Features this case verifies: on a driver that lacks one, the case expects a clear refusal. */
  features: Feature[];
}

/** Runs a process in a container built from the base spec plus `mutate`, and checks its output. */
export interface ProcessCase extends CaseBase {
  kind: 'process';
  args: string[];
  mutate?: (spec: Spec, env: CaseEnv) => void;
  expect: CaseExpectation;
}

/** Exercises an operation (exec, pause, stats...) through the manager; throws on a wrong result. */
export interface OperationCase extends CaseBase {
  kind: 'operation';
  run: (h: OperationHarness) => Promise<void>;
}

export type ConformanceCase = ProcessCase | OperationCase;

export type CaseOutcome = 'honoured' | 'refused' | 'failed';

export interface CaseResult {
  driver: string;
  caseId: string;
  title: string;
  outcome: CaseOutcome;
  /** Why it failed, or the refusal's message. */
  detail?: string;
  durationMs: number;
}
