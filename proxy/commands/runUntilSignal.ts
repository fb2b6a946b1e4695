/**
 * Serving commands run until SIGINT, SIGTERM or SIGHUP (a closed terminal), or their own end, and
 * then shut down cleanly: sessions closed, the token file removed. A second signal while shutting
 * down exits at once.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function untilStopped(register?: (stop: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      for (const signal of STOP_SIGNALS) process.off(signal, stop);
      for (const signal of STOP_SIGNALS) process.once(signal, () => process.exit(1));
      resolve();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, stop);
    register?.(stop);
  });
}
