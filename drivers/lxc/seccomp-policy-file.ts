/**
 * The seccomp policy files LXC reads (`lxc.seccomp.profile`): one per distinct policy, shared by the
 * containers of an lxcpath, at LXCPATH/.seccomp/SHA256.policy (named after its content, so never
 * stale, written once and atomically). Rendering the default profile and writing it for each
 * container cost about half a millisecond of every create.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Seccomp } from '../../core';
import { renderSeccompPolicy } from '../../vendor/lxc-ts-shim/src';
import { lxcSeccompPolicy } from './lxc-seccomp';

export interface SeccompPolicyText {
  text: string;
  /** The file's name below LXCPATH/.seccomp. */
  fileName: string;
}

const rendered = new Map<string, SeccompPolicyText>();
const RENDERED_KEPT = 8;

/**
 * The policy text for `seccomp` (translation and rendering may throw a refusal, never remembered),
 * remembered for the last few distinct sections: a process (a bench, a daemon) mostly creates many
 * containers with one profile.
 */
export function seccompPolicyText(seccomp: Seccomp): SeccompPolicyText {
  const key = JSON.stringify(seccomp);
  let policy = rendered.get(key);
  if (policy === undefined) {
    const text = renderSeccompPolicy(lxcSeccompPolicy(seccomp));
    policy = { text, fileName: `${crypto.createHash('sha256').update(text).digest('hex').slice(0, 32)}.policy` };
    if (rendered.size >= RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
    rendered.set(key, policy);
  }
  return policy;
}

/** Where LXC finds `policy` for containers of `lxcpath`. */
export function seccompPolicyPath(lxcpath: string, policy: SeccompPolicyText): string {
  return path.join(lxcpath, '.seccomp', policy.fileName);
}

/** Write the policy's file unless it is there (a temporary file renamed into place: never half a file). */
export function ensureSeccompPolicyFile(lxcpath: string, policy: SeccompPolicyText): void {
  const file = seccompPolicyPath(lxcpath, policy);
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, policy.text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
