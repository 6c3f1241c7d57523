/**
 * Money as people read and type it. The API keeps amounts as integers in minor units (cents);
 * people see and type major units with their currency's decimals (4.20 EUR, 420 JPY,
 * 4.200 BHD). Every conversion works on the digits, never on floating point: 420 is "4.20",
 * and "12.50" is 1250, exactly.
 */

/** How many decimals a currency's amounts have (ISO 4217's minor unit, as the runtime's ICU knows it). */
export const decimalsOf = (currency: string): number =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** The decimal and grouping characters of a locale (`.` and `,` in English, `,` and `.` in German). */
const separatorsOf = (locale: string | undefined) => {
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
  return {
    decimal: parts.find((part) => part.type === 'decimal')?.value ?? '.',
    group: parts.find((part) => part.type === 'group')?.value ?? ',',
  };
};

/** Minor units as a plain decimal in major units, exactly: 420 → "4.20", -5 → "-0.05", 420 (0 decimals) → "420". */
export const majorDigits = (minor: number | bigint, decimals: number): `${number}` => {
  const negative = minor < 0;
  const digits = String(negative ? -BigInt(minor) : BigInt(minor)).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}` as `${number}`;
};

/** An amount for reading: "€4.20" in English, "4,20 €" in German; `undefined` (not set) is empty. */
export const formatMoney = (minor: number | bigint | undefined, currency: string, locale?: string): string =>
  minor === undefined
    ? ''
    : new Intl.NumberFormat(locale, { style: 'currency', currency }).format(
        majorDigits(minor, decimalsOf(currency)),
      );

/** An amount as a money input shows it for editing: "4.20" (the locale's decimal mark, no symbol, no grouping). */
export const moneyInputText = (
  minor: number | bigint | undefined,
  currency: string,
  locale?: string,
): string =>
  minor === undefined
    ? ''
    : majorDigits(minor, decimalsOf(currency)).replace('.', separatorsOf(locale).decimal);

export type Parsed = { ok: number } | { error: string };

/**
 * What a person typed, in minor units: "12.50" → 1250, "12" → 1200, "1,250.5" → 125050 in
 * English ("1.250,5" in German). Refuses what is not an amount, more decimals than the
 * currency has, and amounts past 2^53 minor units (the API's integers).
 */
export const parseMoney = (text: string, currency: string, locale?: string): Parsed => {
  const decimals = decimalsOf(currency);
  const { decimal, group } = separatorsOf(locale);
  const compact = text.replace(/[\s\u00a0\u202f]/g, '');
  const at = compact.lastIndexOf(decimal);
  const wholePart = at < 0 ? compact : compact.slice(0, at);
  const fraction = at < 0 ? '' : compact.slice(at + 1);
  const sign = /^[-+]/.test(wholePart) ? (wholePart[0] ?? '') : '';
  const unsigned = wholePart.slice(sign.length);
  // Grouping only where it belongs (1,250,000), never "1,2,50".
  const grouped = unsigned.split(group);
  const wellGrouped =
    grouped.length === 1 ||
    (/^\d{1,3}$/.test(grouped[0] ?? '') && grouped.slice(1).every((run) => /^\d{3}$/.test(run)));
  const whole = grouped.join('');
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(fraction) || !wellGrouped || (whole === '' && fraction === ''))
    return { error: `Not an amount: type it like ${moneyInputText(1250, currency, locale)}.` };
  if (fraction.length > decimals)
    return {
      error:
        decimals === 0
          ? `${currency} amounts have no decimals.`
          : `${currency} amounts have at most ${decimals} decimals.`,
    };
  const minor = BigInt(`${whole || '0'}${fraction.padEnd(decimals, '0')}`) * (sign === '-' ? -1n : 1n);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER))
    return { error: 'This amount is too large.' };
  return { ok: Number(minor) };
};
