import type { Spec } from './oci-spec';
import { specSchema } from './spec-schema';
import { checkSpecRules } from './spec-rules';
import { SpecInvalidError, type SpecIssue } from '../errors/spec-invalid-error';

/** `["process", "capabilities", "bounding", 3]` -> `process.capabilities.bounding[3]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(root)';
}

/** Schema then semantic rules; returns the typed spec or throws SpecInvalidError naming each field. */
export function validateSpec(input: unknown, source?: string): Spec {
  const parsed = specSchema.safeParse(input);
  if (!parsed.success) {
    const issues: SpecIssue[] = parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message }));
    throw new SpecInvalidError(issues, source);
  }
  const spec = parsed.data as Spec;
  const issues = checkSpecRules(spec);
  if (issues.length > 0) throw new SpecInvalidError(issues, source);
  return spec;
}
