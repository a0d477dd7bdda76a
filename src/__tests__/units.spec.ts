import {
  formatBytes,
  formatCount,
  formatDuration,
  fraction,
  lifetimeProblem,
  lifetimeToSeconds,
  secondsToLifetime
} from '../units';

describe('lifetime units', () => {
  it('converts hours, days and weeks to seconds', () => {
    expect(lifetimeToSeconds({ value: 12, unit: 'hours' })).toBe(43200);
    expect(lifetimeToSeconds({ value: 7, unit: 'days' })).toBe(604800);
    expect(lifetimeToSeconds({ value: 2, unit: 'weeks' })).toBe(1209600);
    expect(lifetimeToSeconds({ value: 1.5, unit: 'days' })).toBe(129600);
    expect(lifetimeToSeconds({ value: NaN, unit: 'days' })).toBeNaN();
  });

  it('picks the friendliest unit for seconds', () => {
    expect(secondsToLifetime(1209600)).toEqual({ value: 2, unit: 'weeks' });
    expect(secondsToLifetime(259200)).toEqual({ value: 3, unit: 'days' });
    expect(secondsToLifetime(43200)).toEqual({ value: 12, unit: 'hours' });
    expect(secondsToLifetime(5400)).toEqual({ value: 1.5, unit: 'hours' });
    expect(secondsToLifetime(2592000)).toEqual({ value: 30, unit: 'days' });
  });

  it('round-trips through the friendly form', () => {
    for (const s of [3600, 86400, 604800, 2592000, 90000]) {
      expect(lifetimeToSeconds(secondsToLifetime(s))).toBe(s);
    }
  });

  it('says why a lifetime cannot be used', () => {
    expect(lifetimeProblem(0)).toMatch(/greater than zero/);
    expect(lifetimeProblem(NaN)).toMatch(/greater than zero/);
    expect(lifetimeProblem(-5, 100)).toMatch(/greater than zero/);
    expect(lifetimeProblem(3000000, 2592000)).toBe(
      'The longest lifetime allowed is 30 days.'
    );
    expect(lifetimeProblem(2592000, 2592000)).toBeNull();
    expect(lifetimeProblem(10, null)).toBeNull();
  });

  it('formats durations', () => {
    expect(formatDuration(1209600)).toBe('2 weeks');
    expect(formatDuration(604800)).toBe('1 week');
    expect(formatDuration(86400)).toBe('1 day');
    expect(formatDuration(90000)).toBe('1 day 1 hour');
    // Rounded to the last unit shown: never "6 days 24 hours" or "23 hours 60 minutes".
    expect(formatDuration(604800 - 1200)).toBe('1 week');
    expect(formatDuration(86400 - 20)).toBe('1 day');
    expect(formatDuration(2 * 86400 + 23.8 * 3600)).toBe('3 days');
    expect(formatDuration(7200)).toBe('2 hours');
    expect(formatDuration(1800)).toBe('30 minutes');
    expect(formatDuration(5)).toBe('5 seconds');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('sizes and counts', () => {
  it('formats bytes in SI units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1 kB');
    expect(formatBytes(1536000)).toBe('1.54 MB');
    expect(formatBytes(12_300_000_000)).toBe('12.3 GB');
    expect(formatBytes(250e12)).toBe('250 TB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
  });

  it('formats counts and fractions', () => {
    expect(formatCount(10000)).toBe('10,000');
    expect(formatCount(null)).toBe('—');
    expect(fraction(1, 4)).toBe(0.25);
    expect(fraction(5, 4)).toBe(1);
    expect(fraction(1, 0)).toBeNull();
    expect(fraction(null, 4)).toBeNull();
  });
});
