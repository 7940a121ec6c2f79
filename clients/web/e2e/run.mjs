// Browser tests against a live server: a fresh database with a small demo city, `gridctl
// serve` on a spare port with a `gridctl worker` beside it (imports run in the background),
// then node's test runner over e2e/*.test.mjs driving Debian's Chromium through
// playwright-core. Screenshots land in test-results/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const web = fileURLToPath(new URL('..', import.meta.url));
const gridctl = `${repo}.venv/bin/gridctl`;
const python = `${repo}.venv/bin/python`;
const database = process.env.GRID_E2E_DATABASE ?? 'grid_e2e';
const port = process.env.GRID_E2E_PORT ?? '8765';
const env = {
  ...process.env,
  GRID_DATABASE_URL: `postgresql+asyncpg://grid_app@127.0.0.1:5432/${database}`,
  GRID_REDIS_URL: process.env.GRID_E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/14',
  GRID_E2E_BASE_URL: `http://127.0.0.1:${port}`,
};

function run(command, args) {
  const result = spawnSync(command, args, { cwd: repo, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

run(python, [
  '-c',
  'import asyncio; from services.database_setup import drop_database; from services.settings import get_settings; asyncio.run(drop_database(get_settings().owner_url))',
]);
run(python, ['-c', 'import redis, os; redis.Redis.from_url(os.environ["GRID_REDIS_URL"]).flushdb()']);
run(gridctl, ['migrate']);
run(gridctl, ['seed', 'demo', '--people', '200', '--events', '30']);

const server = spawn(gridctl, ['serve', '--host', '127.0.0.1', '--port', port], { cwd: repo, env, stdio: 'inherit' });
const worker = spawn(gridctl, ['worker'], { cwd: repo, env, stdio: 'inherit' });
let status = 1;
try {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${env.GRID_E2E_BASE_URL}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the server did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  mkdirSync(`${web}test-results`, { recursive: true });
  const files = process.argv.slice(2).length ? process.argv.slice(2) : ['e2e/'];
  const tests = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { cwd: web, env, stdio: 'inherit' });
  status = tests.status ?? 1;
} finally {
  server.kill('SIGTERM');
  worker.kill('SIGTERM');
}
process.exit(status);
