// How far V8 lets the heap grow past what is live. A long run keeps little alive (tens of MB) but allocates fast
// (every call's request, reply and rows), and by default V8 lets the old generation grow to several times the live
// size before a full collection: measured on the bench, a 100,000-case run peaked at ~285 MB RSS of mostly garbage.
// Growing at most 30 % past the live size after each full collection kept the same run near 155 MB. It costs CPU
// (more full collections: +0.1 ms per case at 1,000 cases), so only runs large enough to need it ask for it —
// decided from the datasets' size before they are read, since the limit in force while loading is the one the
// first seconds of calls run under (set after planning, the 100,000-case run still peaked at 283 MB).
import v8 from "node:v8";

/** Dataset bytes from which a run keeps its heap close to its live size (~1,300 rich cases, ~8,000 short ones). */
export const LARGE_DATASET_BYTES = 4 * 1024 * 1024;
/** Stored answers from which a re-judging does the same (it reads them from the database, so it knows before). */
export const LARGE_REJUDGE_ANSWERS = 5000;

export function keepHeapNearLiveSize(): void {
  // A --heap-growing-percent given to node by the user stands. V8 reads this flag at every full collection, so it
  // takes effect when set at run time (unlike the heap size flags, which are fixed when the process starts).
  if (process.execArgv.some((a) => a.startsWith("--heap-growing-percent") || a.startsWith("--heap_growing_percent"))) return;
  v8.setFlagsFromString("--heap-growing-percent=30");
}
