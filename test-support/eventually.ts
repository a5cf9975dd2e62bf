/**
 * Polling for what gives a test no push signal (a queue drained, rows in the log): `check` again
 * every 200 ms until it answers non-null (a throw counts as not yet), or fail saying what did not
 * happen in time.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | null>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
