// Copies the screenshots the test suite made (out/screenshots/, from `npm run test:panel` and the e2e test)
// into docs/img/ for the README: the pictures are made by tests, never by hand.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const wanted = ['panel-geo.png', 'panel-compare.png', 'vscode-problems.png', 'vscode-heatmap-panel.png'];
mkdirSync('docs/img', { recursive: true });
for (const name of wanted) {
  const src = join('out', 'screenshots', name);
  if (!existsSync(src)) {
    console.error(`missing ${src}: run npm run test:panel and npm run test:e2e first`);
    process.exitCode = 1;
    continue;
  }
  copyFileSync(src, join('docs', 'img', name));
  console.log(`docs/img/${name}`);
}
