/** Serving commands run until SIGINT/SIGTERM (or their own end) and then shut down cleanly. */
export function untilStopped(register?: (stop: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    register?.(stop);
  });
}
