import * as fs from 'node:fs';
import type { Readable } from 'node:stream';

/**
 * Docker's multiplexed stream (attach, exec and logs without a tty): frames of an 8-byte header
 * (stream 0 stdin / 1 stdout / 2 stderr, three zero bytes, big-endian payload length) and the payload.
 * Each payload goes to its own file descriptor, in order, so stdout and stderr stay apart.
 */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly fds: { stdout: number; stderr: number }) {}

  /** Feed bytes as they arrive; frames may be split across chunks. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0];
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      const fd = type === 2 ? this.fds.stderr : this.fds.stdout;
      this.writing = this.writing.then(() => writeAll(fd, payload));
    }
  }

  /** Resolves when every complete frame pushed so far has been written. */
  flushed(): Promise<void> {
    return this.writing;
  }
}

/** Demultiplex a whole stream to the fds; resolves once it ended and everything is written. */
export function pumpFrames(stream: Readable, fds: { stdout: number; stderr: number }): Promise<void> {
  const demux = new FrameDemuxer(fds);
  return new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => demux.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => resolve());
    stream.on('end', () => resolve());
  }).then(() => demux.flushed());
}

/** Write the whole buffer to a (possibly non-blocking) fd, retrying on EAGAIN. */
export async function writeAll(fd: number, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') await new Promise((r) => setTimeout(r, 2));
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}

/**
 * With a terminal Docker does not multiplex: the stream is the pty's raw output (stdout and stderr
 * already merged by the terminal). Copy it to one fd; resolves once it ended and is written.
 */
export function pumpRaw(stream: Readable, fd: number): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      writing = writing.then(() => writeAll(fd, chunk));
    });
    stream.on('error', reject);
    stream.on('close', () => resolve());
    stream.on('end', () => resolve());
  }).then(() => writing);
}

/** Demultiplexed frames, or the raw stream of a terminal. */
export function pumpOutput(stream: Readable, fds: { stdout: number; stderr: number }, tty: boolean): Promise<void> {
  return tty ? pumpRaw(stream, fds.stdout) : pumpFrames(stream, fds);
}
