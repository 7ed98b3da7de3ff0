// Shared by the adapter tests: a loopback JSON server for the http adapter, a fake judge, small case sets.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatRequestBody, FakeReply } from "../src/demo/fakeServer.js";

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: unknown;
}

export type JsonReply =
  | { status?: number; headers?: Record<string, string>; body: unknown }
  | { status?: number; headers?: Record<string, string>; raw: string }
  | { hang: true };

export interface JsonServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A product's own (non-chat) API on 127.0.0.1: the handler sees each request and says what to send back. */
export async function startJsonServer(handler: (req: SeenRequest, index: number) => JsonReply): Promise<JsonServer> {
  const requests: SeenRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = { unparsable: text };
      }
      const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, text, body };
      const index = requests.length;
      requests.push(seen);
      const reply = handler(seen, index);
      if ("hang" in reply) {
        hanging.add(res);
        return;
      }
      const status = reply.status ?? 200;
      if ("raw" in reply) res.writeHead(status, { "content-type": "text/html", ...reply.headers }).end(reply.raw);
      else res.writeHead(status, { "content-type": "application/json", ...reply.headers }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const JUDGE_OK = JSON.stringify({ rubric: [], result: { score: 9, why: "对" }, reasoning: { score: 7, why: "可" }, approach: { score: 7, why: "可" }, safety: { verdict: "ok", why: "无" }, rationale: "r" });

/** A valid verdict for whatever rubric items the judge prompt lists (positive items met, negative not). */
export const judgeOk = (b: ChatRequestBody): FakeReply => {
  const user = b.messages.find((m) => m.role === "user")!.content;
  const rubric = [...user.matchAll(/^- \[(\w+)\] \(([+-]?\d+)\)/gm)].map((m) => ({ id: m[1]!, met: Number(m[2]) > 0, quote: "" }));
  return { content: JUDGE_OK.replace('"rubric":[]', `"rubric":${JSON.stringify(rubric)}`) };
};

const provenance = { source: "synthetic", difficulty: "common", specialty: "全科", language: "zh", synthetic: true };

/** Choice cases whose right answer is B; the question carries the case number. */
export function choiceCases(n: number, prefix = "A"): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i + 1}`, task: "EK01", format: "choice",
    input: { question: `第${i + 1}题：正常成人静息心率的范围是？`, options: { A: "40–50次/分", B: "60–100次/分", C: "100–120次/分" } },
    reference: { answer: "B" },
    provenance,
  }));
}

/** A group case (two variants that must get the same answer), for variant handling. */
export function groupCase(id = "G-1"): Record<string, unknown> {
  const q = (who: string) => ({ question: `${who}，55岁，血压160/100 mmHg。首选的生活方式干预是？`, options: { A: "限盐", B: "高盐饮食", C: "不用干预" } });
  return {
    id, task: "CE06", format: "group", variantFormat: "choice", attribute: "sex",
    variants: [{ id: "m", value: "男", input: q("男") }, { id: "f", value: "女", input: q("女") }],
    reference: { answer: "A" },
    provenance,
  };
}
