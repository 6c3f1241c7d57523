import { useEffect, useState } from 'preact/hooks';

/** A moment as people read it, with its date, in their locale: "Jan 5, 2026, 10:04:31 AM". */
export const when = (iso: string, locale?: string): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));

/** The time now, ticking every second: for countdowns. */
export const useNow = (): number => {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
};

/** "4:05": minutes and seconds from `now` to `iso`, never below 0:00. */
export const countdown = (iso: string, now: number): string => {
  const seconds = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};
