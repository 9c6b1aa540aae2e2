#!/usr/bin/env node
// Shim for the `lrp-lens` bin: runs the compiled CLI (npm run build makes out/). runAsProcess exits only
// once stdout is written out, so output piped to another program is never cut short.
import { runAsProcess } from '../out/server/src/cli.js';
void runAsProcess(process.argv.slice(2));
