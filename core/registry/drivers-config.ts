import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { JsonValue } from '../driver/execution-driver';
import { BerthError } from '../errors/berth-error';
import { jsonPath } from '../spec/validate-spec';

export const DriversConfig = Symbol.for('berth.DriversConfig');

export interface DriverEntry {
  /** A path (relative to the file that names it, or absolute) or an npm package name. */
  module: string;
  options: Record<string, JsonValue>;
  /** Folder against which a relative `module` resolves. */
  baseDir: string;
}

export interface HostRule {
  /** Glob on the host name: `*` and `?`. */
  hostname: string;
  driver: string;
}

export interface DriversConfig {
  drivers: Record<string, DriverEntry>;
  preference: string[];
  hosts: HostRule[];
  /** Files read, in order of precedence (last wins). */
  sources: string[];
}

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

const fileSchema = z.object({
  $comment: z.string().optional(),
  preference: z.array(z.string()).optional(),
  hosts: z.array(z.object({ hostname: z.string().min(1), driver: z.string().min(1) })).optional(),
  drivers: z
    .record(
      z.string(),
      z.object({ module: z.string().min(1), options: z.record(z.string(), jsonValue).optional() }),
    )
    .optional(),
});

function readConfigFile(file: string): z.infer<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BerthError('DRIVERS_CONFIG_INVALID', `${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new BerthError('DRIVERS_CONFIG_INVALID', `${file}: ${jsonPath(i.path)}: ${i.message}`);
  }
  return parsed.data;
}

/**
 * Read the repo's drivers.json, then each override in order (a user's file wins): driver entries
 * merge by name; `preference` and `hosts` are replaced when an override gives them.
 */
export function loadDriversConfig(files: readonly string[]): DriversConfig {
  const config: DriversConfig = { drivers: {}, preference: [], hosts: [], sources: [] };
  for (const file of files) {
    const abs = path.resolve(file);
    const data = readConfigFile(abs);
    const baseDir = path.dirname(abs);
    for (const [name, entry] of Object.entries(data.drivers ?? {})) {
      if (!/^[a-z][a-z0-9-]*$/.test(name)) {
        throw new BerthError('DRIVERS_CONFIG_INVALID', `${abs}: drivers.${name}: driver names are lower-case letters, digits and -`);
      }
      config.drivers[name] = { module: entry.module, options: entry.options ?? {}, baseDir };
    }
    if (data.preference) config.preference = data.preference;
    if (data.hosts) config.hosts = data.hosts;
    config.sources.push(abs);
  }
  for (const name of config.preference) {
    if (!config.drivers[name]) throw new BerthError('DRIVERS_CONFIG_INVALID', `preference names "${name}", which no drivers entry defines`);
  }
  for (const rule of config.hosts) {
    if (!config.drivers[rule.driver]) {
      throw new BerthError('DRIVERS_CONFIG_INVALID', `host rule "${rule.hostname}" names "${rule.driver}", which no drivers entry defines`);
    }
  }
  return config;
}

/**
 * The files to read: the built-in drivers.json, then the user's own file when one exists:
 * `--config`, else `BERTH_CONFIG`, else `/etc/berth/drivers.json`. An explicitly named file must exist.
 */
export function configFiles(builtin: string, explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const named = explicit ?? env.BERTH_CONFIG;
  if (named) {
    if (!fs.existsSync(named)) throw new BerthError('DRIVERS_CONFIG_INVALID', `${named}: no such drivers config file`);
    return [builtin, named];
  }
  const system = '/etc/berth/drivers.json';
  return fs.existsSync(system) ? [builtin, system] : [builtin];
}
