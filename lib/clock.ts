let offsetMs = 0;

/**
 * The time every request is handled at. One place, so that tests can move time forward
 * (a lock expiring, a key's window closing) without sleeping.
 */
export const now = (): Date => new Date(Date.now() + offsetMs);

/** Test support: shifts `now()` by `ms` from the real clock (0 restores it). */
export const setClockOffset = (ms: number): void => {
  offsetMs = ms;
};
