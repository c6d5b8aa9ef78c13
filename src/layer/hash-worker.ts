// A thread that computes one sha256 at a time for another thread: chunks arrive as transferred
// byte arrays and are acknowledged (so the sender can bound what is in flight); 'end' posts the
// hex digest and starts over. Each chunk's buffer goes back with its acknowledgement, to be filled
// again: no allocation per chunk. See layer/hash-thread.ts.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port) {
  let hash = createHash('sha256');
  port.on('message', (m: Uint8Array | 'end') => {
    if (m === 'end') {
      port.postMessage(hash.digest('hex'));
      hash = createHash('sha256');
      return;
    }
    hash.update(m);
    port.postMessage(m, [m.buffer as ArrayBuffer]);
  });
}
