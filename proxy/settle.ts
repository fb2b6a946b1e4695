/** What a step that may or may not have to wait came to: its value, or what it threw. */
export type Settled<T> = { value: T } | { error: unknown };

/**
 * Runs `step` and hands its outcome to `then`: in this turn when the step returns a value, once
 * the promise settles when it returns one. A throw and a rejection both arrive as `{ error }`.
 */
export function settle<T>(step: () => T | Promise<T>, then: (settled: Settled<T>) => void): void {
  let result: T | Promise<T>;
  try {
    result = step();
  } catch (error) {
    return then({ error });
  }
  if (result instanceof Promise) result.then((value) => then({ value }), (error: unknown) => then({ error }));
  else then({ value: result });
}
