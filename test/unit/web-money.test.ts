import { describe, expect, it } from 'vitest';
import { formatMoney, majorDigits, moneyInputText, parseMoney } from '../../web/src/money';

describe('money as people read it: minor units shown in major units, exactly', () => {
  it('420 minor units of EUR are 4.20; JPY has no decimals, BHD three', () => {
    expect([
      majorDigits(420, 2),
      majorDigits(-5, 2),
      majorDigits(0, 2),
      majorDigits(420, 0),
      majorDigits(4200, 3),
      majorDigits(2n ** 60n, 2),
      formatMoney(420, 'EUR', 'en-US'),
      formatMoney(420, 'JPY', 'en-US'),
      formatMoney(4200, 'BHD', 'en-US'),
      formatMoney(123456789, 'EUR', 'de-DE'),
      formatMoney(undefined, 'EUR', 'en-US'),
    ]).toEqual([
      '4.20',
      '-0.05',
      '0.00',
      '420',
      '4.200',
      '11529215046068469.76',
      '€4.20',
      '¥420',
      'BHD\u00a04.200',
      '1.234.567,89\u00a0€',
      '',
    ]);
  });

  it('an input shows the amount with the locale’s decimal mark and no symbol', () => {
    expect([moneyInputText(1250, 'EUR', 'en-US'), moneyInputText(1250, 'EUR', 'de-DE')]).toEqual([
      '12.50',
      '12,50',
    ]);
  });
});

describe('money as people type it', () => {
  it('"12.50" is 1250, "100" is 10000, in the locale’s own marks too', () => {
    expect(
      [
        ['12.50', 'en-US'],
        ['12.5', 'en-US'],
        ['100', 'en-US'],
        ['1,250.05', 'en-US'],
        [' 0.07 ', 'en-US'],
        ['-3.10', 'en-US'],
        ['12,50', 'de-DE'],
        ['1.250,05', 'de-DE'],
      ].map(([text = '', locale]) => parseMoney(text, 'EUR', locale)),
    ).toEqual([
      { ok: 1250 },
      { ok: 1250 },
      { ok: 10000 },
      { ok: 125005 },
      { ok: 7 },
      { ok: -310 },
      { ok: 1250 },
      { ok: 125005 },
    ]);
  });

  it('refuses what is no amount, more decimals than the currency has, and amounts past 2^53', () => {
    expect([
      parseMoney('12.505', 'EUR', 'en-US'),
      parseMoney('12.5', 'JPY', 'en-US'),
      parseMoney('1,2,50', 'EUR', 'en-US'),
      parseMoney('abc', 'EUR', 'en-US'),
      parseMoney('', 'EUR', 'en-US'),
      parseMoney('900719925474099.92', 'EUR', 'en-US'),
    ]).toEqual([
      { error: 'EUR amounts have at most 2 decimals.' },
      { error: 'JPY amounts have no decimals.' },
      { error: 'Not an amount: type it like 12.50.' },
      { error: 'Not an amount: type it like 12.50.' },
      { error: 'Not an amount: type it like 12.50.' },
      { error: 'This amount is too large.' },
    ]);
  });
});
