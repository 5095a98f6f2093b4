// Readable numbers for the dashboard, one function per format of dashboards/definition.ts
// (ValueFormat). Plain JavaScript: the browser loads this file as it is, and the unit tests import it.

const compactCurrency = new Map();
const priceCurrency = new Map();

function cached(map, key, make) {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** "2026-12-05" from a Date, an ISO string or epoch ms, read in UTC. */
export function utcDate(value) {
  return new Date(value).toISOString().slice(0, 10);
}

/** "2026-12-05 14:30 UTC". */
export function utcDateTime(value) {
  const iso = new Date(value).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "45 min", "3 h 5 min", "2 d 4 h". */
export function minutes(value) {
  const m = Math.round(value);
  if (Math.abs(m) < 60) return `${m} min`;
  if (Math.abs(m) < 48 * 60) return `${Math.trunc(m / 60)} h ${Math.abs(m % 60)} min`;
  return `${Math.trunc(m / 1440)} d ${Math.abs(Math.trunc((m % 1440) / 60))} h`;
}

/**
 * Formats one value; null and undefined show as an en dash. `currency` is the ISO code of the quote
 * currency (usd by default).
 */
export function formatValue(value, format, currency = 'usd') {
  if (value === null || value === undefined || value === '') return '–';
  const code = currency.toUpperCase();
  switch (format) {
    case 'currency_compact':
      return cached(
        compactCurrency,
        code,
        () =>
          new Intl.NumberFormat('en-US', {
            style: 'currency',
            currency: code,
            notation: 'compact',
            // Three significant digits: $1.23T, $56.3K, $5.6M (trailing zeros dropped).
            maximumSignificantDigits: 3,
          }),
      ).format(value);
    case 'currency_price': {
      // Prices span 1e-9 to 1e5: whole cents above 1, four significant digits below.
      const small = Math.abs(value) < 1 && value !== 0;
      return cached(
        priceCurrency,
        `${code}:${small}`,
        () =>
          new Intl.NumberFormat('en-US', {
            style: 'currency',
            currency: code,
            ...(small
              ? { maximumSignificantDigits: 4, minimumSignificantDigits: 2 }
              : { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
          }),
      ).format(value);
    }
    case 'percent':
      return `${value.toFixed(2)}%`;
    case 'ratio_percent':
      return `${(value * 100).toFixed(2)}%`;
    case 'number_compact':
      return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
    case 'date_utc':
      return utcDate(value);
    case 'datetime_utc':
      return utcDateTime(value);
    case 'minutes':
      return minutes(value);
    default:
      return String(value);
  }
}
