import { BerthError } from '../../errors/berth-error';
import type { CniCommand } from './cni-types';
import type { JsonValue } from '../../driver/execution-driver';

/** The error document a CNI plugin prints on stdout when it fails (CNI spec "Error"). */
export interface CniErrorDocument {
  cniVersion?: string;
  /** 1-99 are the spec's well-known codes (see CNI_ERROR_CODES); 100+ are the plugin's own. */
  code: number;
  msg: string;
  details?: string;
}

/** The CNI spec's well-known error codes. */
export const CNI_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
  50: 'the plugin is not available',
  51: 'the plugin is not available, and a retry later will not help',
};

/**
 * One CNI plugin invocation that failed: the plugin, command and attachment it was run for, its
 * error document (code, msg, details) when it printed one, its exit code and its stderr.
 */
export class CniPluginError extends BerthError {
  readonly plugin: string;
  readonly command: CniCommand;
  readonly containerId: string;
  readonly cniCode: number | undefined;
  readonly cniMsg: string;
  readonly details: string | undefined;
  readonly exitCode: number | null;
  readonly stderr: string;
  /** Further errors of the same operation: the rollback (DEL) after a failed ADD, or the other plugins of a failed DEL. */
  readonly relatedErrors: Error[];

  constructor(init: {
    plugin: string;
    command: CniCommand;
    containerId: string;
    document?: CniErrorDocument;
    exitCode: number | null;
    stderr: string;
    fallbackMessage?: string;
    relatedErrors?: Error[];
  }) {
    const doc = init.document;
    const what = doc
      ? `${doc.msg}${doc.details ? `: ${doc.details}` : ''} (CNI error ${doc.code}${CNI_ERROR_CODES[doc.code] ? `, ${CNI_ERROR_CODES[doc.code]}` : ''})`
      : (init.fallbackMessage ?? (init.stderr.trim().split('\n').pop() || `exit ${init.exitCode}`));
    super('NETWORK_PLUGIN_FAILED', `CNI plugin ${init.plugin} ${init.command} for ${init.containerId} failed: ${what}`);
    this.plugin = init.plugin;
    this.command = init.command;
    this.containerId = init.containerId;
    this.cniCode = doc?.code;
    this.cniMsg = doc?.msg ?? what;
    this.details = doc?.details;
    this.exitCode = init.exitCode;
    this.stderr = init.stderr;
    this.relatedErrors = [...(init.relatedErrors ?? [])];
  }

  toJSON(): { [key: string]: JsonValue } {
    return {
      plugin: this.plugin,
      command: this.command,
      containerId: this.containerId,
      code: this.cniCode ?? null,
      msg: this.cniMsg,
      details: this.details ?? null,
      exitCode: this.exitCode,
    };
  }
}

/** Read an error document from a failed plugin's stdout, if it printed one. */
export function parseCniErrorDocument(stdout: string): CniErrorDocument | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.code !== 'number' || typeof r.msg !== 'string') return undefined;
  return {
    code: r.code,
    msg: r.msg,
    ...(typeof r.details === 'string' && r.details !== '' ? { details: r.details } : {}),
    ...(typeof r.cniVersion === 'string' ? { cniVersion: r.cniVersion } : {}),
  };
}
