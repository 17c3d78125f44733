// Writes Hashids test vectors from the reference npm implementation: "<Class> <id> <hash>" lines.
import Hashids from 'hashids';
import { writeFileSync } from 'node:fs';

const out = process.argv[2];
const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const large = [99999n, 123456789n, 2147483647n, 4294967296n, 9007199254740991n,
  9007199254740993n, 1234567890123456789n, 9223372036854775807n];
const lines = [];
for (const cls of ['Account', 'User', 'Chat', 'Message']) {
  const h = new Hashids(`Default ID Obfuscation Salt for ${cls}`, 6, alphabet);
  for (let i = 1; i <= 10000; i++) lines.push(`${cls} ${i} ${h.encode(i)}`);
  for (const n of large) lines.push(`${cls} ${n} ${h.encode(n)}`);
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${lines.length} vectors to ${out}`);
