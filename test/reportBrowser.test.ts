// The HTML report in a real browser (Debian's chromium, headless): it renders, the radar chart is in the DOM, and the
// hostile model output stayed text. Skipped only when no chromium binary exists on this machine (CI installs it).
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import path from "node:path";
import { cli, tempDir } from "./helpers.js";
import { runPlan, PLAN_A, dbIn } from "./reportFixture.js";

function findChromium(): string | null {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const p = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (p) return p;
    } catch {
      // not installed under this name
    }
  }
  return null;
}

const CHROMIUM = findChromium();
const title = CHROMIUM
  ? "renders in headless Chromium with the chart in the DOM and no injected element"
  : "renders in headless Chromium (SKIPPED: no chromium binary on this machine; install it with `apt-get install -y chromium`)";

function headless(args: string[], dir: string): { stdout: string; code: number } {
  const r = spawnSync(CHROMIUM!, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", `--user-data-dir=${path.join(dir, `profile-${Math.random().toString(36).slice(2)}`)}`,
    "--window-size=1200,1600", ...args,
  ], { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout, code: r.status ?? -1 };
}

/** Decodes an 8-bit RGB(A) PNG's scanlines and counts distinct pixel colours (a blank page has one or two). */
function distinctColours(png: Buffer): number {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let off = 8, width = 0, height = 0, bpp = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("ascii", off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bpp = data[9] === 6 ? 4 : 3;
      expect(data[8]).toBe(8);
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0, b = prev[x]!, c = x >= bpp ? prev[x - bpp]! : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      cur[x] = (line[x]! + pred) & 0xff;
    }
    if (y % 4 === 0) for (let x = 0; x < width; x += 4) colours.add(cur.readUIntBE(x * bpp, 3));
    cur.copy(prev);
  }
  return colours.size;
}

describe("the HTML report in a browser", () => {
  let dir: string;
  let html: string;
  let runId: string;
  beforeAll(async () => {
    dir = tempDir("medeval-browser-");
    runId = await runPlan(PLAN_A, dbIn(dir), dir);
    html = path.join(dir, "report.html");
    const r = cli(["report", runId, "--db", dbIn(dir), "--format", "html", "--out", html]);
    expect(r.code).toBe(0);
  });

  it.skipIf(!CHROMIUM)(title, () => {
    const dom = headless(["--dump-dom", `file://${html}`], dir).stdout;
    expect(dom).toContain(`<svg id="radar"`);
    expect(dom).toMatch(/<polygon class="score" points="[\d.,\s]+"/);
    expect((dom.match(/<tspan [^>]*font-weight="600">/g) ?? []).length).toBe(6);
    // Nothing the model wrote became an element or ran: no script/img element, the title is untouched.
    expect(dom).not.toMatch(/<script\b/i);
    expect(dom).not.toMatch(/<img\b/i);
    expect(dom).toContain(`<title>medeval report ${runId}</title>`);
    // …but it is shown, as text.
    expect(dom).toContain("&lt;script&gt;document.title='pwned-script'&lt;/script&gt;");

    const shot = path.join(dir, "shot.png");
    headless([`--screenshot=${shot}`, `file://${html}`], dir);
    expect(existsSync(shot)).toBe(true);
    expect(distinctColours(readFileSync(shot))).toBeGreaterThan(20);
  });
});
