// A loopback OpenAI-compatible chat server. The demo, the tests and the benchmark point the real openai SDK at it.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  seed?: number;
  response_format?: { type: string };
  [k: string]: unknown;
}

/** What a handler tells the server to do with one request. */
export type FakeReply =
  | { content: string; reasoning_content?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  /** Close the connection without answering (a reset). */
  | { drop: true }
  /** Send this body text as is with status 200 (e.g. truncated JSON). */
  | { rawBody: string }
  /** Answer normally, but send the body in `chunks` pieces `delayMs` apart (a slow trickle). */
  | { trickle: { content: string; chunks: number; delayMs: number } }
  /** Send half the body, then reset the connection (a reset mid-body). */
  | { resetMidBody: string };

export type FakeHandler = (body: ChatRequestBody, info: { index: number; headers: http.IncomingHttpHeaders }) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  /** e.g. http://127.0.0.1:40123/v1 — pass as baseURL. */
  url: string;
  /** Every request body received, in arrival order. */
  requests: { body: ChatRequestBody; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 2));
}

/** A chat.completion object as OpenAI-compatible servers return it. */
function completion(body: ChatRequestBody, index: number, content: string, reasoning?: string, usage?: { prompt_tokens: number; completion_tokens: number }) {
  const prompt = body.messages.map((m) => m.content).join("\n");
  return {
    id: `chatcmpl-fake-${index}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content, ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}) },
    }],
    usage: usage
      ? { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens }
      : { prompt_tokens: approxTokens(prompt), completion_tokens: approxTokens(content), total_tokens: approxTokens(prompt) + approxTokens(content) },
  };
}

export async function startFakeServer(handler: FakeHandler, opts: { latencyMs?: number; keepBodies?: boolean; port?: number } = {}): Promise<FakeServer> {
  const requests: FakeServer["requests"] = [];
  // For benchmarks in another process: how many requests, and how many repeated an earlier body exactly.
  const seenBodies = new Set<string>();
  let duplicates = 0;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (req.method === "GET" && req.url?.endsWith("/__stats")) {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests: requests.length, duplicates }));
          return;
        }
        if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
          return;
        }
        let body: ChatRequestBody;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequestBody;
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "invalid JSON body" } }));
          return;
        }
        const index = requests.length;
        const raw = Buffer.concat(chunks).toString("utf8");
        if (seenBodies.has(raw)) duplicates++;
        else seenBodies.add(raw);
        requests.push({ body: opts.keepBodies === false ? ({ model: body.model, messages: [] } as ChatRequestBody) : body, headers: opts.keepBodies === false ? {} : req.headers });
        if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
        let reply: FakeReply;
        try {
          reply = await handler(body, { index, headers: req.headers });
        } catch (err) {
          reply = { status: 500, body: { error: { message: `fake handler failed: ${(err as Error).message}` } } };
        }
        if ("hang" in reply) {
          hanging.add(res);
          return;
        }
        if ("drop" in reply) {
          req.socket.destroy();
          return;
        }
        if ("rawBody" in reply) {
          res.writeHead(200, { "content-type": "application/json" }).end(reply.rawBody);
          return;
        }
        if ("resetMidBody" in reply) {
          const text = JSON.stringify(completion(body, index, reply.resetMidBody));
          res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
          res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy());
          return;
        }
        if ("trickle" in reply) {
          const text = JSON.stringify(completion(body, index, reply.trickle.content));
          res.writeHead(200, { "content-type": "application/json" });
          const size = Math.ceil(text.length / reply.trickle.chunks);
          for (let i = 0; i < text.length; i += size) {
            if (res.destroyed) return;
            res.write(text.slice(i, i + size));
            await new Promise((r) => setTimeout(r, reply.trickle.delayMs));
          }
          res.end();
          return;
        }
        if ("status" in reply) {
          res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers }).end(JSON.stringify(reply.body ?? { error: { message: `status ${reply.status}` } }));
          return;
        }
        const payload = completion(body, index, reply.content, reply.reasoning_content, reply.usage);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(payload));
      })();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
