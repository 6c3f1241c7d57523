import { vi } from 'vitest';

/**
 * Captures the error log lines the handler writes for a 500 (one JSON object per line), for
 * tests that provoke one on purpose: they assert what was logged instead of printing it.
 * Restored by `vi.restoreAllMocks()`.
 */
export const captureErrorLog = (): { lines: () => { level: string; requestId: string; error: string }[] } => {
  const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  return { lines: () => spy.mock.calls.map(([line]) => JSON.parse(String(line))) };
};
