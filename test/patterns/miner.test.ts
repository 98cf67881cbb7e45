// The pattern miner on its own: masking, when words become variables,
// merging, stable ids, the cap, and grouping accuracy on the hand-labelled
// loghub samples (bench/patterns reports the figures; this keeps a floor).
import { describe, expect, it } from 'vitest';
import { groupingAccuracy } from '../../src/patterns/accuracy.js';
import { SQL_DIGIT_SEGMENT, maskToken, maskedTokens } from '../../src/patterns/mask.js';
import { PatternMiner, patternId, tokenFits } from '../../src/patterns/miner.js';
import { templateMatcher } from '../../src/patterns/registry.js';
import { LOGHUB_SYSTEMS, dataset } from '../helpers/loghub.js';

describe('masking', () => {
  it('masks segments with digits and keeps keys and punctuation', () => {
    expect(maskedTokens('Accepted password for root from 10.0.0.1 port 22 ssh2')).toEqual(
      ['Accepted', 'password', 'for', 'root', 'from', '<*>', 'port', '<*>', '<*>']);
    expect(maskToken('rhost=218.188.2.4')).toBe('rhost=<*>');
    expect(maskToken('(uid=0)')).toBe('(uid=<*>)');
    expect(maskToken('onExtend:1514038530000')).toBe('onExtend:<*>');
    expect(maskToken('blk_-1608999687919862906')).toBe('<*>');
    expect(maskToken('0x1f')).toBe('<*>');
    expect(maskToken('[10.250.19.102:50010]')).toBe('[<*>:<*>]');
    expect(maskToken('Jul')).toBe('<*>');
    expect(maskToken('Monday,')).toBe('<*>,');
    expect(maskToken('[Sun')).toBe('[<*>');
    expect(maskToken('monitor')).toBe('monitor');
    expect(maskToken('may')).toBe('may');
    expect(maskToken('MAY')).toBe('<*>');
    expect(maskToken('Bye')).toBe('Bye');
  });

  it('is idempotent, so a shape masked in the store masks to the same tokens', () => {
    const line = 'connection from 1.2.3.4 (host-7.example.com) at Sun Jul 10 03:55:15 2005 uid=0,gid=12 [a1b2]';
    const once = maskedTokens(line);
    expect(maskedTokens(once.join(' '))).toEqual(once);
    // The store's regex replaces the same segments (JS's regex engine stands in for RE2 here: same syntax).
    const inStore = line.replace(new RegExp(SQL_DIGIT_SEGMENT, 'g'), '<*>');
    expect(maskedTokens(inStore)).toEqual(once);
  });

  it('matches wildcards in linear time: a run of = against many <*>= is settled at once', () => {
    // A regex of .* here took seconds at 60 '=' (and hours at 100).
    const template = `${'<*>='.repeat(9)}end`;
    expect(tokenFits(template, '='.repeat(100))).toBe(false);
    expect(tokenFits(template, `${'a='.repeat(9)}end`)).toBe(true);
    expect(tokenFits(template, `${'='.repeat(100)}end`)).toBe(true);
    const m = new PatternMiner();
    m.add(`x ${'a1='.repeat(9)}end`);
    expect(m.add(`x ${'='.repeat(5000)}`)!.text).toBe(`x ${'='.repeat(5000)}`);
    const fits = templateMatcher(`x ${template}`);
    expect(fits(`x ${'='.repeat(100)}`)).toBe(false);
    expect(fits(`x ${'b='.repeat(9)}end`)).toBe(true);
  });

  it('cuts tokens at the white space RE2 knows, as the store does: a no-break space is inside a token', () => {
    expect(maskedTokens('Connection\u00a0reset by peer')).toEqual(['Connection\u00a0reset', 'by', 'peer']);
    expect(templateMatcher('Connection\u00a0reset by <*>')('Connection\u00a0reset by peer')).toBe(true);
    expect(templateMatcher('Connection reset by <*>')('Connection\u00a0reset by peer')).toBe(false);
  });

  it('lets a <*> stand for any run, an empty one too', () => {
    expect(tokenFits('(<*>)', '()')).toBe(true);
    expect(tokenFits('(<*>)', '(db.example.com)')).toBe(true);
    expect(tokenFits('uid=<*>', 'gid=<*>')).toBe(false);
    expect(tokenFits('a.b', 'aXb')).toBe(false);
  });
});

describe('mining', () => {
  it('keeps words with few values apart and makes a position variable at four', () => {
    const m = new PatternMiner();
    for (const v of ['true', 'false', 'true', 'false']) m.add(`updateDimmed overlap ${v}`);
    expect(m.templates().map((t) => t.text).sort()).toEqual(['updateDimmed overlap false', 'updateDimmed overlap true']);
    for (const user of ['alice', 'bob', 'carol']) m.add(`session opened for user ${user} by sshd`);
    expect(m.templates()).toHaveLength(5);
    const t = m.add('session opened for user dave by sshd')!;
    expect(t.text).toBe('session opened for user <*> by sshd');
    expect(t.count).toBe(4);
    expect(m.templates()).toHaveLength(3);
    // The merged templates resolve to it, and new values join it.
    expect(m.add('session opened for user alice by sshd')).toBe(t);
    expect(m.add('session opened for user erin by sshd')).toBe(t);
    expect(t.count).toBe(6);
  });

  it('takes a line into a template whose variables cover it, and merges the ones a masked variable covers', () => {
    const m = new PatternMiner();
    const webmaster = m.add('Invalid user webmaster from 1.2.3.4')!;
    const masked = m.add('Invalid user test9 from 5.6.7.8')!;
    expect(masked.text).toBe('Invalid user <*> from <*>');
    expect(webmaster.resolve()).toBe(masked);
    expect(masked.count).toBe(2);
    expect(m.add('Invalid user admin from 9.9.9.9')).toBe(masked);
  });

  it('does not compare lines of different lengths or first words', () => {
    const m = new PatternMiner();
    for (const w of ['a', 'b', 'c', 'd', 'e']) m.add(`start ${w}`);
    for (const w of ['a', 'b', 'c', 'd', 'e']) m.add(`stop ${w} now`);
    expect(m.templates().map((t) => t.text).sort()).toEqual(['start <*>', 'stop <*> now']);
  });

  it('gives a template the same id anywhere, and different templates different ids', () => {
    expect(patternId('Invalid user <*> from <*>')).toBe(patternId('Invalid user <*> from <*>'));
    expect(patternId('Invalid user <*> from <*>')).toMatch(/^[0-9a-f]{16}$/);
    expect(patternId('Invalid user <*> from <*>')).not.toBe(patternId('Invalid user <*> to <*>'));
    // The same lines give the same templates in another miner.
    const lines = dataset('OpenSSH').rows.map((r) => r.Content!);
    const ids = (m: PatternMiner): string[] => {
      for (const l of lines) m.add(l);
      return m.templates().map((t) => patternId(t.text));
    };
    expect(ids(new PatternMiner())).toEqual(ids(new PatternMiner()));
  });

  it('counts lines of new shapes past the cap in overflow and keeps the templates it has', () => {
    const m = new PatternMiner({ maxTemplates: 3 });
    m.add('alpha one');
    m.add('beta two words');
    m.add('gamma three more words');
    expect(m.add('delta is new here too')).toBeUndefined();
    expect(m.add('epsilon as well', 5)).toBeUndefined();
    expect(m.overflow).toBe(6);
    expect(m.add('alpha one', 2)!.count).toBe(3);
    expect(m.templates()).toHaveLength(3);
  });

  it('weights a shape by its count', () => {
    const m = new PatternMiner();
    expect(m.add('took 5 ms', 1000)!.count).toBe(1000);
    expect(m.add('took 7 ms', 1)!.count).toBe(1001);
  });
});

describe('grouping accuracy on loghub (each line\'s Content as the message)', () => {
  it('measures the share of lines whose group is exactly right', () => {
    expect(groupingAccuracy(['a', 'a', 'b'], [1, 1, 2])).toBe(1);
    expect(groupingAccuracy(['a', 'a', 'a'], [1, 1, 2])).toBe(0);
    expect(groupingAccuracy(['a', 'b', 'c'], [1, 1, 2])).toBeCloseTo(1 / 3);
  });

  it.each(LOGHUB_SYSTEMS)('%s: at least 0.75, the issue\'s floor for every system', (name) => {
    const rows = dataset(name).rows;
    const m = new PatternMiner();
    const got = rows.map((r) => m.add(r.Content!)!);
    const accuracy = groupingAccuracy(got.map((t) => t.resolve()), rows.map((r) => r.EventId));
    expect(accuracy).toBeGreaterThanOrEqual(0.75);
  });
});
