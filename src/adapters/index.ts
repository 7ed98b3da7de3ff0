import type { Adapter } from "./types.js";
import type { AdapterConfig } from "../config/schema.js";
import { OpenAIAdapter } from "./openai.js";
import { MockAdapter } from "./mock.js";
import { HttpAdapter } from "./http.js";
import { ExecAdapter } from "./exec.js";
import { ReplayAdapter } from "./replay.js";

export function createAdapter(cfg: AdapterConfig): Adapter {
  switch (cfg.kind) {
    case "openai":
      return new OpenAIAdapter(cfg);
    case "mock":
      return new MockAdapter(cfg);
    case "http":
      return new HttpAdapter(cfg);
    case "exec":
      return new ExecAdapter(cfg);
    case "replay":
      return new ReplayAdapter(cfg);
  }
}
