// Removes the compiled folders under out/ before tsc runs, so a test whose source was deleted or moved
// cannot linger as a stale .js file; screenshots, reports and the .vsix under out/ are kept.
import { rmSync } from 'node:fs';

for (const dir of ['server', 'client', 'webview', 'samples', 'scripts', 'test-tmp']) rmSync(`out/${dir}`, { recursive: true, force: true });
