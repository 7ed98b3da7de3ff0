// A fixed number of workers over a lazy sequence of items: the next item is made only when a worker is free, so a
// 100,000-unit run queues nothing up front, and once a stop is asked for no further item is made at all.

/** Runs `each` over `items`, `workers` at a time. Returns true when a stop left items undone. */
export async function drain<T>(items: Iterator<T>, workers: number, each: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<boolean> {
  let stopped = false;
  const worker = async () => {
    for (let next = items.next(); !next.done; next = items.next()) {
      if (stop()) {
        stopped = true;
        return;
      }
      await each(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
  return stopped;
}
