// A process that runs one attack of hostile-clients.ts at a time against a relay, driven over
// IPC by server/load.test.ts: like a hostile user on another machine, its own work (building
// and reading frames) does not share the relay's event loop.
//   → { start: name, relay: RelayRef }   ← { started: name }
//   → { stop: true }                      ← { stopped: name, stats }
import { ATTACKS, type Attack, type RelayRef } from './hostile-clients.ts';

let running: { name: string; attack: Attack } | null = null;

process.on('message', (msg: { start?: string; relay?: RelayRef; stop?: boolean }) => {
  void (async () => {
    try {
      if (msg.start && msg.relay) {
        const entry = ATTACKS[msg.start];
        if (!entry) throw new Error(`no attack ${msg.start}`);
        running = { name: msg.start, attack: await entry.start(msg.relay) };
        process.send!({ started: msg.start });
      } else if (msg.stop && running) {
        const { name, attack } = running;
        running = null;
        await attack.stop();
        process.send!({ stopped: name, stats: attack.stats });
      }
    } catch (err) {
      process.send!({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
