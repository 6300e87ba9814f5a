// nginx (Debian's) as a baseline: a child process of the benchmark with its own configuration,
// pid file, logs and temporary folders in the benchmark's folder, listening on loopback only,
// serving a folder of static files. One worker process, as pier serves with one in these rows.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ServerProcess } from './processes.js';

export const NGINX = '/usr/sbin/nginx';

/** Why nginx cannot be measured here, or null when it can. */
export function nginxMissing(): string | null {
  return existsSync(NGINX) ? null : `nginx is not installed (${NGINX}: apt-get install nginx)`;
}

export interface NginxOptions {
  /** The folder served at `/`. */
  root: string;
  /** Where the configuration, logs and nginx's temporary folders go. */
  dir: string;
  /** Extra directives inside `server { }` (a location of the benchmark's own, for instance). */
  server?: string;
}

/** A port that was free a moment ago (nginx cannot be told to take any free port itself). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function config(o: NginxOptions, port: number): string {
  const tmp = (name: string) => {
    const path = join(o.dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  // Run as root (as the benchmark may be), nginx's workers would switch to `nobody`, who cannot
  // read the benchmark's private temporary folder.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
daemon off;
pid ${join(o.dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  types {
    text/html html;
    application/octet-stream whl;
  }
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  # The load generator keeps its connections for a whole round: nginx's default closes one after
  # 1,000 requests.
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path ${tmp('client_body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${o.root};
    index index.html;
${o.server ?? ''}
  }
}
`;
}

/** Starts nginx on a free loopback port; resolves once it answers. */
export async function startNginx(o: NginxOptions): Promise<ServerProcess> {
  mkdirSync(o.dir, { recursive: true });
  let lastError = '';
  // Another process may take the port between the probe and nginx's bind: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(o.dir, 'nginx.conf');
    writeFileSync(conf, config(o, port));
    const child = spawn(NGINX, ['-e', 'stderr', '-p', o.dir, '-c', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    process.once('exit', () => child.kill('SIGKILL'));
    const url = `http://127.0.0.1:${port}`;
    const started = await new Promise<boolean>((resolve) => {
      const deadline = Date.now() + 10_000;
      child.once('exit', () => resolve(false));
      const poll = () => {
        if (child.exitCode !== null) return;
        fetch(`${url}/`)
          .then((res) => res.arrayBuffer())
          .then(
            () => resolve(true),
            () => (Date.now() < deadline ? setTimeout(poll, 20) : resolve(false)),
          );
      };
      poll();
    });
    if (!started) {
      child.kill('SIGKILL');
      lastError = output;
      if (/Address already in use/.test(output)) continue;
      throw new Error(`nginx did not start:\n${output}`);
    }
    return {
      url,
      pid: child.pid!,
      assertAlive() {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${output}`);
      },
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          // SIGQUIT: nginx's graceful shutdown.
          child.kill('SIGQUIT');
        }),
    };
  }
  throw new Error(`nginx found no free port:\n${lastError}`);
}
