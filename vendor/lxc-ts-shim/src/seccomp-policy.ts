/**
 * LXC's seccomp policy file, version 2 (`lxc.seccomp.profile`):
 *
 *   2
 *   allowlist errno 1        <- or `denylist`; an allowlist names its default action
 *   [all]                    <- rules for the native and the compat architectures
 *   mkdir errno 13
 *   personality allow [0,255,SCMP_CMP_MASKED_EQ,8]
 *
 * An argument condition is `[index,value,op,valueTwo]` (MASKED_EQ: value is the mask, valueTwo the
 * expected result); several conditions on one line must all hold; several lines for one syscall
 * are alternatives. LXC skips syscall names the architecture does not have.
 */
import { LxcConfigError } from './lxc-error';

export type LxcSeccompAction = 'allow' | 'kill' | 'trap' | 'log' | { errno: number };
export type LxcSeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface LxcSeccompRule {
  syscall: string;
  action: LxcSeccompAction;
  args?: { index: number; value: number; op: LxcSeccompOp; valueTwo?: number }[];
}

export interface LxcSeccompPolicy {
  /** `denylist`: everything not listed is allowed; `allowlist`: everything not listed gets `defaultAction`. */
  mode: 'allowlist' | 'denylist';
  defaultAction?: LxcSeccompAction;
  rules: LxcSeccompRule[];
}

function action(a: LxcSeccompAction, key: string): string {
  if (typeof a === 'string') return a;
  if (!Number.isInteger(a.errno) || a.errno < 0 || a.errno > 4095) throw new LxcConfigError(key, `errno ${a.errno} out of range`);
  return `errno ${a.errno}`;
}

export function renderSeccompPolicy(p: LxcSeccompPolicy): string {
  const header = p.mode === 'allowlist' ? `allowlist ${action(p.defaultAction ?? { errno: 1 }, 'seccomp.defaultAction')}` : 'denylist';
  const lines = ['2', header, '[all]'];
  for (const r of p.rules) {
    const key = `seccomp.${r.syscall}`;
    if (!/^[a-z0-9_]+$/.test(r.syscall)) throw new LxcConfigError(key, 'not a syscall name');
    if ((r.args ?? []).length > 6) throw new LxcConfigError(key, 'at most 6 argument conditions');
    const args = (r.args ?? []).map((c) => {
      if (!Number.isInteger(c.index) || c.index < 0 || c.index > 5) throw new LxcConfigError(key, `argument index ${c.index}`);
      return `[${c.index},${BigInt(c.value)},${c.op},${BigInt(c.valueTwo ?? 0)}]`;
    });
    lines.push([r.syscall, action(r.action, key), ...args].join(' '));
  }
  return `${lines.join('\n')}\n`;
}
