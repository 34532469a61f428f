// The floor under the overhead figure: the least a relay can be. A WebSocket server in its own
// process that, for each request, makes the same mTLS handshake and GET as the bare baseline
// (no DNS, no checks, no steps, no analysis) and answers with one message, with or without the
// wire tap between socket and TLS. What this costs over bare tls.connect is the cost of the
// architecture itself: another process and a WebSocket round trip (and the tap, when on).
import net from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { tapConnection } from '../server/tls/tap.ts';

interface FloorRequest {
  id: number;
  url: string;
  certificatePem: string;
  privateKeyPem: string;
  caPem: string;
  tap: boolean;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const req = JSON.parse(String(data)) as FloorRequest;
    const url = new URL(req.url);
    const raw = net.connect({ port: Number(url.port), host: '127.0.0.1', noDelay: true }, () => {
      const tap = req.tap ? tapConnection(raw) : null;
      const s = tls.connect({ socket: tap ? tap.duplex : raw, servername: url.hostname, cert: req.certificatePem, key: req.privateKeyPem, ca: req.caPem }, () => {
        s.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
        let status = '';
        s.on('data', (d: Buffer) => { status ||= d.toString('latin1', 0, 12); });
        s.on('end', () => {
          s.destroy();
          ws.send(JSON.stringify({ id: req.id, status }));
        });
      });
      tap?.attach(s);
      s.on('error', (err) => ws.send(JSON.stringify({ id: req.id, error: err.message })));
    });
  });
});
wss.on('listening', () => process.send!({ port: (wss.address() as net.AddressInfo).port }));
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') wss.close(() => process.exit(0));
});
