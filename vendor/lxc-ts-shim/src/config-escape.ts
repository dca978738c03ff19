/**
 * Escaping for LXC's config format. A config line is `key = value`; LXC trims blanks around the value
 * and strips one pair of surrounding quotes (`"..."` or `'...'`), and has no escape for a newline.
 * Mount entries are fstab lines, where a blank inside a field is written as an octal escape.
 */
import { LxcConfigError } from './lxc-error';

/** A value safe to write after `key = `: refuses line breaks and NUL, protects blanks and quotes at the ends. */
export function configValue(key: string, value: string): string {
  if (/[\n\r\0]/.test(value)) throw new LxcConfigError(key, `value ${JSON.stringify(value)} contains a line break or NUL, which an LXC config cannot hold`);
  const quoted = value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0];
  if (quoted || /^\s|\s$/.test(value)) return `"${value}"`;
  return value;
}

/** One fstab field: blank, tab, newline and backslash become octal escapes (getmntent decodes them). */
export function fstabField(key: string, value: string): string {
  if (value.length === 0) throw new LxcConfigError(key, 'an empty mount field');
  if (value.includes('\0')) throw new LxcConfigError(key, 'NUL in a mount field');
  return value.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** A mount option may not contain a comma (the separator) or blanks. */
export function mountOption(key: string, option: string): string {
  if (option.length === 0 || /[,\s\0]/.test(option)) throw new LxcConfigError(key, `mount option ${JSON.stringify(option)} cannot be written (comma, blank or empty)`);
  return option;
}

const SHELL_SAFE = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * A hook command: LXC hands the value to `/bin/sh -c` (adding name, section and hook type), so each
 * word is backslash-escaped. The value must not begin and end with a quote (LXC would strip them),
 * which backslash escaping never produces.
 */
export function hookCommand(key: string, argv: readonly string[]): string {
  if (argv.length === 0) throw new LxcConfigError(key, 'empty hook command');
  return argv
    .map((word) => {
      if (/[\n\r\0]/.test(word)) throw new LxcConfigError(key, `hook argument ${JSON.stringify(word)} contains a line break or NUL`);
      if (word === '') return "''";
      return SHELL_SAFE.test(word) ? word : word.replace(/[^A-Za-z0-9_./:@%+=,-]/g, (c) => `\\${c}`);
    })
    .join(' ');
}
