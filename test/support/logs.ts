import { vi } from 'vitest';

/** One structured log line as the handlers write it (Powertools Logger: one JSON object per line). */
// biome-ignore lint/suspicious/noExplicitAny: a log line carries whatever fields its request had.
export type LogLine = Record<string, any>;

/**
 * Captures what is written to `stream` while the capture lasts, one JSON object per line,
 * without printing it. Restored by `vi.restoreAllMocks()`.
 */
export const captureLines = (stream: NodeJS.WriteStream): { lines: () => LogLine[] } => {
  const spy = vi.spyOn(stream, 'write').mockImplementation(() => true);
  return {
    lines: () =>
      spy.mock.calls
        .flatMap(([chunk]) => String(chunk).split('\n'))
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LogLine),
  };
};

/**
 * Captures the error log lines the handler writes for a 500 (the request's line, at level
 * ERROR, on stderr), for tests that provoke one on purpose: they assert what was logged
 * instead of printing it. Restored by `vi.restoreAllMocks()`.
 */
export const captureErrorLog = (): { lines: () => { level: string; requestId: string; error: string }[] } => {
  const capture = captureLines(process.stderr);
  return {
    lines: () =>
      capture
        .lines()
        .filter((line) => line.level === 'ERROR')
        .map((line) => ({ level: 'error', requestId: line.requestId, error: line.error })),
  };
};
