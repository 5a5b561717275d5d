#!/usr/bin/env node
/** The `ictorch` command line. Commands: info. */
import { parseArgs } from 'util';

/** A usage error: printed as one line, exit code 2. */
class UsageError extends Error {}

const HELP = `Usage: ictorch <command> [options]

Commands:
  info [--json]     package and LibTorch versions, CUDA/cuDNN and devices, build flags

Options:
  --verbose         print stack traces on errors
  --help            this text`;

function formatBytes(n: number): string {
  return `${(n / 2 ** 30).toFixed(1)} GiB`;
}

function cmdInfo(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, verbose: { type: 'boolean' } }, strict: true });
  // Loaded here so that a broken addon still lets `--help` work.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { info } = require('./runtime') as typeof import('./runtime');
  const i = info();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
    return;
  }
  const lines = [
    `ictorch ${i.ictorchVersion} (Node ${i.nodeVersion})`,
    `LibTorch ${i.torchVersion}${i.build ? ` from ${i.build.torchPrefix}` : ''}`,
    `CUDA: ${i.cudaAvailable ? `available, ${i.cudaDevices.length} device(s)` : i.builtWithCuda ? 'built with CUDA, no device visible' : 'not in this LibTorch build'}`,
    ...i.cudaDevices.map((d) => `  cuda:${d.index} ${d.name} (sm ${d.capability}, ${formatBytes(d.totalMemory)})`),
    `cuDNN: ${i.cudnnAvailable ? `version ${i.cudnnVersion}` : 'not available'}`,
    `CPU threads: ${i.numThreads}`,
    `Addon: ${i.addon}`,
    i.build ? `Build: ${i.build.compiler}, ${i.build.buildType}, ${i.build.cxxFlags}` : 'Build: (no build record)',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  switch (command) {
    case 'info':
      return cmdInfo(rest);
    default:
      throw new UsageError(`unknown command "${command}"; run \`ictorch --help\` for the list`);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  const err = e as Error & { code?: string };
  const usage = e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`ictorch: ${err.message}\n`);
  if (process.argv.includes('--verbose') && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(usage ? 2 : 1);
}
