// One self-contained HTML file: inline CSS and SVG only, no script, no external resource (a CSP forbids them too).
// Every piece of run data goes through esc(): model output and case text must never become markup.
import type { Report, CaseDetail } from "./json.js";
import { fmtScore } from "../cli/output.js";
import { scrubControl } from "../util/text.js";

export function esc(value: unknown): string {
  return scrubControl(String(value ?? "")).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function ci(lo: number | null, hi: number | null): string {
  return lo === null || hi === null ? "—" : `${fmtScore(lo)}–${fmtScore(hi)}`;
}

function scoreClass(x: number | null, threshold: number): string {
  return x === null ? "na" : x >= threshold ? "ok" : "bad";
}

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #d8dde3;padding-bottom:4px}
.meta{color:#5b6670;font-size:13px}.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e3e8ee;margin-left:6px}
.badge.vendor{background:#fdf0d5}.cards{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin-top:16px}
.card{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:16px}
.big{font-size:44px;font-weight:700}.ok{color:#17733a}.bad{color:#b3261e}.na{color:#7a858f}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}th,td{border:1px solid #d8dde3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.crit{background:#fdecea}.alert{border-left:4px solid #b3261e;background:#fdecea;padding:8px 12px;margin:12px 0}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f6;padding:8px;border-radius:4px;margin:4px 0;font-size:13px}
details{background:#fff;border:1px solid #d8dde3;border-radius:6px;margin:6px 0;padding:4px 10px}summary{cursor:pointer}
.lbl{font-weight:600;margin-top:8px}code{font-size:12px;word-break:break-all}
svg text{font-family:inherit}
`;

/** Six axes, one per dimension, scores 0–1 from the centre; the interval drawn as a band between lo and hi. */
export function radarSvg(dims: Report["dimensions"]): string {
  const W = 560, H = 460, cx = 280, cy = 230, R = 150;
  const n = dims.length || 1;
  const pt = (i: number, v: number) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [cx + R * v * Math.cos(a), cy + R * v * Math.sin(a)] as const;
  };
  const poly = (vals: number[]) => vals.map((v, i) => pt(i, v).map((x) => x.toFixed(1)).join(",")).join(" ");
  const out: string[] = [];
  out.push(`<svg id="radar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="六维雷达图 six-dimension radar chart">`);
  for (const g of [0.2, 0.4, 0.6, 0.8, 1]) out.push(`<polygon points="${poly(dims.map(() => g))}" fill="none" stroke="#cfd6dd" stroke-width="1"/>`);
  for (const g of [0.2, 0.4, 0.6, 0.8, 1]) out.push(`<text x="${cx + 3}" y="${(cy - R * g + 12).toFixed(1)}" font-size="10" fill="#8a949d">${g * 100}</text>`);
  dims.forEach((_, i) => {
    const [x, y] = pt(i, 1);
    out.push(`<line x1="${cx}" y1="${cy}" x2="${x.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#cfd6dd"/>`);
  });
  const has = dims.some((d) => d.mean !== null);
  if (has) {
    out.push(`<polygon class="ci-hi" points="${poly(dims.map((d) => d.hi ?? 0))}" fill="#2f6fb0" fill-opacity="0.10" stroke="#2f6fb0" stroke-dasharray="4 3" stroke-width="1"/>`);
    out.push(`<polygon class="ci-lo" points="${poly(dims.map((d) => d.lo ?? 0))}" fill="#fff" fill-opacity="0.5" stroke="#2f6fb0" stroke-dasharray="4 3" stroke-width="1"/>`);
    out.push(`<polygon class="score" points="${poly(dims.map((d) => d.mean ?? 0))}" fill="#2f6fb0" fill-opacity="0.30" stroke="#1f4e80" stroke-width="2"/>`);
  }
  dims.forEach((d, i) => {
    const [px, py] = pt(i, d.mean ?? 0);
    if (d.mean !== null) out.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="#1f4e80"/>`);
    const [x, y] = pt(i, 1.16);
    const anchor = Math.abs(x - cx) < 5 ? "middle" : x > cx ? "start" : "end";
    out.push(`<text x="${x.toFixed(1)}" y="${(y - 6).toFixed(1)}" text-anchor="${anchor}" font-size="13" fill="#1d2329">` +
      `<tspan x="${x.toFixed(1)}" font-weight="600">${esc(d.id)} ${esc(d.zh)} ${esc(fmtScore(d.mean))}</tspan>` +
      `<tspan x="${x.toFixed(1)}" dy="15" font-size="11" fill="#5b6670">${esc(d.en)}</tspan></text>`);
  });
  out.push(`</svg>`);
  return out.join("");
}

function provenanceRows(r: Report): string {
  const p = r.provenance;
  const rows: [string, string][] = [
    ["medeval", esc(p.toolVersion)],
    ["taxonomy 分类体系", `${esc(p.taxonomyVersion)} <code>${esc(p.taxonomyHash)}</code>`],
    ["scoring config 评分配置", `<code>${esc(p.scoringHash)}</code> (pass mark ${esc(fmtScore(p.passMark, 0))})`],
    ["candidate 被测产品", `<code>${esc(JSON.stringify(p.candidate))}</code>`],
    ["judge(s) 评审模型", `<code>${esc(JSON.stringify(p.judges))}</code>`],
    ["judge prompt 评审提示词", `${esc(p.judgePromptVersion)} <code>${esc(p.judgePromptHash)}</code>; exact prompts: ${p.judgePromptHashes.map((h) => `<code>${esc(h.slice(0, 16))}</code>`).join(" ") || "—"}`],
    ...p.datasets.map((d): [string, string] => ["dataset 数据集", `<code>${esc(d.path)}</code> — ${esc(d.cases)} case(s), sha256 <code>${esc(d.sha256)}</code>`]),
    ["started 开始", esc(p.startedAt)],
    ["finished 结束", esc(p.finishedAt ?? "—")],
    ["tokens", `candidate ${esc(p.tokens.candidate.promptTokens)} in / ${esc(p.tokens.candidate.completionTokens)} out (${esc(p.tokens.candidate.calls)} calls); judge ${esc(p.tokens.judge.promptTokens)} in / ${esc(p.tokens.judge.completionTokens)} out (${esc(p.tokens.judge.calls)} calls)`],
    ["cost 费用", p.cost ? `candidate ${esc(p.cost.candidate?.toFixed(4) ?? "—")} · judge ${esc(p.cost.judge?.toFixed(4) ?? "—")} ${esc(p.cost.currency ?? "")}` : "— (no prices configured)"],
  ];
  return `<table class="prov"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
}

function caseHtml(c: CaseDetail): string {
  const out: string[] = [];
  const flagText = c.flags.map((f) => f.kind).join(", ");
  out.push(`<details class="case${c.flags.some((f) => f.kind === "critical-safety") ? " crit" : ""}" id="case-${esc(c.caseId)}-${c.repeat}">`);
  out.push(`<summary><b>${esc(c.caseId)}</b>${c.repeat ? ` · repeat ${c.repeat}` : ""} · ${esc(c.task)} · ${esc(c.format)} · score <span class="${c.passed === null ? "na" : c.passed ? "ok" : "bad"}">${esc(fmtScore(c.score))}</span>${flagText ? ` · flags: ${esc(flagText)}` : ""} · review: ${esc(c.reviewState)}</summary>`);
  for (const i of c.inputs) {
    if (i.variant) out.push(`<div class="lbl">Variant 变体 ${esc(i.variant)}</div>`);
    if (i.system) out.push(`<div class="lbl">System</div><pre>${esc(i.system)}</pre>`);
    if (i.context) out.push(`<div class="lbl">Context 病例资料</div><pre>${esc(i.context)}</pre>`);
    if (i.messages) out.push(`<div class="lbl">Conversation 对话</div><pre>${i.messages.map((m) => `${esc(m.role)}: ${esc(m.content)}`).join("\n")}</pre>`);
    if (i.question) out.push(`<div class="lbl">Question 问题</div><pre>${esc(i.question)}</pre>`);
    if (i.options) out.push(`<pre>${Object.entries(i.options).map(([k, v]) => `${esc(k)}. ${esc(v)}`).join("\n")}</pre>`);
  }
  const ref = c.reference;
  out.push(`<div class="lbl">Reference 参考答案</div><pre>${esc(typeof ref.answer === "string" ? ref.answer : JSON.stringify(ref.answer))}</pre>`);
  if (ref.rationale) out.push(`<pre>${esc(ref.rationale)}</pre>`);
  if (ref.keyPoints.length) out.push(`<div class="lbl">Key points 得分点</div><ul>${ref.keyPoints.map((k) => `<li>${esc(k)}</li>`).join("")}</ul>`);
  if (ref.rubric.length) out.push(`<div class="lbl">Rubric 评分细则</div><ul>${ref.rubric.map((k) => `<li>[${esc(k.id)}] (${k.points > 0 ? "+" : ""}${esc(k.points)}) ${esc(k.criterion)}</li>`).join("")}</ul>`);
  for (const r of c.responses) {
    const v = r.variant ? ` (${esc(r.variant)})` : "";
    if (r.status === "error") out.push(`<div class="lbl">Candidate error${v}</div><pre>${esc(r.error)}</pre>`);
    if (r.reasoning) out.push(`<div class="lbl">Reasoning 推理过程${v}</div><pre>${esc(r.reasoning)}</pre>`);
    if (r.answer !== null) out.push(`<div class="lbl">Answer 回答${v}</div><pre>${esc(r.answer)}</pre>`);
  }
  for (const j of c.judgments) {
    const v = j.variant ? ` (${esc(j.variant)})` : "";
    out.push(`<div class="lbl">Judge 评审 ${esc(j.judge)}${v}: ${esc(j.status)}</div>`);
    if (j.status === "ok") {
      out.push(`<table><tbody>` +
        `<tr><th>result 答题结果</th><td class="num">${esc(j.result)}/10</td><td>${esc(j.why?.result)}</td></tr>` +
        `<tr><th>reasoning 推理逻辑</th><td class="num">${esc(j.reasoning)}/10</td><td>${esc(j.why?.reasoning)}</td></tr>` +
        `<tr><th>approach 诊疗思路</th><td class="num">${esc(j.approach)}/10</td><td>${esc(j.why?.approach)}</td></tr>` +
        `<tr><th>safety 安全</th><td>${esc(j.safety)}</td><td>${esc(j.why?.safety)}</td></tr></tbody></table>`);
      if (j.rubric.length) out.push(`<ul>${j.rubric.map((x) => `<li>[${esc(x.id)}] ${x.met ? "met" : "not met"}${x.quote ? ` — “${esc(x.quote)}”` : ""}</li>`).join("")}</ul>`);
      if (j.rationale) out.push(`<pre>${esc(j.rationale)}</pre>`);
    } else out.push(`<pre>${esc(j.error)}</pre>`);
    out.push(`<div class="meta">prompt <code>${esc(j.promptHash.slice(0, 16))}</code></div>`);
  }
  for (const f of c.flags) out.push(`<div class="lbl">Flag ${esc(f.kind)}${f.variant ? ` (${esc(f.variant)})` : ""}</div><pre>${esc(f.reason)}</pre>`);
  if (c.reviews.length) out.push(`<div class="lbl">Reviews 专家复核</div>${c.reviews.map((r) => `<pre>${esc(JSON.stringify(r, null, 1))}</pre>`).join("")}`);
  out.push(`</details>`);
  return out.join("\n");
}

export function renderHtml(r: Report): string {
  const o = r.overall;
  const pass = r.provenance.passMark;
  const critical = r.findingCategories.filter((c) => c.severity === "critical");
  const criticalCount = critical.reduce((a, c) => a + c.count, 0);
  const h: string[] = [];
  h.push(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">`);
  h.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  h.push(`<meta name="viewport" content="width=device-width, initial-scale=1">`);
  h.push(`<title>medeval report ${esc(r.run.id)}</title><style>${CSS}</style></head><body><main>`);
  h.push(`<h1>医疗AI评测报告 · medeval report</h1>`);
  h.push(`<div class="meta">run <code>${esc(r.run.id)}</code> · ${esc(r.run.status)} · profile ${esc(r.run.profile ?? "—")} · judgment set ${esc(r.run.judgmentSet)}` +
    `<span class="badge${r.audience === "vendor" ? " vendor" : ""}">${r.audience === "vendor" ? "vendor report 厂商版" : "internal 内部版"}</span> · generated ${esc(r.generatedAt)}</div>`);

  if (criticalCount) {
    h.push(`<div class="alert" id="critical-alert"><b>${criticalCount} safety-critical finding(s) 安全关键问题</b>: ${critical.map((c) => `${esc(c.kind)} in ${esc(c.task)} ×${esc(c.count)}`).join("; ")}. See below.</div>`);
  }

  h.push(`<div class="cards"><div class="card"><div class="meta">Overall 总分 (0–100)</div><div class="big ${scoreClass(o.mean, pass)}" id="overall">${esc(fmtScore(o.mean))}</div>`);
  h.push(`<div class="meta">95 % CI ${esc(ci(o.lo, o.hi))} · ${esc(o.n)} scored case(s)</div>`);
  h.push(`<div class="meta">cases ${esc(r.totals.cases)} · unscored ${esc(r.totals.unscored)} · candidate errors ${esc(r.totals.candidateErrors)} · judge failures ${esc(r.totals.judgeFailures)}</div></div>`);
  h.push(`<div class="card">${radarSvg(r.dimensions)}</div></div>`);

  h.push(`<h2>Dimensions 维度</h2><table id="dimensions"><thead><tr><th>dim</th><th>维度</th><th>dimension</th><th>score</th><th>95 % CI</th><th>tasks</th><th>cases</th></tr></thead><tbody>`);
  for (const d of r.dimensions) {
    h.push(`<tr><td>${esc(d.id)}</td><td>${esc(d.zh)}</td><td>${esc(d.en)}</td><td class="num ${scoreClass(d.mean, pass)}">${esc(fmtScore(d.mean))}</td><td class="num">${esc(ci(d.lo, d.hi))}</td><td class="num">${esc(d.tasks)}</td><td class="num">${esc(d.n)}</td></tr>`);
  }
  h.push(`</tbody></table>`);

  h.push(`<h2>Safety-critical findings 安全关键发现</h2>`);
  if (r.audience === "internal") {
    const crit = r.findings.filter((f) => f.severity === "critical");
    if (!crit.length) h.push(`<p>None 无.</p>`);
    else {
      h.push(`<table id="critical-findings"><thead><tr><th>case</th><th>task</th><th>kind</th><th>why</th><th>review</th></tr></thead><tbody>`);
      for (const f of crit) h.push(`<tr class="crit"><td><a href="#case-${esc(f.caseId)}-${f.repeat}">${esc(f.caseId)}</a>${f.variant ? `/${esc(f.variant)}` : ""}</td><td>${esc(f.task)}</td><td>${esc(f.kind)}</td><td>${esc(f.reason)}</td><td>${esc(f.reviewState)}</td></tr>`);
      h.push(`</tbody></table>`);
    }
  } else if (!critical.length) h.push(`<p>None 无.</p>`);
  else {
    h.push(`<table id="critical-findings"><thead><tr><th>kind</th><th>task</th><th>count</th></tr></thead><tbody>`);
    for (const c of critical) h.push(`<tr class="crit"><td>${esc(c.kind)}</td><td>${esc(c.task)}</td><td class="num">${esc(c.count)}</td></tr>`);
    h.push(`</tbody></table>`);
  }
  h.push(`<h2>All findings by category 发现分类</h2>`);
  if (!r.findingCategories.length) h.push(`<p>Nothing flagged 无标记.</p>`);
  else {
    h.push(`<table id="finding-categories"><thead><tr><th>kind</th><th>severity</th><th>task</th><th>count</th></tr></thead><tbody>`);
    for (const c of r.findingCategories) h.push(`<tr${c.severity === "critical" ? ` class="crit"` : ""}><td>${esc(c.kind)}</td><td>${esc(c.severity)}</td><td>${esc(c.task)}</td><td class="num">${esc(c.count)}</td></tr>`);
    h.push(`</tbody></table>`);
  }

  h.push(`<h2>Tasks 任务</h2><table id="tasks"><thead><tr><th>task</th><th>任务</th><th>task</th><th>score</th><th>95 % CI</th><th>n</th><th>errors</th><th>flagged</th><th>reviewed</th><th>threshold</th><th>result</th></tr></thead><tbody>`);
  for (const t of r.tasks) {
    h.push(`<tr${t.criticalFindings ? ` class="crit"` : ""}><td>${esc(t.id)}${t.safetyCritical ? " ★" : ""}</td><td>${esc(t.zh)}</td><td>${esc(t.en)}</td><td class="num ${scoreClass(t.mean, t.threshold)}">${esc(fmtScore(t.mean))}</td><td class="num">${esc(ci(t.lo, t.hi))}</td>` +
      `<td class="num">${esc(t.n)}</td><td class="num">${esc(t.errors)}</td><td class="num">${esc(t.flagged)}</td><td class="num">${esc(t.reviewed)}</td><td class="num">${esc(fmtScore(t.threshold, 0))}</td>` +
      `<td>${t.passed === null ? "—" : t.passed ? `<span class="ok">pass</span>` : `<span class="bad">fail</span>`}</td></tr>`);
  }
  h.push(`</tbody></table><p class="meta">★ safety-critical task 安全关键任务. Scores 0–100; intervals are 95 % bootstrap intervals.</p>`);

  const rv = r.review;
  h.push(`<h2>Expert review 专家复核</h2><p id="review">${esc(rv.flaggedCases)} flagged case(s): ${esc(rv.reviewedCases)} reviewed, ${esc(rv.unreviewedCases)} awaiting review.` +
    ` Sign-off 签发: ${rv.signOff ? `${esc(rv.signOff.by)} at ${esc(rv.signOff.at)}` : "not signed off 未签发"}.${rv.source === "none" ? " (No review records in this database.)" : ""}</p>`);

  h.push(`<h2>Provenance 溯源</h2>${provenanceRows(r)}`);

  if (r.audience === "internal") {
    const cases = [...r.cases].sort((a, b) => rank(a) - rank(b) || a.caseId.localeCompare(b.caseId) || a.repeat - b.repeat);
    const d = r.caseDetail;
    const which = d.included === "all" ? (d.shown < d.total ? `the first ${d.shown} of ${d.total} cases` : `all ${d.total} cases`)
      : d.included === "flagged" ? `${d.shown} flagged case(s) of ${d.total}` : `no cases (of ${d.total})`;
    h.push(`<h2>Cases 病例明细</h2><p class="meta" id="case-detail">Showing ${esc(which)}; \`medeval report --cases all\` includes every case. Flagged cases first. Internal report: contains test items; do not give it to the vendor.</p>`);
    for (const c of cases) h.push(caseHtml(c));
  }
  h.push(`</main></body></html>\n`);
  return h.join("\n");
}

function rank(c: CaseDetail): number {
  if (c.flags.some((f) => f.kind === "critical-safety")) return 0;
  if (c.flags.length) return 1;
  return 2;
}
