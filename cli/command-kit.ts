import type { ArgumentsCamelCase, Argv } from 'yargs';
import { CliContext, type GlobalOptions } from './cli-context';
import { errorLine, exitCodeFor } from './exit-codes';
import { BerthError } from '../core/errors/berth-error';

export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  config?: string;
  driver?: string;
  '--'?: (string | number)[];
}

export function contextFrom(argv: GlobalArgs): CliContext {
  const globals: GlobalOptions = {
    root: argv.root,
    ...(argv.log ? { log: argv.log } : {}),
    logFormat: argv.logFormat,
    debug: argv.debug,
    ...(argv.config ? { config: argv.config } : {}),
    ...(argv.driver ? { driver: argv.driver } : {}),
  };
  return new CliContext(globals);
}

/**
 * Wrap a handler: the handler returns the exit code (or nothing for 0); an error becomes one line
 * on stderr (with the stack under --debug) and the runc/docker exit code.
 */
export function action<A extends GlobalArgs>(runLike: boolean, fn: (argv: ArgumentsCamelCase<A>, ctx: CliContext) => Promise<number | void>) {
  return async (argv: ArgumentsCamelCase<A>): Promise<void> => {
    let ctx: CliContext | undefined;
    try {
      ctx = contextFrom(argv);
      const code = await fn(argv, ctx);
      process.exitCode = code ?? 0;
    } catch (err) {
      process.stderr.write(`${errorLine(err)}\n`);
      if (argv.debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = exitCodeFor(err, runLike);
    }
  };
}

/** The command after `--` (or positional words), as strings. */
export function commandWords(argv: GlobalArgs & { command?: (string | number)[] }): string[] {
  const words = [...(argv.command ?? []), ...(argv['--'] ?? [])];
  return words.map(String);
}

export function parseSignal(text: string | undefined): NodeJS.Signals {
  const raw = (text ?? 'SIGTERM').toUpperCase();
  const table = (require('node:os') as typeof import('node:os')).constants.signals;
  if (/^\d+$/.test(raw)) {
    const name = (Object.keys(table) as NodeJS.Signals[]).find((k) => table[k] === Number(raw));
    if (name) return name;
  } else {
    const name = (raw.startsWith('SIG') ? raw : `SIG${raw}`) as NodeJS.Signals;
    if (name in table) return name;
  }
  throw new BerthError('INVALID_ARGUMENT', `unknown signal "${text}"`);
}


export type { Argv };
