// The fetch the adapters hand to the openai SDK: a real loopback server, each behaviour the SDK relies on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import zlib from "node:zlib";
import type { AddressInfo } from "node:net";
import { nodeFetch } from "../src/adapters/nodeFetch.js";
import { classifyError } from "../src/adapters/errors.js";

let server: http.Server;
let base = "";
const seen: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => { body += c.toString(); });
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      switch (req.url) {
        case "/echo": res.writeHead(200, { "content-type": "application/json", "x-trace": "t1" }); res.end(JSON.stringify({ method: req.method, body })); break;
        case "/gzip": { const z = zlib.gzipSync(Buffer.from('{"答案":"B"}')); res.writeHead(200, { "content-encoding": "gzip", "content-length": z.length }); res.end(z); break; }
        case "/br": res.writeHead(200, { "content-encoding": "br" }); res.end(zlib.brotliCompressSync(Buffer.from("brotli ok"))); break;
        case "/moved": res.writeHead(307, { location: "/echo" }); res.end(); break;
        case "/see-other": res.writeHead(303, { location: "/echo" }); res.end(); break;
        case "/loop": res.writeHead(302, { location: "/loop" }); res.end(); break;
        case "/empty": res.writeHead(204); res.end(); break;
        case "/limited": res.writeHead(429, { "retry-after": "2" }); res.end('{"error":"slow down"}'); break;
        case "/cut": res.writeHead(200, { "content-length": "1000" }); res.write('{"partial":'); setTimeout(() => res.socket?.destroy(), 20); break;
        case "/bom": res.writeHead(200, { "content-type": "application/json" }); res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":1}')])); break;
        case "/hang": break; // never answers
        default: res.writeHead(404); res.end("no");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

describe("nodeFetch", () => {
  it("sends method, headers and body, and returns status, headers and body like fetch", async () => {
    const res = await nodeFetch(`${base}/echo`, { method: "post", headers: new Headers({ "X-Api": "v", "content-type": "application/json" }), body: '{"q":"心率"}' });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get("x-trace")).toBe("t1");
    expect(await res.json()).toEqual({ method: "POST", body: '{"q":"心率"}' });
    const last = seen.at(-1)!;
    expect(last.headers["x-api"]).toBe("v");
    expect(last.headers["content-length"]).toBe(String(Buffer.byteLength('{"q":"心率"}')));
  });

  it("decodes gzip and brotli bodies and drops the encoding headers that no longer describe them", async () => {
    const g = await nodeFetch(`${base}/gzip`);
    expect(await g.json()).toEqual({ 答案: "B" });
    expect(g.headers.get("content-encoding")).toBeNull();
    expect(await (await nodeFetch(`${base}/br`)).text()).toBe("brotli ok");
  });

  it("follows redirects: 307 keeps method and body, 303 becomes GET, a loop stops after five hops", async () => {
    const r = await nodeFetch(`${base}/moved`, { method: "POST", body: "same body" });
    expect(await r.json()).toEqual({ method: "POST", body: "same body" });
    const s = await nodeFetch(`${base}/see-other`, { method: "POST", body: "dropped" });
    expect(await s.json()).toEqual({ method: "GET", body: "" });
    const before = seen.length;
    const loop = await nodeFetch(`${base}/loop`);
    expect(loop.status).toBe(302);
    expect(seen.length - before).toBe(6);
  });

  it("reads a body once, as fetch does: json, text, a stream or a clone, and a second read is refused", async () => {
    const a = await nodeFetch(`${base}/echo`, { method: "POST", body: "x" });
    expect(a.url).toBe(`${base}/echo`);
    expect(a.bodyUsed).toBe(false);
    const copy = a.clone();
    expect(await a.text()).toBe('{"method":"POST","body":"x"}');
    expect(a.bodyUsed).toBe(true);
    await expect(a.json()).rejects.toThrow(TypeError);
    expect(() => a.clone()).toThrow(TypeError);
    expect(new Uint8Array(await copy.arrayBuffer())).toEqual(new Uint8Array(Buffer.from('{"method":"POST","body":"x"}')));

    const s = await nodeFetch(`${base}/echo`, { method: "POST", body: "streamed" });
    const chunks: Uint8Array[] = [];
    for await (const c of s.body!) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('{"method":"POST","body":"streamed"}');
    expect(s.bodyUsed).toBe(true);
    await expect(s.text()).rejects.toThrow(TypeError);

    // A byte-order mark is dropped when decoding, as fetch's text() and json() do.
    expect(await (await nodeFetch(`${base}/bom`)).json()).toEqual({ ok: 1 });
    const m = await nodeFetch(`${base}/moved`, { method: "POST", body: "b" });
    expect(m.redirected).toBe(true);
    expect(m.url).toBe(`${base}/echo`);
  });

  it("a 204 has no body; a 429 keeps its Retry-After for the runner", async () => {
    const e = await nodeFetch(`${base}/empty`);
    expect(e.status).toBe(204);
    expect(e.body).toBeNull();
    const l = await nodeFetch(`${base}/limited`);
    expect(l.status).toBe(429);
    expect(l.headers.get("retry-after")).toBe("2");
  });

  it("a connection cut mid-body rejects with a retryable ECONNRESET, not a truncated body", async () => {
    const err = (await nodeFetch(`${base}/cut`).catch((x: unknown) => x)) as Error & { code?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe("ECONNRESET");
    expect(classifyError(err).retryable).toBe(true);
  });

  it("an abort rejects with an AbortError (the name the SDK recognises), before or during the request", async () => {
    const c = new AbortController();
    c.abort();
    await expect(nodeFetch(`${base}/echo`, { signal: c.signal })).rejects.toMatchObject({ name: "AbortError" });
    const c2 = new AbortController();
    setTimeout(() => c2.abort(), 50);
    await expect(nodeFetch(`${base}/hang`, { signal: c2.signal })).rejects.toMatchObject({ name: "AbortError" });
    await expect(nodeFetch(`${base}/hang`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("a closed port is a retryable connection error", async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = (await nodeFetch(`http://127.0.0.1:${port}/`).catch((x: unknown) => x)) as Error & { code?: string };
    expect(err.code).toBe("ECONNREFUSED");
    expect(classifyError(err).retryable).toBe(true);
  });

  it("a streamed request body goes to the built-in fetch and still arrives", async () => {
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("streamed")); c.close(); } });
    const res = await nodeFetch(`${base}/echo`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(await res.json()).toEqual({ method: "POST", body: "streamed" });
  });
});
