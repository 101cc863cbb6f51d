/**
 * Retries an assertion until it passes or `timeoutMs` runs out, then fails with the assertion's own
 * last error, so the test output says what was still wrong.
 */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
