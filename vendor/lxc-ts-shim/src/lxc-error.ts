/** Errors of the shim: a stable code, and for a failed tool its argv, exit code and LXC's own message. */
export type LxcErrorCode = 'LXC_CONFIG_INVALID' | 'LXC_COMMAND_FAILED' | 'LXC_TOOL_MISSING';

export class LxcError extends Error {
  readonly code: LxcErrorCode;

  constructor(code: LxcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A config value the renderer refuses (newline, NUL, unsafe hook path...); `key` names the option. */
export class LxcConfigError extends LxcError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('LXC_CONFIG_INVALID', `${key}: ${message}`);
    this.key = key;
  }
}

/** An LXC tool that exited non-zero (or could not run); `lxcMessage` is LXC's own last error line. */
export class LxcCommandError extends LxcError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly lxcMessage: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string) {
    const lxcMessage = lastLxcMessage(stderr) ?? (exitCode === null ? 'could not run' : `exit ${exitCode}`);
    super(exitCode === null ? 'LXC_TOOL_MISSING' : 'LXC_COMMAND_FAILED', `${argv[0] ?? 'lxc'}: ${lxcMessage}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.lxcMessage = lxcMessage;
  }
}

/**
 * LXC prints `lxc-start: NAME: ../src/lxc/file.c: function: LINE MESSAGE` (or, in log files,
 * `lxc-start NAME 2026... ERROR    file - path:function:LINE - MESSAGE`). Returns the MESSAGE of the
 * most useful line: the first ERROR one (the cause; later lines repeat it as "failed to start").
 */
export function lastLxcMessage(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const messages = lines.map(parseLxcLine).filter((m): m is string => m !== undefined);
  if (messages.length > 0) return messages[0];
  return lines.pop();
}

function parseLxcLine(line: string): string | undefined {
  const tool = /^lxc-[a-z-]+: [^:]+: [^:]+\.c: [A-Za-z0-9_]+: \d+ (.*)$/.exec(line);
  if (tool) return tool[1];
  const log = /^lxc-[a-z-]+ \S+ \d+\.\d+ (?:ERROR|FATAL|CRIT|ALERT)\s+\S+ - [^ ]+:\d+ - (.*)$/.exec(line);
  if (log) return log[1];
  return undefined;
}
