// Packages the extension as out/lrp-lens.vsix for this machine's platform (vsce --target): the bundle
// carries onnxruntime-node's binary for this platform only (scripts/bundle.js), so the .vsix is
// platform-specific. Usage: node scripts/package-vsix.js [vsce options...]
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const target = `${process.platform}-${process.arch}`;
mkdirSync('out', { recursive: true });
const args = ['vsce', 'package', '--no-dependencies', '--skip-license', '--target', target, '--out', 'out/lrp-lens.vsix', ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
