// The lab's mTLS target in its own process, so the relay and the bare baseline share the same
// server and neither pays for the server's side of the handshake.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab } from '../server/lab/lab.ts';

const lab = await startLab({ dataDir: await mkdtemp(join(tmpdir(), 'bench-lab-')) });
process.send!({ type: 'ready', target: lab.info.targets[0]!.url, serverCaPem: lab.serverCaPem });
process.on('message', (m: { type: string; csrPem?: string }) => {
  if (m.type === 'sign') void lab.signCsr(m.csrPem!).then((signed) => process.send!({ type: 'signed', ...signed }));
  if (m.type === 'stop') void lab.close().then(() => process.exit(0));
});
