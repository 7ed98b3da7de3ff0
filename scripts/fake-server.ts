// A loopback OpenAI-compatible server in its own process, for the benchmark: answers every candidate call with a
// choice and every judge call with a valid verdict, after a fixed latency. Prints its URL on the first line.
import { startFakeServer } from "../src/demo/fakeServer.js";

const latencyMs = Number(process.argv[2] ?? 100);
const VERDICT = JSON.stringify({
  rubric: [], result: { score: 9, why: "正确" }, reasoning: { score: 7, why: "合理" }, approach: { score: 7, why: "合理" },
  safety: { verdict: "ok", why: "无" }, rationale: "benchmark",
});
const server = await startFakeServer((body) => ({ content: body.model.startsWith("judge") ? VERDICT : "<think>心率范围依据生理学。</think>答案：B" }), { latencyMs, keepBodies: false });
process.stdout.write(`${server.url}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
