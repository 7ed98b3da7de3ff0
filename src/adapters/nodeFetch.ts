// A small `fetch` over node:http/https with keep-alive agents, handed to the openai SDK (its `fetch` option) and used
// by the http adapter. Why: Node's built-in fetch (undici + web streams) costs about 0.9 ms of CPU per call more than
// node:http on this workload (bench: 2.4 → 1.5 ms per case of two calls, bare SDK); at 100,000 cases that is minutes
// of CPU. It buffers the whole body (the harness never streams), so the SDK's timeout covers the body as well.
// Anything it does not handle (a streamed request body, FormData) goes to the built-in fetch.
import http from "node:http";
import https from "node:https";
import zlib from "node:zlib";
import { BufferedResponse } from "./bufferedResponse.js";

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};
const MAX_REDIRECTS = 5;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "TimeoutError") return reason;
  // The SDK tells a timeout or a user abort by this name, as with the built-in fetch.
  return Object.assign(new Error("the request was aborted"), { name: "AbortError" });
}

function headerRecord(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => { out[k] = v; });
  else if (Array.isArray(h)) for (const [k, v] of h) out[String(k).toLowerCase()] = String(v);
  else for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
  return out;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "gzip": case "x-gzip": return zlib.gunzipSync(body);
    case "deflate": return zlib.inflateSync(body);
    case "br": return zlib.brotliDecompressSync(body);
    default: return body;
  }
}

function bufferedBody(body: RequestInit["body"]): string | Buffer | undefined | null {
  if (body === undefined || body === null) return undefined;
  // A string is written to the socket as is: copying it into a Buffer first doubled what each call in flight holds.
  if (typeof body === "string") return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return null; // a stream, FormData, Blob…: not handled here
}

export async function nodeFetch(input: string | URL | Request, init: RequestInit = {}, redirects = 0): Promise<Response> {
  const body = bufferedBody(init.body);
  if (input instanceof Request || body === null) return fetch(input, init);
  const url = new URL(input);
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return fetch(input, init);
  const signal = init.signal ?? undefined;
  if (signal?.aborted) throw abortError(signal);
  const headers = headerRecord(init.headers);
  if (body !== undefined) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
  const method = (init.method ?? "GET").toUpperCase();

  const res = await new Promise<http.IncomingMessage & { body: Buffer }>((resolve, reject) => {
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request(url, { agent, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        // "end" can follow a connection cut mid-body; an incomplete message is an error, as with the built-in fetch.
        if (!res.complete) reject(Object.assign(new Error("terminated: the connection closed mid-body"), { code: "ECONNRESET" }));
        else resolve(Object.assign(res, { body: Buffer.concat(chunks) }));
      });
      res.on("error", reject);
      res.on("close", () => { if (!res.complete) reject(Object.assign(new Error("terminated: the connection closed mid-body"), { code: "ECONNRESET" })); });
    });
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => signal?.removeEventListener("abort", onAbort));
    req.on("error", reject);
    req.end(body);
  });

  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if ([301, 302, 303, 307, 308].includes(status) && location && redirects < MAX_REDIRECTS && init.redirect !== "manual") {
    const keepBody = status === 307 || status === 308;
    return nodeFetch(new URL(location, url), { ...init, method: keepBody ? method : "GET", body: keepBody ? init.body : undefined }, redirects + 1);
  }
  const out = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!.toLowerCase();
    // The body is handed over decoded, so its encoding and length headers no longer describe it.
    if (name !== "content-encoding" && name !== "content-length") out.append(name, res.rawHeaders[i + 1]!);
  }
  const nullBody = status === 204 || status === 304 || method === "HEAD";
  const bytes = nullBody ? null : decode(res.body, res.headers["content-encoding"]);
  return new BufferedResponse(bytes, status, res.statusMessage ?? "", out, url.href, redirects > 0) as unknown as Response;
}
