/**
 * A foreground container's stdio: attach before start (as `docker run` does, so no output is lost),
 * demultiplex to the caller's fds, copy the caller's stdin in.
 *
 * The attach stream lives in the process that created the container (the CLI's `run`) and ends with
 * it. It is transient I/O, not state: any other process manages the container from the handle alone,
 * and the output stays in Docker's log either way.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { pumpOutput } from './stream-demux';

export interface ForegroundAttachment {
  /** Keep this process alive until the stream ends (create leaves it unreferenced). */
  hold(): void;
  /** After the container exited: wait (up to `timeoutMs`) until its output is written, stop reading stdin. */
  finish(timeoutMs: number): Promise<void>;
  /** The container is being deleted: drop the stream now. */
  abort(): void;
}

const attachments = new Map<string, ForegroundAttachment>();

/** The attachment this process holds for a container, if it created it in the foreground. */
export function foregroundAttachment(containerId: string): ForegroundAttachment | undefined {
  return attachments.get(containerId);
}

export async function attachBeforeStart(container: Docker.Container, stdio: { stdin: number | null; stdout: number; stderr: number }, terminal: boolean): Promise<void> {
  const withStdin = stdio.stdin !== null;
  const stream = (await container.attach({ stream: true, stdout: true, stderr: true, stdin: withStdin, hijack: withStdin })) as Duplex & { socket?: Socket };
  const socket = (stream.socket ?? stream) as Partial<Socket>;
  const done = pumpOutput(stream, stdio, terminal);
  done.catch(() => undefined);
  const stopInput = stdio.stdin !== null ? feedStdin(stdio.stdin, stream) : () => {};
  // Do not hold a `create`-only process open (`berth create --inherit-stdio`); wait() holds it again.
  socket.unref?.();
  const forget = () => {
    stopInput();
    attachments.delete(container.id);
  };
  attachments.set(container.id, {
    hold: () => socket.ref?.(),
    finish: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([done.catch(() => undefined), timeout]);
      clearTimeout(timer);
      forget();
    },
    abort: () => {
      forget();
      stream.destroy();
    },
  });
}

/**
 * Copy the caller's stdin into the container, then half-close so the process sees end of file.
 * Returns a stop function for when the container is gone first: a terminal or a pipe is read as a
 * libuv stream (a pending read on a file stream would hold the process open until the next key).
 */
export function feedStdin(fd: number, stream: Duplex): () => void {
  let input: Readable;
  if (fs.fstatSync(fd).isFile()) input = fs.createReadStream('', { fd, autoClose: false });
  else if (tty.isatty(fd)) input = new tty.ReadStream(fd);
  else input = new net.Socket({ fd, readable: true, writable: false });
  input.on('error', () => stream.end());
  input.pipe(stream, { end: true });
  return () => {
    // Pause (and unref a socket) rather than destroy: destroying would close the caller's fd.
    input.unpipe(stream);
    input.pause();
    if (input instanceof net.Socket) input.unref();
  };
}
