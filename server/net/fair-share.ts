// Keeps the relay's event loop answering while many handshakes are in flight.
//
// A server's first flight costs the client a signature and a chain verification (one to two
// milliseconds of CPU, run synchronously when the bytes are handed to TLS). When a hundred
// such flights arrive together, Node would process them all in one turn of the event loop,
// and a browser's new request would wait behind all of them. Inbound bytes of outbound
// connections are therefore delivered through here: at once while the current turn has used
// less than its budget, otherwise queued (in order) for a later turn, after the relay has read
// whatever else arrived. One probe at a time never waits.

/** CPU a turn of the event loop may spend on handshakes before new I/O is read again. */
const TURN_BUDGET_MS = 4;

const queue: (() => void)[] = [];
let turnStart = -1;
let draining = false;

function endOfTurn(): void {
  turnStart = -1;
}

/**
 * Runs queued tasks for one budget, in the check phase; the rest wait for the next turn. The
 * next task starts from a microtask queued after the previous one, so the promise reactions a
 * task sets off (a run going on after its handshake) run, and count, before it.
 */
function drain(): void {
  turnStart = performance.now();
  step();
}

function step(): void {
  if (!queue.length) {
    draining = false;
    turnStart = -1;
    return;
  }
  if (performance.now() - turnStart >= TURN_BUDGET_MS) {
    turnStart = -1;
    setImmediate(drain); // the next turn's check phase, after its poll
    return;
  }
  const task = queue.shift()!;
  try {
    task();
  } finally {
    queueMicrotask(step);
  }
}

/** From the poll phase: skip this turn's check phase (its budget is spent) and drain in the next. */
function drainNextTurn(): void {
  if (draining) return;
  draining = true;
  setImmediate(() => setImmediate(drain));
}

/**
 * Runs `task` now or, when this turn's budget is spent, in a later turn. Tasks run in the order
 * given, so a connection's data, end and close keep their order. Returns whether it ran now.
 */
export function deliverFairly(task: () => void): boolean {
  if (queue.length) {
    queue.push(task);
    return false;
  }
  const now = performance.now();
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(endOfTurn);
  }
  if (now - turnStart < TURN_BUDGET_MS) {
    task();
    return true;
  }
  queue.push(task);
  drainNextTurn();
  return false;
}

let grantedThisTick = false;

/**
 * Resolves now or in a later turn (see deliverFairly): for a run to wait its turn. A run that
 * goes on at once does its work in the microtasks after this call, which no budget check has
 * seen yet: so only one run per synchronous stretch goes on at once, the others queue.
 */
export function yourTurn(): Promise<void> {
  return new Promise((ok) => {
    if (grantedThisTick) {
      queue.push(ok);
      drainNextTurn();
      return;
    }
    grantedThisTick = true;
    queueMicrotask(() => { grantedThisTick = false; });
    deliverFairly(ok);
  });
}
