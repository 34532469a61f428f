import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterThisRead, deliverFairly, FAIR_SHARE, yourTurn } from './fair-share.ts';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a handshake's worth of CPU */ }
}

test('a task on an idle loop runs at once', () => {
  let ran = false;
  deliverFairly('', () => { ran = true; });
  assert.equal(ran, true);
});

test('a burst of heavy tasks yields to the event loop between turns and keeps its order', async () => {
  await new Promise((ok) => setTimeout(ok, 20)); // a fresh turn
  const done: number[] = [];
  let seenByTimer = -1;
  setTimeout(() => { seenByTimer = done.length; }, 0);
  const all = new Promise<void>((ok) => {
    for (let i = 0; i < 40; i++) deliverFairly('', () => { busy(1); done.push(i); if (i === 39) ok(); });
  });
  await all;
  assert.deepEqual(done, Array.from({ length: 40 }, (_, i) => i), 'tasks run in the order given');
  assert.ok(seenByTimer > 0 && seenByTimer < 40, `a timer ran between turns (it saw ${seenByTimer} of 40 done)`);
});

test('yourTurn lets runs go on in order, a few per turn, with I/O read between', async () => {
  await new Promise((ok) => setTimeout(ok, 20));
  const order: number[] = [];
  let seenByTimer = -1;
  setTimeout(() => { seenByTimer = order.length; }, 0);
  await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    await yourTurn('');
    busy(1);
    order.push(i);
  }));
  assert.deepEqual(order, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(seenByTimer > 0 && seenByTimer < 30, `a timer ran between turns (it saw ${seenByTimer} of 30 done)`);
});

test('owners take turns: one owner\'s burst does not keep another\'s single task waiting behind it', async () => {
  await new Promise((ok) => setTimeout(ok, 20));
  const order: string[] = [];
  const all: Promise<void>[] = [];
  // Owner "bulk" fills the budget and queues 40 more; then "other" queues one.
  for (let i = 0; i < 41; i++) all.push(new Promise((ok) => deliverFairly('bulk', () => { busy(1); order.push(`bulk${i}`); ok(); })));
  all.push(new Promise((ok) => deliverFairly('other', () => { busy(1); order.push('other'); ok(); })));
  await Promise.all(all);
  const at = order.indexOf('other');
  const bulkBefore = order.slice(0, at).filter((x) => x.startsWith('bulk')).length;
  // What ran at once before bulk counted as heavy (1 ms each), plus at most one more: not all 41.
  assert.ok(bulkBefore <= FAIR_SHARE.heavyMs + 2, `"other" waited behind ${bulkBefore} of bulk's 41 tasks`);
  const bulk = order.filter((x) => x.startsWith('bulk'));
  assert.deepEqual(bulk, Array.from({ length: 41 }, (_, i) => `bulk${i}`), 'each owner\'s tasks keep their order');
});

test('afterThisRead: the first run started in a turn goes on at once, the others once the I/O read with it is handled', async () => {
  await new Promise((ok) => setTimeout(ok, 20));
  const order: string[] = [];
  const runs = [1, 2, 3].map(async (i) => {
    order.push(`announced ${i}`);
    await afterThisRead('reader');
    order.push(`work ${i}`);
  });
  await Promise.resolve();
  order.push('stretch over');
  setImmediate(() => order.push('next immediate'));
  await Promise.all(runs);
  await new Promise((ok) => setImmediate(ok));
  assert.deepEqual(order, ['announced 1', 'announced 2', 'announced 3', 'work 1', 'stretch over', 'work 2', 'work 3', 'next immediate']);
});
