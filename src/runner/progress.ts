// Progress on long runs: one redrawn line on a terminal, an occasional plain line when piped, nothing with --quiet.
export interface ProgressState {
  done: number;
  total: number;
  errors: number;
  judgeFailures: number;
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastPlainPct = -1;
  private readonly tty: boolean;

  /** `spend` adds tokens and cost so far to each line. */
  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly quiet = false, private readonly spend?: () => string) {
    this.tty = Boolean(out.isTTY);
  }

  update(s: ProgressState, force = false): void {
    if (this.quiet || s.total === 0) return;
    const now = Date.now();
    const pct = Math.floor((s.done / s.total) * 100);
    if (this.tty) {
      if (!force && now - this.lastDraw < 100) return; // redrawing on every event costs more than the work
      this.lastDraw = now;
      this.out.write(`\r\x1b[2K${this.line(s, now)}`);
    } else {
      const step = Math.floor(pct / 10) * 10;
      if (!force && step === this.lastPlainPct) return;
      this.lastPlainPct = step;
      this.out.write(`${this.line(s, now)}\n`);
    }
  }

  finish(s: ProgressState): void {
    if (this.quiet) return;
    this.update(s, true);
    if (this.tty) this.out.write("\n");
  }

  private line(s: ProgressState, now: number): string {
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? s.done / secs : 0;
    const eta = rate > 0 ? Math.round((s.total - s.done) / rate) : 0;
    const width = 24;
    const filled = Math.round((s.done / s.total) * width);
    const bar = this.tty ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
    return `${bar}${s.done}/${s.total} units  ${rate.toFixed(1)}/s  ETA ${eta}s  errors ${s.errors}  judge failures ${s.judgeFailures}${this.spend ? `  ${this.spend()}` : ""}`;
  }
}
