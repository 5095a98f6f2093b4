import { formatValue, minutes, utcDate, utcDateTime } from '../../../twin/src/dashboard/web/format.js';

/** The dashboard's number and date formats (the page's own module, imported as the browser loads it). */
describe('formatValue', () => {
  test.each([
    [1_234_000_000_000, 'currency_compact', '$1.23T'],
    [5_600_000, 'currency_compact', '$5.6M'],
    [98_765.4321, 'currency_price', '$98,765.43'],
    [0.000012345, 'currency_price', '$0.00001235'],
    [0.5, 'currency_price', '$0.50'],
    [12.3456, 'percent', '12.35%'],
    [-3.2, 'percent', '-3.20%'],
    [0.0345, 'ratio_percent', '3.45%'],
    [1500, 'number_compact', '1.5K'],
    [95, 'minutes', '1 h 35 min'],
  ] as const)('%p as %s is %s', (value, format, expected) => {
    expect(formatValue(value, format)).toBe(expected);
  });

  test('uses the quote currency', () => {
    expect(formatValue(2_500_000_000, 'currency_compact', 'eur')).toBe('€2.5B');
  });

  test('null and undefined are a dash, not 0 or NaN', () => {
    expect(formatValue(null, 'percent')).toBe('–');
    expect(formatValue(undefined, 'currency_price')).toBe('–');
  });
});

describe('UTC dates and durations', () => {
  // 23:30 on 5 December in UTC is already 6 December east of Greenwich: the page must not care.
  const late = '2026-12-05T23:30:00.000Z';
  test('dates and times are read in UTC', () => {
    expect(utcDate(late)).toBe('2026-12-05');
    expect(utcDateTime(late)).toBe('2026-12-05 23:30 UTC');
    expect(formatValue(late, 'date_utc')).toBe('2026-12-05');
  });
  test.each([
    [0, '0 min'],
    [59, '59 min'],
    [60, '1 h 0 min'],
    [3000, '2 d 2 h'],
  ])('%d minutes read %s', (m, text) => {
    expect(minutes(m)).toBe(text);
  });
});
