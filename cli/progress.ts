/**
 * A progress indicator on stderr for work that may take more than a second: a spinner line shown
 * only on a terminal and only after `delayMs`, so quick work and scripts see nothing.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private shown = false;
  private text: string;

  constructor(text: string, private readonly delayMs = 700) {
    this.text = text;
  }

  start(): this {
    if (!process.stderr.isTTY) return this;
    this.timer = setTimeout(() => {
      this.shown = true;
      this.timer = setInterval(() => this.draw(), 100);
      this.draw();
    }, this.delayMs);
    return this;
  }

  update(text: string): void {
    this.text = text;
    if (this.shown) this.draw();
  }

  stop(finalLine?: string): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.shown) process.stderr.write('\r\x1b[2K');
    if (finalLine && process.stderr.isTTY) process.stderr.write(`${finalLine}\n`);
  }

  private draw(): void {
    const frames = '|/-\\';
    process.stderr.write(`\r\x1b[2K${frames[this.frame++ % frames.length]} ${this.text}`);
  }
}

/** Run `fn` with a progress line. */
export async function withProgress<T>(text: string, fn: (p: Progress) => Promise<T>): Promise<T> {
  const p = new Progress(text).start();
  try {
    return await fn(p);
  } finally {
    p.stop();
  }
}

/** A progress bar on stderr (`[#####.....] 45/100 text`), redrawn in place on a terminal, silent otherwise. */
export class ProgressBar {
  private done = 0;
  private lastDraw = 0;

  constructor(private readonly total: number, private label: string) {}

  tick(label?: string): void {
    this.done += 1;
    if (label) this.label = label;
    const now = Date.now();
    if (process.stderr.isTTY && (now - this.lastDraw > 80 || this.done === this.total)) {
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round((this.done / Math.max(1, this.total)) * width);
      process.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${this.label}`);
    }
  }

  finish(): void {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  }
}
