// Removes the compiled folders under out/ before tsc runs, so a test whose source was deleted or moved
// cannot linger as a stale .js file; screenshots, reports and the .vsix under out/ are kept.
import { rmSync } from 'node:fs';

// .tsbuildinfo too: tsc -b would otherwise take the removed outputs for up to date.
for (const dir of ['server', 'client', 'webview', 'samples', 'scripts', 'test-tmp', '.tsbuildinfo']) rmSync(`out/${dir}`, { recursive: true, force: true });
