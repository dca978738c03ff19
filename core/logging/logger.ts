import * as fs from 'node:fs';

export const Logger = Symbol.for('berth.Logger');

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'text' | 'json';
  /** A file to append to (runc's --log); stderr when absent. */
  file?: string;
}

/** Writes one line per entry to stderr or a file; JSON lines with `--log-format json`, as runc does. */
export class LineLogger implements Logger {
  private readonly fd: number;

  constructor(private readonly options: LoggerOptions) {
    this.fd = options.file ? fs.openSync(options.file, 'a') : 2;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.options.level]) return;
    const line =
      this.options.format === 'json'
        ? JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields })
        : `berth ${level}: ${msg}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`;
    fs.writeSync(this.fd, `${line}\n`);
  }
}

/** A logger that drops everything: for library use and tests. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
