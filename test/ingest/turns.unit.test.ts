// Turns: one caller's synchronous work per iteration of the event loop, in
// the order they asked, so timers run between two requests' decoding.
import { describe, expect, it } from 'vitest';
import { Turns } from '../../src/ingest/turns.js';

/** Holds the thread for `ms` (a decode of a large body), so a 1 ms timer is due when it ends. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('Turns', () => {
  it('gives turns in order, one per iteration of the event loop: a due timer runs between two', async () => {
    const turns = new Turns();
    const order: string[] = [];
    let timer: Promise<void> | undefined;
    const work = [0, 1, 2].map(async (i) => {
      await turns.take();
      order.push(`turn ${i}`);
      // The first turn sets a 1 ms timer, then holds the thread past it.
      if (i === 0) timer = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push('timer')), 1));
      busy(3);
    });
    expect([turns.asked, turns.granted]).toEqual([3, 0]);
    await Promise.all(work);
    await timer;
    // The timer is due when the first turn ends; the loop runs it before the
    // next turn. All at once, it would come last.
    expect(order).toEqual(['turn 0', 'timer', 'turn 1', 'turn 2']);
    expect([turns.asked, turns.granted]).toEqual([3, 3]);
  });
});
