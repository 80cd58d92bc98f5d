/**
 * `npm run bench [-- <name> ...]`: runs the named benchmarks (all when none is named), each printing a table.
 * Benchmarks start their own Temporal dev server and simulator; they are never part of `npm test`.
 */
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopBenchCluster } from './harness';

// The benches' output is their tables: the SDK (the throughput floor's worker runs in this process) says only
// what went wrong.
Runtime.install({ logger: new DefaultLogger('WARN') });

const BENCHES = {
  'end-detection': './end-detection',
  'console-pages': './console-pages',
  limits: './limits',
  scale: './scale',
  throughput: './throughput',
} as const;
type BenchName = keyof typeof BENCHES;

async function main(): Promise<void> {
  // Names come first; everything from the first flag on (flag values included) goes to the benchmarks.
  const argv = process.argv.slice(2);
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const names = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
  const benchArgs = firstFlag < 0 ? [] : argv.slice(firstFlag);
  for (const n of names) {
    if (!(n in BENCHES)) {
      console.error(`unknown benchmark '${n}'; one of: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
  }
  try {
    for (const name of (names.length ? names : Object.keys(BENCHES)) as BenchName[]) {
      console.log(`\n== bench ${name}`);
      const mod = (await import(path.join(__dirname, BENCHES[name]))) as {
        run: (args: string[]) => Promise<void>;
      };
      await mod.run(benchArgs);
    }
  } finally {
    await stopBenchCluster(); // --cluster: the one multi-service server the benches shared
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
