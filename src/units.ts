import { trans } from './i18n';

/**
 * Friendly units: lifetimes in hours/days/weeks, sizes in bytes, dates.
 */

export type LifetimeUnit = 'hours' | 'days' | 'weeks';

export const LIFETIME_UNITS: LifetimeUnit[] = ['hours', 'days', 'weeks'];

export const UNIT_SECONDS: Record<LifetimeUnit, number> = {
  hours: 3600,
  days: 86400,
  weeks: 604800
};

/** A lifetime as the user typed it. */
export interface ILifetime {
  value: number;
  unit: LifetimeUnit;
}

/** Seconds for a lifetime, rounded to whole seconds (NaN stays NaN). */
export function lifetimeToSeconds(lifetime: ILifetime): number {
  return Math.round(lifetime.value * UNIT_SECONDS[lifetime.unit]);
}

/**
 * The friendliest whole-ish unit for a number of seconds: weeks when it is a
 * whole number of weeks, else days when whole days, else hours (2 decimals).
 */
export function secondsToLifetime(seconds: number): ILifetime {
  if (seconds > 0 && seconds % UNIT_SECONDS.weeks === 0) {
    return { value: seconds / UNIT_SECONDS.weeks, unit: 'weeks' };
  }
  if (seconds > 0 && seconds % UNIT_SECONDS.days === 0) {
    return { value: seconds / UNIT_SECONDS.days, unit: 'days' };
  }
  return {
    value: Math.round((seconds / UNIT_SECONDS.hours) * 100) / 100,
    unit: 'hours'
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "2 weeks", "3 days", "12 hours", "1 day 6 hours", "45 minutes". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '—';
  }
  const s = Math.max(0, Math.round(seconds));
  if (s >= UNIT_SECONDS.weeks && s % UNIT_SECONDS.weeks === 0) {
    return plural(s / UNIT_SECONDS.weeks, 'week');
  }
  // Round to the unit shown last first, so that 6 days 23.6 hours reads "1 week", not "6 days 24 hours".
  if (s >= UNIT_SECONDS.days) {
    const totalHours = Math.round(s / UNIT_SECONDS.hours);
    const days = Math.floor(totalHours / 24);
    const hours = totalHours % 24;
    if (!hours && days % 7 === 0) {
      return plural(days / 7, 'week');
    }
    return hours
      ? `${plural(days, 'day')} ${plural(hours, 'hour')}`
      : plural(days, 'day');
  }
  if (s >= UNIT_SECONDS.hours) {
    const totalMinutes = Math.round(s / 60);
    const hours = Math.floor(totalMinutes / 60);
    const minutes = totalMinutes % 60;
    if (hours === 24) {
      return plural(1, 'day');
    }
    return minutes
      ? `${plural(hours, 'hour')} ${plural(minutes, 'minute')}`
      : plural(hours, 'hour');
  }
  if (s >= 60) {
    return plural(Math.round(s / 60), 'minute');
  }
  return plural(s, 'second');
}

/** Why a lifetime cannot be used, or null when it can. */
export function lifetimeProblem(
  seconds: number,
  maxSeconds?: number | null
): string | null {
  if (!isFinite(seconds) || seconds <= 0) {
    return trans.__('Enter a lifetime greater than zero.');
  }
  if (maxSeconds && seconds > maxSeconds) {
    return trans.__(
      'The longest lifetime allowed is %1.',
      formatDuration(maxSeconds)
    );
  }
  return null;
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Bytes in decimal (SI) units, as Rucio reports them: "1.5 GB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !isFinite(bytes)) {
    return '—';
  }
  if (bytes < 1000) {
    return `${Math.max(0, Math.round(bytes))} B`;
  }
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  let text = value.toFixed(digits);
  if (text.includes('.')) {
    text = text.replace(/\.?0+$/, '');
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** A count with thousands separators, or "—" when unknown. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !isFinite(n)) {
    return '—';
  }
  return n.toLocaleString('en-US');
}

/** A date-time in the user's locale, or "—". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

/** The fraction done (0..1) of `done` out of `total`, or null if unknown. */
export function fraction(
  done: number | null | undefined,
  total: number | null | undefined
): number | null {
  if (
    done === null ||
    done === undefined ||
    total === null ||
    total === undefined ||
    total <= 0
  ) {
    return null;
  }
  return Math.min(1, Math.max(0, done / total));
}
