import type { Adapter } from "./types.js";
import type { AdapterConfig } from "../config/schema.js";
import { OpenAIAdapter } from "./openai.js";
import { MockAdapter } from "./mock.js";

export function createAdapter(cfg: AdapterConfig): Adapter {
  switch (cfg.kind) {
    case "openai":
      return new OpenAIAdapter(cfg);
    case "mock":
      return new MockAdapter(cfg);
  }
}
