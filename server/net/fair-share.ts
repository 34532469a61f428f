// Keeps the relay's event loop answering while many handshakes are in flight, and shares it
// fairly between sessions.
//
// A server's first flight costs the client a signature and a chain verification (one to two
// milliseconds of CPU, run synchronously when the bytes are handed to TLS). When a hundred
// such flights arrive together, Node would process them all in one turn of the event loop,
// and a browser's new request would wait behind all of them. Inbound bytes of outbound
// connections are therefore delivered through here: at once while the current turn has used
// less than its budget, otherwise queued (in order) for a later turn, after the relay has read
// whatever else arrived. One probe at a time never waits.
//
// Work has an owner (the session whose run it is, passed down with the run's context), and each
// owner's recent CPU is counted. An owner that has been using much of the loop while someone
// else also has work — a session keeping eight probes of bulky answers going — has its work
// queued, and queued work runs one task per turn (so all the stream events and promise reactions
// a task sets off are counted to it), least-used owner first, a heavy owner's only once the
// light ones have been quiet for a moment: another session's probe then goes on almost as if the
// relay were idle (measured 1.0–1.7× its idle latency in server/load.test.ts, against 6× with one
// first-come line), and the heavy session gets whatever the others leave.
export const FAIR_SHARE = {
  /** CPU a turn of the event loop may spend on queued work before new I/O is read again. */
  turnBudgetMs: 4, // ms
  /** Turn budget of a heavy owner's work run at once while a light owner has work about. */
  contendedBudgetMs: 1, // ms
  /** A heavy owner's queued work waits until a light owner has been quiet this long. */
  lightQuietMs: 2, // ms
  /** How fast an owner's counted CPU fades: half of it is forgotten after this long. */
  halfLifeMs: 100, // ms
  /** Counted CPU past which an owner is heavy (about a quarter of the loop, held for a while). */
  heavyMs: 12, // ms
  /** An owner that ran work this recently is active: a heavy one then yields to it. */
  activeWindowMs: 250, // ms
} as const;

/**
 * Owners are named by the caller rather than carried in an AsyncLocalStorage: on Node 20 every
 * promise made inside one pays for promise hooks (200,000 awaited promises: 24 ms plain, 52–59 ms
 * inside AsyncLocalStorage.run; Node 24 does without them), and a run makes hundreds. The empty
 * owner is nobody's in particular (the CLI, a JWKS fetch).
 */
export type Owner = string;

interface Account {
  /** CPU counted, faded to `at`. */
  ms: number;
  at: number;
  /** When it last ran anything. */
  lastRan: number;
}

const accounts = new Map<string, Account>();

function account(owner: string, now: number): Account {
  let a = accounts.get(owner);
  if (!a) {
    a = { ms: 0, at: now, lastRan: now };
    accounts.set(owner, a);
  }
  a.ms *= 0.5 ** ((now - a.at) / FAIR_SHARE.halfLifeMs);
  a.at = now;
  return a;
}

function charge(owner: string, ms: number): void {
  const now = performance.now();
  const a = account(owner, now);
  a.ms += ms;
  a.lastRan = now;
  chargedTotal += ms;
  if (a.ms <= FAIR_SHARE.heavyMs) lightRanAt = now;
}

function isHeavy(owner: string, now: number): boolean {
  return account(owner, now).ms > FAIR_SHARE.heavyMs;
}

/** Whether an owner other than `owner` that is not heavy ran lately or has work waiting. */
function othersActive(owner: string, now: number): boolean {
  for (const [other, a] of accounts) {
    if (other === owner) continue;
    if (now - a.lastRan > FAIR_SHARE.activeWindowMs && !queues.get(other)?.length) {
      if (a.ms < 0.01) accounts.delete(other);
      continue;
    }
    if (!isHeavy(other, now)) return true;
  }
  return false;
}

/** Queued tasks by owner, in the order given. */
const queues = new Map<string, (() => void)[]>();
let queued = 0;

function enqueue(owner: string, task: () => void): void {
  let q = queues.get(owner);
  if (!q) queues.set(owner, (q = []));
  q.push(task);
  queued++;
}

/** The first task of the owner that has used the least CPU lately (ties: first queued). */
function dequeue(now: number): { owner: string; task: () => void } {
  let best: string | undefined;
  let bestMs = Infinity;
  for (const [owner, q] of queues) {
    if (!q.length) continue;
    const ms = account(owner, now).ms;
    if (ms < bestMs) {
      best = owner;
      bestMs = ms;
    }
  }
  const q = queues.get(best!)!;
  const task = q.shift()!;
  if (!q.length) queues.delete(best!);
  queued--;
  return { owner: best!, task };
}

let turnStart = -1;
let draining = false;

function endOfTurn(): void {
  turnStart = -1;
}

/** This turn's budget: short while a light owner is about, so heavy work waits for it. */
function budget(now: number): number {
  for (const [owner, a] of accounts) {
    if ((now - a.lastRan <= FAIR_SHARE.activeWindowMs || queues.get(owner)?.length) && !isHeavy(owner, now)) {
      for (const other of accounts.keys()) if (other !== owner && isHeavy(other, now)) return FAIR_SHARE.contendedBudgetMs;
    }
  }
  return FAIR_SHARE.turnBudgetMs;
}

/** CPU counted to anyone so far: what others used while a task's work went on is not its own. */
let chargedTotal = 0;
let running: { owner: string; t0: number; chargedAt: number } | null = null;
/** When an owner that is not heavy last ran work: heavy work waits while one is busy. */
let lightRanAt = -Infinity;

/** When this turn's run of queued work began (light work goes on within turnBudgetMs of it). */
let drainStart = -1;

function newTurn(): void {
  drainStart = performance.now();
  step();
}

/**
 * Runs queued work in the check phase, least-used owner first. A heavy owner's task runs alone
 * in its turn, so its whole work (the stream events and promise reactions it sets off, which run
 * before the next turn) is counted to it and new I/O is read right after; and it waits while a
 * light owner is in the middle of its work (it ran within lightQuietMs). Light work goes on in
 * the same turn while the turn's budget lasts, as a burst of handshakes needs.
 */
function step(): void {
  const now = performance.now();
  if (running) {
    charge(running.owner, Math.max(0, now - running.t0 - (chargedTotal - running.chargedAt)));
    running = null;
  }
  if (!queued) {
    draining = false;
    return;
  }
  const { owner, task } = dequeue(now);
  if (isHeavy(owner, now) && now - lightRanAt < FAIR_SHARE.lightQuietMs) {
    requeueFront(owner, task);
    setTimeout(newTurn, 1);
    return;
  }
  running = { owner, t0: now, chargedAt: chargedTotal };
  const light = !isHeavy(owner, now);
  try {
    task();
  } finally {
    if (light && now - drainStart < FAIR_SHARE.turnBudgetMs) queueMicrotask(step);
    else setImmediate(newTurn);
  }
}

function requeueFront(owner: string, task: () => void): void {
  const q = queues.get(owner);
  if (q) q.unshift(task);
  else queues.set(owner, [task]);
  queued++;
}

function drainNextTurn(): void {
  if (draining) return;
  draining = true;
  setImmediate(newTurn);
}

/** Runs `task` now and counts its CPU (with the promise reactions it sets off) to `owner`. */
function runNow(owner: string, task: () => void): void {
  const t0 = performance.now();
  try {
    task();
  } finally {
    // Counted at once (a burst in one synchronous stretch sees it), the reactions it set off after.
    const t1 = performance.now();
    charge(owner, t1 - t0);
    queueMicrotask(() => charge(owner, performance.now() - t1));
  }
}

/**
 * Runs `task` now or, when this turn's budget is spent or its owner is heavy while others have
 * work, in a later turn. Tasks of one owner run in the order given, so a connection's data, end
 * and close keep their order. Returns whether it ran now.
 */
export function deliverFairly(owner: Owner, task: () => void): boolean {
  const now = performance.now();
  const heavy = isHeavy(owner, now);
  // Behind its own queued work (order), or heavy while someone else has work: wait.
  if (queues.get(owner)?.length || (heavy && othersActive(owner, now))) {
    enqueue(owner, task);
    drainNextTurn();
    return false;
  }
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(endOfTurn);
  }
  // An owner that has used little of the loop lately goes on at once, whoever else waits, while
  // this turn has time: a hundred light owners whose server flights arrive together (a class
  // pressing Run at once) take turns too, or the relay reads nothing else for hundreds of ms.
  if (now - turnStart < (heavy ? budget(now) : FAIR_SHARE.turnBudgetMs)) {
    runNow(owner, task);
    return true;
  }
  enqueue(owner, task);
  drainNextTurn();
  return false;
}

let grantedThisTick = false;

/**
 * Resolves now or in a later turn (see deliverFairly): for a run to wait its turn. A run that
 * goes on at once does its work in the microtasks after this call, which no budget check has
 * seen yet: so only one run per synchronous stretch goes on at once, the others queue.
 */
export function yourTurn(owner: Owner): Promise<void> {
  return new Promise((ok) => {
    if (grantedThisTick) {
      enqueue(owner, ok);
      drainNextTurn();
      return;
    }
    grantedThisTick = true;
    queueMicrotask(() => { grantedThisTick = false; });
    deliverFairly(owner, ok);
  });
}

/** A run started in this turn of the event loop went on at once (afterThisRead). */
let startedThisTurn = false;

/**
 * For a run started by a frame: the first of a turn goes on at once (like yourTurn), and any
 * other started in the same turn waits for its check phase, after the I/O already read, in turn
 * with queued work. A hundred frames read together then each announce their run before all but
 * the first of those runs do their work; a lone run does not wait at all.
 */
export function afterThisRead(owner: Owner): Promise<void> {
  if (!startedThisTurn && !queued) {
    startedThisTurn = true;
    setImmediate(() => { startedThisTurn = false; });
    return yourTurn(owner);
  }
  return new Promise((ok) => {
    enqueue(owner, ok);
    drainNextTurn();
  });
}

/** Tasks waiting their turn (tests wait for the relay to be idle before measuring it). */
export function queuedTasks(): number {
  return queued;
}
