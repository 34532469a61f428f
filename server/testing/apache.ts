// Real Apache httpd 2.4 with mod_ssl for tests: a minimal main config in a temp dir (its own
// ServerRoot, pid file, error log and runtime dir), one Listen on 127.0.0.1 per named site,
// run in the foreground. One instance serves many virtual hosts, so a test file starts it once.
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, startSiteServer, type SiteServer } from './daemon.ts';

const APACHE_BINARY = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';

/** Only what a TLS virtual host with client certificates and `Require expr` needs. */
const MODULES: [string, string][] = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['socache_shmcb_module', 'mod_socache_shmcb.so'],
  ['ssl_module', 'mod_ssl.so'],
  ['mime_module', 'mod_mime.so'],
  ['dir_module', 'mod_dir.so'],
];

interface ApacheOptions<K extends string> {
  /**
   * Server-level config per site name, built for the port the launcher chose: usually one
   * `<VirtualHost *:PORT>` block. The launcher adds `Listen 127.0.0.1:PORT` for each.
   */
  sites: Record<K, (port: number) => string>;
  /** Default "info": mod_ssl logs each client-certificate verification failure at info. */
  logLevel?: string;
  binary?: string;
  modulesDir?: string;
}

export type ApacheServer<K extends string> = SiteServer<K>;

/** The body every site's DocumentRoot serves at "/". */
const APACHE_BODY = 'ok from apache\n';

export function mainConfig(dir: string, listen: number[], sites: string[], opts: { logLevel?: string; modulesDir?: string } = {}): string {
  const modules = opts.modulesDir ?? APACHE_MODULES;
  return [
    `ServerRoot "${dir}"`,
    `PidFile "${dir}/httpd.pid"`,
    `DefaultRuntimeDir "${dir}"`,
    `ErrorLog "${dir}/error.log"`,
    `LogLevel ${opts.logLevel ?? 'info'}`,
    'ServerName localhost',
    ...MODULES.map(([name, file]) => `LoadModule ${name} "${modules}/${file}"`),
    // One child with a few threads: enough for sequential probes, quick to start.
    'StartServers 1',
    'ServerLimit 1',
    'ThreadLimit 16',
    'ThreadsPerChild 16',
    'MaxRequestWorkers 16',
    'MinSpareThreads 1',
    'MaxSpareThreads 16',
    'Timeout 10',
    'KeepAliveTimeout 1',
    'TypesConfig /dev/null',
    'AddType text/plain .txt',
    'DirectoryIndex index.txt',
    `SSLSessionCache "shmcb:${dir}/ssl_scache(512000)"`,
    `DocumentRoot "${dir}/htdocs"`,
    `<Directory "${dir}/htdocs">`,
    '  Require all granted',
    '</Directory>',
    ...listen.map((port) => `Listen 127.0.0.1:${port}`),
    ...sites,
    '',
  ].join('\n');
}

export async function startApache<K extends string>(opts: ApacheOptions<K>): Promise<ApacheServer<K>> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-apache-'));
  // Started as root, Apache's workers drop to an unprivileged uid: they must be able to read
  // the document root. Keys are read by the parent before it forks, so they stay private.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'htdocs'), { mode: 0o755 });
  await writeFile(join(dir, 'htdocs', 'index.txt'), APACHE_BODY, { mode: 0o644 });
  const names = Object.keys(opts.sites) as K[];
  const confFile = join(dir, 'httpd.conf');
  return startSiteServer(dir, names, async (ports) => {
    const sites = names.map((name) => opts.sites[name](ports[name]));
    await writeFile(confFile, mainConfig(dir, names.map((n) => ports[n]), sites, opts));
    await rm(join(dir, 'error.log'), { force: true });
    return startDaemon({
      name: 'apache2',
      command: opts.binary ?? APACHE_BINARY,
      args: ['-f', confFile, '-DFOREGROUND'],
      errorLogFile: join(dir, 'error.log'),
      ports: names.map((n) => ports[n]),
    });
  });
}
