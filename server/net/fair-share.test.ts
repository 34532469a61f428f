import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliverFairly, yourTurn } from './fair-share.ts';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a handshake's worth of CPU */ }
}

test('a task on an idle loop runs at once', () => {
  let ran = false;
  deliverFairly(() => { ran = true; });
  assert.equal(ran, true);
});

test('a burst of heavy tasks yields to the event loop between turns and keeps its order', async () => {
  await new Promise((ok) => setTimeout(ok, 20)); // a fresh turn
  const done: number[] = [];
  let seenByTimer = -1;
  setTimeout(() => { seenByTimer = done.length; }, 0);
  const all = new Promise<void>((ok) => {
    for (let i = 0; i < 40; i++) deliverFairly(() => { busy(1); done.push(i); if (i === 39) ok(); });
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
    await yourTurn();
    busy(1);
    order.push(i);
  }));
  assert.deepEqual(order, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(seenByTimer > 0 && seenByTimer < 30, `a timer ran between turns (it saw ${seenByTimer} of 30 done)`);
});
