// nginx in front of several relays: the one source of the configuration docs/deployment.md
// shows ("Several relays behind nginx") and server/cluster.test.ts and bench/cluster.ts run.
// WebSockets and pages go to any relay that answers; a sign-in redirect goes to the relay whose
// flow waits for it, by the relay id that relay put in the state (or in a generated callback key).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainConfig, NGINX_BINARY } from './nginx.ts';
import { startDaemon, type RunningDaemon } from './daemon.ts';
import { checkRelayId } from '../flows/callbacks.ts';

export interface RelayUpstream {
  /** The relay's --relay-id. */
  id: string;
  /** host:port where that relay listens. */
  address: string;
}

/**
 * The http-level configuration: one upstream for all relays, one per relay, the routing map
 * and the server block. `listen` is what nginx binds ("80", "127.0.0.1:8080").
 */
export function relaysNginxConfig(opts: { listen: string; relays: RelayUpstream[] }): string {
  // Ids are [a-z0-9-]: nothing in them is special in an nginx regular expression.
  for (const r of opts.relays) checkRelayId(r.id);
  return `# Several harness relays behind one nginx (docs/deployment.md, "Several relays behind nginx").
# Every relay: same --public-url, same access secret, same --lab-dir, its own --relay-id.
# max_fails=0: a relay is never marked down, each new connection tries the next one when it fails.
# (With max_fails, nginx lets one connection a fail_timeout through to a relay back from a
# restart, and counts it as a success only when that WebSocket ends: the class stays on 502.)
upstream harness_relays {
${opts.relays.map((r) => `  server ${r.address} max_fails=0;`).join('\n')}
}
${opts.relays.map((r) => `upstream harness_relay_${r.id} { server ${r.address}; }`).join('\n')}

# A sign-in redirect (/callback/...) goes to the relay that holds its flow: the relay id is the
# prefix of the state it minted ("<id>.<random>") or, for a provider that drops state, of the
# callback key it generated ("<id>-<random>"). Anything else may go to any relay.
map "$arg_state/$uri" $harness_callback_relay {
  default harness_relays;
${opts.relays.map((r) => `  "~^${r.id}\\." harness_relay_${r.id};\n  "~^[^/]*/callback/${r.id}-[A-Za-z0-9]+$" harness_relay_${r.id};`).join('\n')}
}

map $http_upgrade $harness_connection {
  default upgrade;
  ''      close;
}

server {
  listen ${opts.listen};

  proxy_http_version 1.1;
  proxy_set_header Host $http_host;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $harness_connection;
  # The learner's address, for the relays' per-address limits (they trust it from --trust-proxy only).
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_buffering off;
  # A WebSocket is quiet between runs; the relay pings every 30 s.
  proxy_read_timeout 1h;
  proxy_send_timeout 1h;
  # A relay that is down or draining (503 while it shuts down): try the next one.
  proxy_next_upstream error timeout http_502 http_503;
  proxy_connect_timeout 2s;

  location / {
    proxy_pass http://harness_relays;
  }

  location /callback/ {
    proxy_pass http://$harness_callback_relay;
  }
}
`;
}

export interface RelaysNginx {
  port: number;
  /** The master's pid (its worker is its child). */
  pid(): number;
  /** nginx's error log (warnings and up): why a proxied request failed. */
  errorLog(): Promise<string>;
  /** Stops nginx (its connections drop) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts real nginx on `port` in front of `relays`, with room for `connections` proxied WebSockets. */
export async function startRelaysNginx(opts: { port: number; relays: RelayUpstream[]; connections: number }): Promise<RelaysNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-relays-nginx-'));
  await mkdir(join(dir, 'html'));
  const confFile = join(dir, 'nginx.conf');
  const errorLogFile = join(dir, 'error.log');
  // Each proxied WebSocket is two connections in the worker, one to the browser, one to a relay.
  const workerConnections = opts.connections * 2 + 256;
  await writeFile(confFile, mainConfig(dir, [relaysNginxConfig({ listen: `127.0.0.1:${opts.port}`, relays: opts.relays })], { logLevel: 'warn', workerConnections }));
  const start = () => startDaemon({ name: 'nginx', command: NGINX_BINARY, args: ['-p', dir, '-c', confFile, '-e', errorLogFile], errorLogFile, ports: [opts.port] });
  let daemon: RunningDaemon = await start();
  return {
    port: opts.port,
    pid: () => daemon.pid,
    errorLog: () => daemon.errorLog(),
    restart: async () => {
      await daemon.stop();
      daemon = await start();
    },
    stop: async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
