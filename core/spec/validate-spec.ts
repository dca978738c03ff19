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

/**
 * Recently validated specs by their JSON text (most recent last). Validation is a pure function of
 * the spec's JSON form, and the same spec is often created many times in one process (replicas, a
 * bench, a supervisor restarting a container): a repeat costs a JSON.stringify and a copy instead of
 * the schema walk (0.3-1 ms for the default spec with its seccomp profile).
 */
const validated = new Map<string, Spec>();
const VALIDATED_KEPT = 16;

/**
 * Schema then semantic rules; returns the typed spec or throws SpecInvalidError naming each field.
 * What is validated is the spec's JSON form, which is what berth stores and drivers see (a value
 * JSON cannot hold, e.g. `undefined` or NaN, reads as JSON reads it: absent, or null).
 */
export function validateSpec(input: unknown, source?: string): Spec {
  let text: string | undefined;
  try {
    text = JSON.stringify(input);
  } catch {
    text = undefined; // cycles, BigInt: the schema says what is wrong
  }
  if (text === undefined) return validateFresh(input, source);
  const hit = validated.get(text);
  if (hit) {
    validated.delete(text);
    validated.set(text, hit);
    return structuredClone(hit);
  }
  const spec = validateFresh(JSON.parse(text), source);
  validated.set(text, structuredClone(spec));
  if (validated.size > VALIDATED_KEPT) validated.delete(validated.keys().next().value!);
  return spec;
}

function validateFresh(input: unknown, source?: string): Spec {
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
