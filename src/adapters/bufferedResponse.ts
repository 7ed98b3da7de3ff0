// A fetch Response for a body that is already in memory (nodeFetch buffers every reply). undici's Response wraps
// the bytes in a web ReadableStream and reads them back through it; the SDK reads each reply once, whole, with
// json() or text(), so this one decodes the buffer directly and builds a stream only if `body` is asked for.
// Measured on the bench's 1,000 cases: see the commit that added it.

export class BufferedResponse {
  readonly type = "basic";
  #bytes: Buffer | null;
  #used = false;
  #stream: ReadableStream<Uint8Array> | null = null;

  constructor(bytes: Buffer | null, readonly status: number, readonly statusText: string, readonly headers: Headers, readonly url: string, readonly redirected: boolean) {
    this.#bytes = bytes;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The body as a stream, made on first use; reading it uses the body up, as with fetch. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#bytes === null) return null;
    if (!this.#stream) {
      const bytes = this.#bytes;
      const onRead = () => { this.#used = true; };
      this.#stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          onRead();
          controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          controller.close();
        },
      });
    }
    return this.#stream;
  }

  #take(): Buffer {
    if (this.#used) throw new TypeError("Body is unusable: Body has already been read");
    this.#used = true;
    return this.#bytes ?? Buffer.alloc(0);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async text(): Promise<string> {
    const s = this.#take().toString("utf8");
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s; // as fetch decodes: a byte-order mark is dropped
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.arrayBuffer()], { type: this.headers.get("content-type") ?? "" });
  }

  async formData(): Promise<FormData> {
    return new Response(this.#take(), { headers: this.headers }).formData();
  }

  clone(): BufferedResponse {
    if (this.#used) throw new TypeError("Response.clone: Body has already been consumed");
    return new BufferedResponse(this.#bytes, this.status, this.statusText, new Headers(this.headers), this.url, this.redirected);
  }
}
