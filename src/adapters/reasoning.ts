// Separates a model's reasoning trace from its final answer.
const THINK_BLOCK = /<think>([\s\S]*?)<\/think>/gi;

export interface SplitReply {
  answer: string;
  reasoning: string | null;
}

/**
 * reasoning_content (DeepSeek-R1, Qwen and others) wins when present; otherwise <think>…</think> blocks are
 * taken out of the content. Some servers strip the opening tag, leaving "trace…</think>answer": handled too.
 */
export function splitReasoning(content: string | null | undefined, reasoningContent?: string | null): SplitReply {
  let text = content ?? "";
  const traces: string[] = [];
  if (reasoningContent && reasoningContent.trim()) traces.push(reasoningContent.trim());
  text = text.replace(THINK_BLOCK, (_m, inner: string) => {
    if (inner.trim()) traces.push(inner.trim());
    return "";
  });
  const orphanClose = text.toLowerCase().indexOf("</think>");
  if (orphanClose >= 0) {
    const before = text.slice(0, orphanClose).trim();
    if (before) traces.push(before);
    text = text.slice(orphanClose + "</think>".length);
  }
  const openOnly = text.toLowerCase().indexOf("<think>");
  if (openOnly >= 0) {
    // An unterminated trace (the reply was cut off while thinking): everything after the tag is trace.
    const after = text.slice(openOnly + "<think>".length).trim();
    if (after) traces.push(after);
    text = text.slice(0, openOnly);
  }
  return { answer: text.trim(), reasoning: traces.length ? traces.join("\n\n") : null };
}
