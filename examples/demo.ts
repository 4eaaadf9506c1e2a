/**
 * The main demo: runs the seed examples one after the other. (The Flink-style control plane will take over this
 * command once it exists.)
 */

import { main as fencing } from './fencing.js';
import { main as helloHi } from './hello-hi.js';
import { main as myService } from './my-service.js';

const sections: [string, (log: (line: string) => void) => Promise<unknown>][] = [
  ['HelloGateway / HiGateway (seed 004)', helloHi],
  ['MyService over TCP: getData / putData / notifyEvent (seed 000 §4)', myService],
  ['Fencing: a deposed leader is refused', fencing],
];

for (const [title, run] of sections) {
  console.log(`\n== ${title}`);
  await run((line) => console.log(`   ${line}`));
}
console.log('\nAll examples ran.');
