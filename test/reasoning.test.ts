import { describe, expect, it } from "vitest";
import { splitReasoning } from "../src/adapters/reasoning.js";

describe("reasoning trace extraction", () => {
  it("takes reasoning_content when present and leaves the content as the answer", () => {
    expect(splitReasoning("答案：B", "患者INR升高提示……")).toEqual({ answer: "答案：B", reasoning: "患者INR升高提示……" });
  });
  it("removes <think> blocks from the answer and keeps them as the trace", () => {
    expect(splitReasoning("<think>先排除气胸。\n再看心电图。</think>\n\n诊断：急性心包炎")).toEqual({ answer: "诊断：急性心包炎", reasoning: "先排除气胸。\n再看心电图。" });
  });
  it("joins several blocks, case-insensitively", () => {
    expect(splitReasoning("<THINK>一</THINK>甲<think>二</think>乙")).toEqual({ answer: "甲乙", reasoning: "一\n\n二" });
  });
  it("handles a reply whose opening tag was stripped by the server", () => {
    expect(splitReasoning("推理过程……</think>最终答案：A")).toEqual({ answer: "最终答案：A", reasoning: "推理过程……" });
  });
  it("treats an unterminated <think> as trace (reply cut off while thinking)", () => {
    expect(splitReasoning("前言<think>还在想")).toEqual({ answer: "前言", reasoning: "还在想" });
  });
  it("returns a null trace when there is none", () => {
    expect(splitReasoning("直接回答", null)).toEqual({ answer: "直接回答", reasoning: null });
    expect(splitReasoning(null, "  ")).toEqual({ answer: "", reasoning: null });
  });
});
