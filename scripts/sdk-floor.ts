// The cost floor of the mandated client: the bare openai SDK making the same calls a run makes (one candidate and one
// judge call per case), with the same concurrency, no harness at all. Prints CPU ms per case. With "builtin" the SDK
// uses Node's built-in fetch; with "node" the node:http fetch that medeval's adapters hand it.
import OpenAI from "openai";
import pLimit from "p-limit";
import { nodeFetch } from "../src/adapters/nodeFetch.js";

const [url, casesArg, concArg, fetchArg] = process.argv.slice(2);
const n = Number(casesArg ?? 1000);
const client = new OpenAI({ apiKey: "bench", baseURL: url, maxRetries: 0, ...(fetchArg === "node" ? { fetch: nodeFetch } : {}) });
const limit = pLimit(Number(concArg ?? 32));
const before = process.cpuUsage();
await Promise.all(Array.from({ length: n * 2 }, (_, i) => limit(() => client.chat.completions.create({
  model: i % 2 ? "judge-floor" : "cand-floor",
  messages: [{ role: "user", content: `第${i}题：正常成人静息心率的范围是？\nA. 40–50次/分\nB. 60–100次/分\nC. 100–120次/分\n请以“答案：X”结尾。` }],
}))));
const used = process.cpuUsage(before);
process.stdout.write(`${((used.user + used.system) / 1000 / n).toFixed(3)}\n`);
