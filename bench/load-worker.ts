// The load generator's own process: runs one load (bench/lib/load.ts) described by the JSON in
// argv[2] and prints its result as JSON. A fresh process per measurement means every server is
// loaded by the same clean client, whatever the benchmark process did before (its uploads,
// its fetch connections, its garbage) — and away from the benchmark's own event loop.
import { runLoad, type LoadOptions } from './lib/load.js';

const options = JSON.parse(process.argv[2]!) as LoadOptions;
runLoad(options).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
