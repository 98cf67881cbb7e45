import { describe, expect, it } from 'vitest';
import { levelFromSeverityNumber, levelFromSyslogSeverity, parseLevel } from '../../src/model/levels.js';

describe('levels', () => {
  it.each([
    ['WARN', 'warn', 13], ['Warning', 'warn', 13], ['err', 'error', 17], ['CRITICAL', 'fatal', 22],
    ['notice', 'info', 10], ['dbg', 'debug', 5], ['TRACE', 'trace', 1], ['panic', 'fatal', 24], ['E', 'error', 17],
  ])('reads the word %s', (word, level, severity) => {
    expect(parseLevel(word)).toEqual({ level, severity });
  });

  it('reads pino/bunyan numbers, also as strings', () => {
    expect([10, 20, 30, 40, 50, 60].map((n) => parseLevel(n)?.level)).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    expect(parseLevel('50')?.level).toBe('error');
    expect(parseLevel(5)).toBeUndefined();
  });

  it('reads OpenTelemetry severity numbers when asked', () => {
    expect(parseLevel(17, 'otel')).toEqual({ level: 'error', severity: 17 });
    expect(levelFromSeverityNumber(12)).toEqual({ level: 'info', severity: 12 });
    expect(parseLevel(30, 'otel')).toBeUndefined();
  });

  it('maps syslog severities 0-7', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((s) => levelFromSyslogSeverity(s).level)).toEqual(['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug']);
  });

  it('says nothing for unknown words', () => {
    expect(parseLevel('loud')).toBeUndefined();
    expect(parseLevel(null)).toBeUndefined();
  });
});
