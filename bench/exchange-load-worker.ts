// Runs one exchange load (lib/exchange-load.ts) described by the JSON in argv[2], in its own
// process, and prints the result as JSON.
import { runExchangeLoad, type ExchangeLoadOptions } from './lib/exchange-load.js';

runExchangeLoad(JSON.parse(process.argv[2]!) as ExchangeLoadOptions).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
