// Runs every compiled *.test.js under out/ with node's built-in test runner (so its summary line is printed).
import { readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, acc) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    // lstat: tests leave symlinks (loops included) in their temp folders under out/; never follow them.
    const st = lstatSync(p);
    if (st.isDirectory()) find(p, acc);
    else if (st.isFile() && name.endsWith('.test.js')) acc.push(p);
  }
  return acc;
}
const filter = process.argv.slice(2);
const files = find('out', []).filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
