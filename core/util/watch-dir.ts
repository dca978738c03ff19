/**
 * Waiting on a driver's state files without a tight poll: inotify (fs.watch) on the state folder
 * runs the check as soon as a supervisor or helper writes there, and a slower timer runs it for
 * what no file event announces (a process's exec, a supervisor that died without writing). On a
 * loaded 2-core host a 1 ms poll took CPU time from the container's own set-up.
 */
import * as fs from 'node:fs';

export interface WatchOptions {
  /** Give up (reject) after this long; Infinity: never. */
  timeoutMs: number;
  /** What is awaited, for the timeout message. */
  what: string;
  /** Re-check this often (ms) besides the file events; a function is asked again after every check. */
  pollMs: number | (() => number);
}

/**
 * Resolve with the first value `check` returns. It runs at once, after a burst of events in `dir`
 * (once per burst: a file's creation and its write arrive together), and every pollMs.
 */
export function watchUntil<T>(dir: string, check: () => T | undefined, options: WatchOptions): Promise<T> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise<T>((resolve, reject) => {
    let watcher: fs.FSWatcher | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      watcher?.close();
      fn();
    };
    const run = (): void => {
      if (done) return;
      try {
        const value = check();
        if (value !== undefined) finish(() => resolve(value));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    let pending = false;
    const onEvent = (): void => {
      if (pending || done) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        run();
      });
    };
    const tick = (): void => {
      run();
      if (!done) arm();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(tick, typeof options.pollMs === 'number' ? options.pollMs : options.pollMs());
    };
    arm();
    const deadline = Number.isFinite(options.timeoutMs)
      ? setTimeout(() => finish(() => reject(new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`))), options.timeoutMs)
      : undefined;
    try {
      watcher = fs.watch(dir, { persistent: true }, onEvent);
      watcher.on('error', () => undefined); // the folder went (delete): the timer still checks
    } catch {
      /* no inotify: the timer alone */
    }
    run(); // a write between the first check and the watch
  });
}
