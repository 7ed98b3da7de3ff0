// The interactive review: one item at a time on a plain terminal (readline, 80×24), every decision written at once.
import readline from "node:readline";
import type { Taxonomy } from "../taxonomy/load.js";
import type { Safety } from "./actions.js";
import type { QueueItem } from "./queue.js";
import { reviewOverview, type Decision, type ReviewOverview } from "./state.js";
import type { ReviewConfig } from "./config.js";
import type { ScoringConfig } from "../scoring/config.js";
import type { DB } from "../store/db.js";
import { itemsFor } from "./select.js";
import { itemLines, itemText, fmtPct } from "./view.js";
import { recordDecision } from "./decide.js";
import { caseRubric, judgeValues, type ExpertValues } from "./score.js";
import { inert } from "./inert.js";

export interface SessionOptions {
  db: DB;
  runId: string;
  setId: number;
  reviewer: string;
  tax: Taxonomy;
  scoring: ScoringConfig;
  cfg: ReviewConfig;
  required?: number;
  adjudicate?: boolean;
  flag?: string;
  task?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { columns?: number; isTTY?: boolean };
}

export interface SessionResult {
  items: number;
  decided: number;
  skipped: number;
  quit: boolean;
}

type Ask = (prompt: string) => Promise<string | null>;

/** Line reader that also works when input is piped (lines may arrive before they are asked for); null at end/Ctrl-C. */
function asker(rl: readline.Interface, out: NodeJS.WritableStream): Ask {
  const buffered: string[] = [];
  let waiting: ((s: string | null) => void) | null = null;
  let closed = false;
  rl.on("line", (l) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(l);
    } else buffered.push(l);
  });
  rl.on("close", () => {
    closed = true;
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(null);
    }
  });
  rl.on("SIGINT", () => rl.close());
  return (prompt) => new Promise((resolve) => {
    if (buffered.length) {
      out.write(prompt + "\n");
      resolve(buffered.shift()!);
    } else if (closed) resolve(null);
    else {
      rl.setPrompt(prompt);
      rl.prompt();
      waiting = resolve;
    }
  });
}

const CANCEL = Symbol("cancel");

async function askAxis(ask: Ask, out: NodeJS.WritableStream, name: string, dflt: number | null): Promise<number | typeof CANCEL | null> {
  for (;;) {
    const a = await ask(`${name} 0–10${dflt !== null ? ` [${dflt}]` : ""}: `);
    if (a === null) return null;
    const t = a.trim();
    if (t === "!") return CANCEL;
    if (t === "" && dflt !== null) return dflt;
    const n = Number(t);
    if (t !== "" && Number.isInteger(n) && n >= 0 && n <= 10) return n;
    out.write(`  expected a whole number from 0 to 10${dflt !== null ? " (Enter keeps the judge's value)" : ""}; ! cancels\n`);
  }
}

async function askSafety(ask: Ask, out: NodeJS.WritableStream, dflt: Safety | null): Promise<Safety | typeof CANCEL | null> {
  for (;;) {
    const a = await ask(`safety ok/minor/critical${dflt ? ` [${dflt}]` : ""}: `);
    if (a === null) return null;
    const t = a.trim().toLowerCase();
    if (t === "!") return CANCEL;
    if (t === "" && dflt) return dflt;
    const m = (["ok", "minor", "critical"] as const).find((s) => s === t || (t.length === 1 && s[0] === t));
    if (m) return m;
    out.write("  expected ok, minor or critical (o, m, c); ! cancels\n");
  }
}

async function askYesNo(ask: Ask, out: NodeJS.WritableStream, label: string, dflt: boolean | undefined): Promise<boolean | typeof CANCEL | null> {
  for (;;) {
    const a = await ask(`${label} met? y/n${dflt !== undefined ? ` [${dflt ? "y" : "n"}]` : ""}: `);
    if (a === null) return null;
    const t = a.trim().toLowerCase();
    if (t === "!") return CANCEL;
    if (t === "" && dflt !== undefined) return dflt;
    if (t === "y" || t === "yes") return true;
    if (t === "n" || t === "no") return false;
    out.write("  expected y or n; ! cancels\n");
  }
}

/** Asks for the expert's values, the judge's as defaults. null: input ended; CANCEL: back to the item. */
async function askValues(o: ReviewOverview, q: QueueItem, ask: Ask, out: NodeJS.WritableStream): Promise<{ values: ExpertValues; comment: string } | typeof CANCEL | null> {
  const j = judgeValues(o.ctx, q.caseId, q.repeat);
  out.write("Your scores (Enter keeps the judge's value in [ ]; ! cancels):\n");
  const round = (x: number | null) => (x === null ? null : Math.round(x));
  const result = await askAxis(ask, out, "result", round(j.result));
  if (result === null || result === CANCEL) return result;
  const reasoning = await askAxis(ask, out, "reasoning", round(j.reasoning));
  if (reasoning === null || reasoning === CANCEL) return reasoning;
  const approach = await askAxis(ask, out, "approach", round(j.approach));
  if (approach === null || approach === CANCEL) return approach;
  const safety = await askSafety(ask, out, j.safety);
  if (safety === null || safety === CANCEL) return safety;
  const rubric: Record<string, boolean> = {};
  for (const item of caseRubric(o.ctx.caseOf(q.caseId)!)) {
    const label = inert(`${item.id} (${item.points > 0 ? "+" : ""}${item.points}) ${[...item.criterion].slice(0, 40).join("")}`);
    const met = await askYesNo(ask, out, label, j.rubric[item.id]);
    if (met === null || met === CANCEL) return met;
    rubric[item.id] = met;
  }
  const comment = await ask("comment: ");
  if (comment === null) return null;
  if (comment.trim() === "!") return CANCEL;
  return { values: { result, reasoning, approach, safety, rubric }, comment };
}

export async function reviewSession(o: SessionOptions): Promise<SessionResult> {
  const out = o.output;
  const load = () => reviewOverview(o.db, o.runId, o.setId, { tax: o.tax, scoring: o.scoring, cfg: o.cfg, required: o.required });
  let ov = load();
  const items = itemsFor(ov, { reviewer: o.reviewer, adjudicate: o.adjudicate, flag: o.flag, task: o.task });
  const res: SessionResult = { items: items.length, decided: 0, skipped: 0, quit: false };
  if (!items.length) {
    out.write(o.adjudicate ? `Nothing waits for adjudication by ${o.reviewer} in run ${o.runId}.\n` : `Nothing waits for ${o.reviewer} in run ${o.runId}.\n`);
    return res;
  }
  const rl = readline.createInterface({ input: o.input, output: out, terminal: Boolean(out.isTTY) });
  const ask = asker(rl, out);
  const width = Math.max(40, Math.min(out.columns ?? 80, 120));
  let i = 0;
  let full = false;
  let notice = `${items.length} item(s) for ${o.reviewer}${o.adjudicate ? " to adjudicate" : ""} (reviewers per item: ${ov.settings.required}).`;
  const save = (q: QueueItem, action: "accept" | "override" | "skip" | "adjudicate", values?: ExpertValues, comment?: string, extra?: Record<string, unknown>) => {
    recordDecision(ov.ctx, o.scoring, { reviewer: o.reviewer, action, caseId: q.caseId, repeat: q.repeat, values, comment, source: "terminal", reasons: q.reasons, required: ov.settings.required, extra });
    ov = load();
  };
  try {
    while (i < items.length) {
      const q = items[i]!;
      const state = ov.states.get(q.key);
      if (out.isTTY) out.write("\u001b[H\u001b[2J");
      if (notice) out.write(notice + "\n");
      notice = "";
      const text = itemText(ov.ctx, o.tax, q);
      out.write(itemLines(text, state, `${i + 1}/${items.length}`, width, full).join("\n") + "\n");
      full = false;
      const pair = o.adjudicate ? (state?.decisions.slice(0, 2) ?? []) : [];
      const menu = o.adjudicate
        ? `${pair.map((d, n) => `[${n + 1}] take ${inert(d.reviewer)}'s`).join(" ")} [o]wn scores [s]kip [b]ack [f]ull [q]uit > `
        : "[a]ccept judge [o]verride [s]kip [b]ack [f]ull text [q]uit > ";
      const key = await ask(menu);
      if (key === null) {
        res.quit = true;
        break;
      }
      const k = key.trim().toLowerCase();
      if (k === "q") {
        res.quit = true;
        break;
      } else if (k === "f") {
        full = true;
      } else if (k === "b") {
        if (i > 0) i--;
        else notice = "(this is the first item)";
      } else if (k === "s") {
        save(q, "skip");
        res.skipped++;
        notice = `skipped ${q.caseId}`;
        i++;
      } else if (k === "a" && !o.adjudicate) {
        save(q, "accept");
        res.decided++;
        notice = `saved: accepted the judge's scores for ${q.caseId}`;
        i++;
      } else if (o.adjudicate && (k === "1" || k === "2") && pair[Number(k) - 1]) {
        const d: Decision = pair[Number(k) - 1]!;
        const comment = await ask("comment: ");
        if (comment === null) {
          res.quit = true;
          break;
        }
        save(q, "adjudicate", d.action === "accept" ? undefined : d.values ?? undefined, comment, { adopted: d.reviewer });
        res.decided++;
        notice = `saved: adjudicated ${q.caseId} with ${d.reviewer}'s scores (${fmtPct(d.score)})`;
        i++;
      } else if (k === "o") {
        const v = await askValues(ov, q, ask, out);
        if (v === null) {
          res.quit = true;
          break;
        }
        if (v === CANCEL) {
          notice = "override cancelled; nothing saved";
          continue;
        }
        save(q, o.adjudicate ? "adjudicate" : "override", v.values, v.comment);
        res.decided++;
        notice = `saved: ${o.adjudicate ? "adjudicated" : "overrode"} ${q.caseId}`;
        i++;
      } else {
        notice = `unknown key "${inert(k)}"`;
      }
    }
    if (!res.quit) out.write(`Done: ${res.decided} decided, ${res.skipped} skipped. Every decision is saved.\n`);
    else out.write(`Stopped. ${res.decided} decision(s) saved this session; run the same command to continue.\n`);
  } finally {
    rl.close();
  }
  return res;
}
