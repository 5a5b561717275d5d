#!/usr/bin/env node
/** The `ictorch` command line. Commands: info. */
import { parseArgs } from 'util';

/** A usage error: printed as one line, exit code 2. */
class UsageError extends Error {}

const HELP = `Usage: ictorch <command> [options]

Commands:
  info [--json]     package and LibTorch versions, CUDA/cuDNN and devices, build flags
  train [options]   train a CIFAR ResNet with IC layers (default: on the built-in synthetic data set)
      --data synthetic        data set (only the built-in one for now)
      --depth N               6n+2, or 9n+2 with --model resnet-b (default 20)
      --model resnet|resnet-b (default resnet)
      --layout L              baseline | relu-ic-conv | ic-conv-relu | conv-relu-ic (default relu-ic-conv)
      --drop-rate P           IC dropout rate (default 0.05)
      --epochs N              (default 3)   --batch-size N (default 128)   --lr X (default 0.1)
      --momentum X (0.9)      --weight-decay X (1e-4)   --device cpu|cuda   --seed N
      --train-size N / --test-size N   synthetic set sizes (default 3000 / 1000)
      --json                  last line of stdout: JSON with testAcc, testLoss, epochs, imagesPerSec

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

function num(name: string, v: string | undefined, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return x;
}

function cmdTrain(argv: string[]): void {
  const s = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      data: s, depth: s, model: s, layout: s, 'drop-rate': s, epochs: s, 'batch-size': s, lr: s, momentum: s,
      'weight-decay': s, device: s, seed: s, 'train-size': s, 'test-size': s, json: { type: 'boolean' }, verbose: { type: 'boolean' },
    },
  });
  const data = values.data ?? 'synthetic';
  if (data !== 'synthetic') throw new UsageError(`--data "${data}" is not supported yet; use "synthetic" (the built-in data set)`);
  const model = values.model ?? 'resnet';
  if (model !== 'resnet' && model !== 'resnet-b') throw new UsageError(`--model must be resnet or resnet-b, got "${model}"`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const torch = require('./index') as typeof import('./index');
  const layout = values.layout ?? 'relu-ic-conv';
  if (!(torch.LAYOUTS as readonly string[]).includes(layout)) throw new UsageError(`--layout must be one of ${torch.LAYOUTS.join(', ')}, got "${layout}"`);
  const seed = num('seed', values.seed, 0, true);
  const epochs = num('epochs', values.epochs, 3, true);
  const device = values.device ?? 'cpu';
  torch.manualSeed(seed);
  const t0 = Date.now();
  const ds = torch.syntheticDataset({ trainSize: num('train-size', values['train-size'], 3000, true), testSize: num('test-size', values['test-size'], 1000, true), seed });
  let net;
  try {
    net = torch.buildModel({ name: model, args: { depth: num('depth', values.depth, model === 'resnet-b' ? 29 : 20, true), layout, dropRate: num('drop-rate', values['drop-rate'], 0.05) } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  net.to({ device });
  const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`training ${model}-${values.depth ?? (model === 'resnet-b' ? 29 : 20)} (${layout}, ${net.numParameters().toLocaleString('en-US')} parameters) on synthetic data, ${epochs} epochs, ${device}, ${torch.getNumThreads()} threads`);
  const reports = torch.fit(net, ds, { epochs, batchSize: num('batch-size', values['batch-size'], 128, true), lr: num('lr', values.lr, 0.1), momentum: num('momentum', values.momentum, 0.9), weightDecay: num('weight-decay', values['weight-decay'], 1e-4), device, seed }, (r) =>
    log(`epoch ${r.epoch}/${epochs}  lr ${r.lr.toPrecision(2)}  train loss ${r.trainLoss.toFixed(3)} acc ${(100 * r.trainAcc).toFixed(1)}%  test loss ${r.testLoss.toFixed(3)} acc ${(100 * r.testAcc).toFixed(1)}%  ${Math.round(r.imagesPerSec)} img/s`),
  );
  const last = reports[reports.length - 1];
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: test accuracy ${(100 * (last?.testAcc ?? 0)).toFixed(1)}%`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ testAcc: last?.testAcc, testLoss: last?.testLoss, epochs, imagesPerSec: last?.imagesPerSec })}\n`);
  }
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
    case 'train':
      return cmdTrain(rest);
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
