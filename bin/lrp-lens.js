#!/usr/bin/env node
// Shim for the `lrp-lens` bin: runs the compiled CLI (npm run build makes out/).
import { main } from '../out/server/src/cli.js';
main(process.argv.slice(2)).then((code) => process.exit(code));
