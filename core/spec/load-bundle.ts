import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from './oci-spec';
import { validateSpec } from './validate-spec';
import { BerthError } from '../errors/berth-error';

export interface Bundle {
  /** Absolute bundle folder. */
  dir: string;
  /** The validated spec with `root.path` made absolute. */
  spec: Spec;
}

/** Read and validate `<dir>/config.json`; the rootfs must exist and be a folder. */
export function loadBundle(dir: string): Bundle {
  const abs = path.resolve(dir);
  const configPath = path.join(abs, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new BerthError('BUNDLE_INVALID', `${configPath}: cannot read: ${reason}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BerthError('SPEC_INVALID', `${configPath}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const spec = validateSpec(raw, configPath);
  return { dir: abs, spec: withAbsoluteRoot(spec, abs) };
}

/** Resolve `root.path` against the bundle and check that the rootfs is a folder. */
export function withAbsoluteRoot(spec: Spec, bundleDir: string): Spec {
  if (!spec.root) return spec;
  const rootPath = path.resolve(bundleDir, spec.root.path);
  assertRootfs(rootPath);
  return { ...spec, root: { ...spec.root, path: rootPath } };
}

export function assertRootfs(rootPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(rootPath);
  } catch {
    throw new BerthError('BUNDLE_INVALID', `root.path: rootfs "${rootPath}" does not exist`);
  }
  if (!stat.isDirectory()) throw new BerthError('BUNDLE_INVALID', `root.path: rootfs "${rootPath}" is not a directory`);
}
