// --dry-run: what a run would do and roughly cost, without calling anything.
import type { LoadedCase } from "../dataset/load.js";
import type { Taxonomy } from "../taxonomy/load.js";
import type { Price } from "../config/schema.js";
import { needsJudge } from "../scoring/caseScore.js";
import { unitMessages, unitsOf } from "./prompt.js";
import { renderJudgePrompt, type JudgeTemplates } from "../judge/prompt.js";

export interface RunPlan {
  cases: number;
  tasks: number;
  byDimension: Record<string, number>;
  candidateCalls: number;
  judgeCalls: number;
  estimatedTokens: { candidate: { input: number; output: number }; judge: { input: number; output: number } };
  estimatedCost: { candidate: number | null; judge: number | null; currency: string | null };
}

const chars2tokens = (n: number) => Math.ceil(n / 2);

/** Estimates assume ~2 characters a token, answers of `answerTokens` and judge replies of ~400 tokens. */
export function planRun(cases: LoadedCase[], tax: Taxonomy, templates: JudgeTemplates, o: { repeats: number; answerTokens: number; candidateModel?: string; judgeModel?: string; prices?: Record<string, Price> }): RunPlan {
  const plan: RunPlan = {
    cases: cases.length, tasks: new Set(cases.map((c) => c.case.task)).size, byDimension: {}, candidateCalls: 0, judgeCalls: 0,
    estimatedTokens: { candidate: { input: 0, output: 0 }, judge: { input: 0, output: 0 } },
    estimatedCost: { candidate: null, judge: null, currency: null },
  };
  for (const lc of cases) {
    plan.byDimension[lc.dimension] = (plan.byDimension[lc.dimension] ?? 0) + 1;
    for (const u of unitsOf(lc.case, o.repeats)) {
      const msgs = unitMessages(u);
      plan.candidateCalls++;
      plan.estimatedTokens.candidate.input += chars2tokens(msgs.reduce((a, m) => a + m.content.length, 0));
      plan.estimatedTokens.candidate.output += o.answerTokens;
      if (needsJudge(u.format)) {
        plan.judgeCalls++;
        const task = tax.task(u.case.task)!;
        const p = renderJudgePrompt(templates[u.case.provenance.language], { case: u.case, task, shown: msgs, answer: "", reasoning: null, objective: null });
        plan.estimatedTokens.judge.input += chars2tokens(p.messages.reduce((a, m) => a + m.content.length, 0)) + o.answerTokens;
        plan.estimatedTokens.judge.output += 400;
      }
    }
  }
  const cost = (model: string | undefined, t: { input: number; output: number }) => {
    const price = model ? o.prices?.[model] : undefined;
    if (price) plan.estimatedCost.currency = price.currency;
    return price ? (t.input * price.input + t.output * price.output) / 1e6 : null;
  };
  plan.estimatedCost.candidate = cost(o.candidateModel, plan.estimatedTokens.candidate);
  plan.estimatedCost.judge = cost(o.judgeModel, plan.estimatedTokens.judge);
  return plan;
}
