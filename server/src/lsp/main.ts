/** Entry of the bundled server (dist/server.js) and of `node out/server/src/lsp/main.js --stdio|--node-ipc`. */
import { startServer } from './server.js';

startServer();
