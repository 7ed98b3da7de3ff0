import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import Database from "better-sqlite3";
import { startFakeServer, type ChatRequestBody, type FakeReply, type FakeServer } from "../src/demo/fakeServer.js";
import { OpenAIAdapter } from "../src/adapters/openai.js";
import { evaluate } from "../src/runner/evaluate.js";
import { CONCLUSION_MARKER, stopReason } from "../src/runner/dialogue.js";
import type { Message } from "../src/dataset/schema.js";
import { judgeOk } from "./adapterFixture.js";
import { cliAsync, tempDir, writeJsonl } from "./helpers.js";
import { writeFileSync } from "node:fs";

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const FACTS = [
  { topic: "起病时间", answer: "大概一个礼拜前开始的。" },
  { topic: "诱因", answer: "爬三楼就闷，歇一会儿就好。" },
  { topic: "吸烟", answer: "抽了30年烟，一天一包。" },
];
const PERSONA = "男，58岁，出租车司机，说话简短，只回答被问到的问题。";

/** A WF02-style case; the opening complaint names the case so the fake candidate knows which script to follow. */
function dialogueCase(id: string, maxTurns?: number) {
  return {
    id, task: "WF02", format: "dialogue",
    input: { system: "你是预问诊助手，请逐步采集病史。", messages: [{ role: "user", content: `医生您好（${id}），我最近老觉得胸口闷。` }] },
    reference: { answer: "应询问起病时间、诱因与吸烟史，考虑心绞痛并建议尽快就医。", keyPoints: ["询问起病时间", "询问诱因", "询问吸烟史", "建议尽快就医"] },
    provenance: { source: "synthetic", difficulty: "common", specialty: "心血管内科", language: "zh", synthetic: true },
    patientScript: { persona: PERSONA, facts: FACTS, ...(maxTurns ? { maxTurns } : {}) },
  };
}

const QUESTIONS = ["请问您的起病时间是？", "胸闷有什么诱因吗？", "您有吸烟吗？"];
const CONCLUSION = `${CONCLUSION_MARKER.zh}考虑稳定型心绞痛可能，请尽快到医院心内科就诊。`;

/** The candidate: asks the three questions in order, then concludes (D-1); keeps asking (D-2); stops asking at once (D-3). */
function candidateReply(b: ChatRequestBody): FakeReply {
  const id = /（(D-\d)）/.exec(b.messages.find((m) => m.role === "user")!.content)![1];
  const turn = b.messages.filter((m) => m.role === "assistant").length; // 0-based
  if (id === "D-3") return { content: "建议您尽快就医。" };
  if (id === "D-2") return { content: `${QUESTIONS[turn % 3]}（第${turn + 1}问）` };
  return { content: turn < QUESTIONS.length ? QUESTIONS[turn]! : CONCLUSION };
}

/** The simulated patient: reveals the fact whose topic the latest question asks about, from its system prompt only. */
function patientReply(b: ChatRequestBody): FakeReply {
  const system = b.messages[0]!;
  if (system.role !== "system") return { status: 400, body: { error: { message: "patient prompt must come first" } } };
  const facts = [...system.content.matchAll(/^- (.+?)：(.+)$/gm)].map((m) => ({ topic: m[1]!, answer: m[2]! }));
  const question = b.messages[b.messages.length - 1]!;
  if (question.role !== "user") return { status: 400, body: { error: { message: "the candidate's question must be the last (user) turn" } } };
  return { content: facts.find((f) => question.content.includes(f.topic))?.answer ?? "不清楚。" };
}

const openai = (model: string, url: string) => new OpenAIAdapter({ kind: "openai", model, baseURL: url, apiKeyEnv: "NONE_SET", timeoutMs: 10_000, maxRetries: 0 });

async function setup(patientHandler: (b: ChatRequestBody) => FakeReply = patientReply) {
  const cand = await startFakeServer(candidateReply);
  const patient = await startFakeServer(patientHandler);
  const judge = await startFakeServer(judgeOk);
  servers.push(cand, patient, judge);
  return { cand, patient, judge };
}

const forCase = (s: FakeServer, id: string) => s.requests.filter((r) => r.body.messages.some((m) => m.content.includes(`（${id}）`)));

interface Row { case_id: string; status: string; answer: string | null; messages_json: string; raw_json: string | null; error: string | null; prompt_tokens: number | null }

function responses(db: string, runId: string): Record<string, Row> {
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare("SELECT case_id, status, answer, messages_json, raw_json, error, prompt_tokens FROM responses WHERE run_id = ?").all(runId) as Row[];
  conn.close();
  return Object.fromEntries(rows.map((r) => [r.case_id, r]));
}

describe("simulated patient dialogue", () => {
  it("plays candidate and patient turn by turn until the conclusion marker, stores and judges the whole transcript", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [dialogueCase("D-1")]);
    const { cand, patient, judge } = await setup();
    const db = path.join(dir, "d.sqlite");
    const opts = { datasets: [file], filters: { profile: "general-llm" }, candidate: openai("cand", cand.url), judge: openai("judge", judge.url), patient: openai("patient", patient.url), dbPath: db, reportDir: dir, concurrency: 2, quiet: true };
    const r = await evaluate(opts);

    // Turn order: candidate, patient, candidate, patient, candidate, patient, candidate (the conclusion).
    expect(cand.requests).toHaveLength(QUESTIONS.length + 1);
    expect(patient.requests).toHaveLength(QUESTIONS.length);
    cand.requests.forEach((req, k) => {
      const roles = req.body.messages.map((m) => m.role);
      expect(roles).toEqual(["system", "user", ...Array.from({ length: k }, () => ["assistant", "user"]).flat()]);
      // The candidate is told how to conclude and its limit (the default 8 replies).
      expect(req.body.messages[0]!.content).toContain("你是预问诊助手");
      expect(req.body.messages[0]!.content).toContain(`以“${CONCLUSION_MARKER.zh}”开头`);
      expect(req.body.messages[0]!.content).toContain("最迟在第8次回复");
    });
    // What the candidate heard after question k is the fact about its topic.
    const last = cand.requests[QUESTIONS.length]!.body.messages;
    QUESTIONS.forEach((q, k) => {
      expect(last[2 + 2 * k]).toEqual({ role: "assistant", content: q });
      expect(last[3 + 2 * k]).toEqual({ role: "user", content: FACTS[k]!.answer });
    });
    // The patient sees only its persona and facts, and the conversation from its side (roles swapped).
    patient.requests.forEach((req, k) => {
      const [sys, ...rest] = req.body.messages;
      expect(sys!.content).toContain(PERSONA);
      for (const f of FACTS) expect(sys!.content).toContain(`- ${f.topic}：${f.answer}`);
      expect(sys!.content).not.toContain("应询问起病时间"); // never the reference answer
      expect(rest.map((m) => m.role)).toEqual(["assistant", ...Array.from({ length: k + 1 }, (_, j) => (j < k ? ["user", "assistant"] : ["user"])).flat()]);
      expect(rest[rest.length - 1]!.content).toBe(QUESTIONS[k]);
    });

    const row = responses(db, r.runId)["D-1"]!;
    expect(row.status).toBe("ok");
    expect(row.answer).toBe(CONCLUSION);
    const shown = JSON.parse(row.messages_json) as Message[];
    expect(shown).toEqual(last); // everything the candidate saw before its final reply
    const raw = JSON.parse(row.raw_json!) as { dialogue: { turns: number; stop: string }; transcript: Message[] };
    expect(raw.dialogue).toMatchObject({ turns: 4, stop: "concluded" });
    expect(raw.transcript).toEqual([...last, { role: "assistant", content: CONCLUSION }]);
    // Candidate tokens are the sum over its four replies (the fake server counts ceil(chars / 2) per side).
    const expectedPrompt = cand.requests.reduce((a, q) => a + Math.max(1, Math.ceil(q.body.messages.map((m) => m.content).join("\n").length / 2)), 0);
    expect(row.prompt_tokens).toBe(expectedPrompt);

    // The judge grades the whole conversation: every question, every answer, and the conclusion.
    expect(judge.requests).toHaveLength(1);
    const prompt = judge.requests[0]!.body.messages.map((m) => m.content).join("\n");
    for (const q of QUESTIONS) expect(prompt).toContain(`助手：${q}`);
    for (const f of FACTS) expect(prompt).toContain(`用户：${f.answer}`);
    expect(prompt).toContain("用户：医生您好（D-1）");
    expect(prompt).toContain(CONCLUSION);

    // The same run again is answered from the cache: no candidate, patient or judge call.
    const before = [cand.requests.length, patient.requests.length, judge.requests.length];
    const again = await evaluate(opts);
    expect([cand.requests.length, patient.requests.length, judge.requests.length]).toEqual(before);
    expect(again.exec.cacheHits).toBe(1);
    expect(JSON.parse(responses(db, again.runId)["D-1"]!.messages_json)).toEqual(shown);
  });

  it("stops at the case's turn limit, or when a reply asks nothing", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [dialogueCase("D-2", 3), dialogueCase("D-3")]);
    const { cand, patient, judge } = await setup();
    const db = path.join(dir, "d.sqlite");
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: openai("cand", cand.url), judge: openai("judge", judge.url), patient: openai("patient", patient.url), dbPath: db, reportDir: dir, concurrency: 1, quiet: true });
    const rows = responses(db, r.runId);

    expect(forCase(cand, "D-2")).toHaveLength(3);
    expect(forCase(patient, "D-2")).toHaveLength(2);
    expect(forCase(cand, "D-2")[0]!.body.messages[0]!.content).toContain("最迟在第3次回复");
    expect(rows["D-2"]!.answer).toBe(`${QUESTIONS[2]}（第3问）`);
    expect(JSON.parse(rows["D-2"]!.raw_json!).dialogue).toMatchObject({ turns: 3, stop: "turn-limit" });

    expect(forCase(cand, "D-3")).toHaveLength(1);
    expect(forCase(patient, "D-3")).toHaveLength(0);
    expect(JSON.parse(rows["D-3"]!.raw_json!).dialogue).toMatchObject({ turns: 1, stop: "no-question" });
  });

  it("without a patient, a dialogue case keeps its single reply", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [dialogueCase("D-1")]);
    const { cand, patient, judge } = await setup();
    const db = path.join(dir, "d.sqlite");
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: openai("cand", cand.url), judge: openai("judge", judge.url), dbPath: db, reportDir: dir, concurrency: 1, quiet: true });
    expect(cand.requests).toHaveLength(1);
    expect(patient.requests).toHaveLength(0);
    expect(cand.requests[0]!.body.messages[0]!.content).not.toContain(CONCLUSION_MARKER.zh);
    expect(responses(db, r.runId)["D-1"]!.answer).toBe(QUESTIONS[0]);
  });

  it("a patient failure is that case's error, keeping the conversation so far", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [dialogueCase("D-1")]);
    const { cand, patient, judge } = await setup((b) => (b.messages.filter((m) => m.role === "user").length >= 2 ? { status: 400, body: { error: { message: "patient model refused" } } } : patientReply(b)));
    const db = path.join(dir, "d.sqlite");
    const r = await evaluate({ datasets: [file], filters: { profile: "general-llm" }, candidate: openai("cand", cand.url), judge: openai("judge", judge.url), patient: openai("patient", patient.url), dbPath: db, reportDir: dir, concurrency: 1, quiet: true });
    const row = responses(db, r.runId)["D-1"]!;
    expect(row.status).toBe("error");
    expect(row.error).toMatch(/^dialogue turn 2: simulated patient: 400 patient model refused/);
    const kept = JSON.parse(row.messages_json) as Message[];
    expect(kept.slice(2)).toEqual([
      { role: "assistant", content: QUESTIONS[0] },
      { role: "user", content: FACTS[0]!.answer },
      { role: "assistant", content: QUESTIONS[1] },
    ]);
    expect(judge.requests).toHaveLength(0);
    expect(r.summary.candidateErrors).toBe(1);
  });

  it("the CLI takes the patient from the config file's patient block, with its maxTurns", async () => {
    const dir = tempDir();
    const file = writeJsonl(dir, "d.jsonl", [dialogueCase("D-2")]);
    const { cand, patient, judge } = await setup();
    const cfg = path.join(dir, "medeval.config.json");
    writeFileSync(cfg, JSON.stringify({
      candidate: { kind: "openai", model: "cand", baseURL: cand.url },
      judge: { kind: "openai", model: "judge", baseURL: judge.url },
      patient: { kind: "openai", model: "patient", baseURL: patient.url },
      maxTurns: 2,
    }));
    const r = await cliAsync(["run", "--config", cfg, "--datasets", file, "--db", path.join(dir, "c.sqlite"), "--out", dir, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(cand.requests).toHaveLength(2);
    expect(patient.requests).toHaveLength(1);
    expect(patient.requests[0]!.body.model).toBe("patient");
    expect(JSON.parse(r.stdout).summary.run.config.patient).toMatchObject({ kind: "openai", model: "patient", maxTurns: 2 });
  });

  it("recognises the conclusion markers and question marks", () => {
    expect(stopReason("【结论】考虑心绞痛")).toBe("concluded");
    expect(stopReason("[conclusion] likely angina?")).toBe("concluded");
    expect(stopReason("您抽烟吗？")).toBeNull();
    expect(stopReason("Do you smoke?")).toBeNull();
    expect(stopReason("请尽快就医。")).toBe("no-question");
  });
});
