// Real nginx for tests: a minimal main config in a temp dir used as the prefix (-p), its own
// pid file, error log and temp paths, master and one worker in the foreground. One instance
// serves many `server` blocks on their own ports, so a test file starts it once.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, startSiteServer, type SiteServer } from './daemon.ts';

export const NGINX_BINARY = '/usr/sbin/nginx';

interface NginxOptions<K extends string> {
  /**
   * http-level config per site name, built for the port the launcher chose: usually one
   * `server { listen 127.0.0.1:PORT ssl; … }` block.
   */
  sites: Record<K, (port: number) => string>;
  /** Default "info": nginx logs "client SSL certificate verify error" at info. */
  logLevel?: string;
  binary?: string;
}

export type NginxServer<K extends string> = SiteServer<K>;

/** What "/" answers in a server block without locations: the default root, html/ in the prefix. */
const NGINX_BODY = 'ok from nginx\n';

export function mainConfig(dir: string, sites: string[], opts: { logLevel?: string; workerConnections?: number } = {}): string {
  const asRoot = process.getuid?.() === 0;
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    // Workers would otherwise switch to "nobody" and lose access to the temp dir.
    ...(asRoot ? ['user root;'] : []),
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log ${opts.logLevel ?? 'info'};`,
    // Many proxied WebSockets (cluster tests) need more descriptors than the default soft limit.
    ...(opts.workerConnections ? [`worker_rlimit_nofile ${opts.workerConnections * 2};`] : []),
    `events { worker_connections ${opts.workerConnections ?? 128}; }`,
    'http {',
    '  access_log off;',
    '  keepalive_timeout 1s;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
    ...sites,
    '}',
    '',
  ].join('\n');
}

export async function startNginx<K extends string>(opts: NginxOptions<K>): Promise<NginxServer<K>> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-nginx-'));
  await mkdir(join(dir, 'html'));
  await writeFile(join(dir, 'html', 'index.html'), NGINX_BODY);
  const names = Object.keys(opts.sites) as K[];
  const confFile = join(dir, 'nginx.conf');
  const errorLogFile = join(dir, 'error.log');
  return startSiteServer(dir, names, async (ports) => {
    await writeFile(confFile, mainConfig(dir, names.map((name) => opts.sites[name](ports[name])), opts));
    await rm(errorLogFile, { force: true });
    return startDaemon({
      name: 'nginx',
      command: opts.binary ?? NGINX_BINARY,
      // -e: the log for messages before the config is read (the default path is not ours).
      args: ['-p', dir, '-c', confFile, '-e', errorLogFile],
      errorLogFile,
      ports: names.map((n) => ports[n]),
    });
  });
}
