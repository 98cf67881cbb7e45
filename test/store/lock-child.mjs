// A process that takes a data directory's lock when told, for
// test/store/lock.test.ts: the lock is between processes, so the test needs
// real ones. It runs the built module (dist/, which `npm test` builds first),
// as `sluice serve` does. Commands on stdin, one a line: `lock` calls
// lockDataDir, `release` calls what that returned; each is answered with one
// line on stdout, after `ready` at start.
import { createInterface } from 'node:readline';
import { lockDataDir } from '../../dist/store/lock.js';

const dir = process.argv[2];
let release;
createInterface({ input: process.stdin }).on('line', (command) => {
  if (command === 'lock') {
    try {
      release = lockDataDir(dir);
      console.log('locked');
    } catch (e) {
      console.log(`refused ${e.constructor.name}: ${e.message}`);
    }
  } else if (command === 'release') {
    release?.();
    release = undefined;
    console.log('released');
  }
});
console.log('ready');
