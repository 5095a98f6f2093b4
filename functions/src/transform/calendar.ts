import type { DateRow } from '../schema/tables.js';

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
] as const; // prettier-ignore
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** YYYYMMDD of a UTC date, the key of dim_date. */
export function dateKey(time: Date): number {
  return time.getUTCFullYear() * 10_000 + (time.getUTCMonth() + 1) * 100 + time.getUTCDate();
}

/** ISO 8601 week-numbering year and week of a UTC date. */
export function isoWeek(time: Date): { isoYear: number; isoWeek: number } {
  const d = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const dayOfWeek = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dayOfWeek); // the Thursday of this week decides the year
  const isoYear = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { isoYear, isoWeek: week };
}

/** The dim_date row of the UTC date of `time`. */
export function calendarRow(time: Date): DateRow {
  const dayOfWeek = time.getUTCDay() || 7;
  const { isoYear, isoWeek: week } = isoWeek(time);
  const month = time.getUTCMonth() + 1;
  return {
    date_key: dateKey(time),
    date: time.toISOString().slice(0, 10),
    year: time.getUTCFullYear(),
    quarter: Math.ceil(month / 3),
    month,
    month_name: MONTHS[month - 1]!,
    day_of_month: time.getUTCDate(),
    day_of_week: dayOfWeek,
    day_name: DAYS[dayOfWeek - 1]!,
    iso_year: isoYear,
    iso_week: week,
    is_weekend: dayOfWeek >= 6,
  };
}
