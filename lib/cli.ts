#!/usr/bin/env node
/** The `ictorch` command line. Commands: info, train, eval, reproduce, analyze. */
import * as path from 'path';
import { parseArgs } from 'util';
import { ANALYZE_HELP, cmdAnalyze } from './analysis/cli';
import { joinLaunchedRun, LAUNCH_FLAGS, LAUNCH_HELP, launchCommand, wantsLaunch } from './cli-launch';
import { REPRODUCE_HELP } from './reproduce/help';
import { asUsage, num, parseTrainFlags, TRAIN_FLAGS, UsageError } from './train-flags';
import { stopOnSignals } from './util/stop-signals';

const HELP = `Usage: ictorch <command> [options]

Commands:
  info [--json]     package and LibTorch versions, CUDA/cuDNN and devices, build flags
  train [options]   train a network (default: IC-layer ResNet-20 on the built-in synthetic data set)
      --data SPEC             synthetic (default) | cifar10:<dir> | cifar100:<dir> | cifar100-coarse:<dir> |
                              imagefolder:<dir> | imagenet:<dir> (ILSVRC2012: train/<wnid>/, val/ + labels)
      --model M               resnet | resnet-b (CIFAR, two-/three-layer units) | resnet18 | resnet34 | resnet50
      --depth N --width K     CIFAR depth (6n+2, or 9n+2 for resnet-b) and width multiplier
      --layout L              baseline | relu-ic-conv | ic-conv-relu | conv-relu-ic (default relu-ic-conv)
      --drop-rate P           IC dropout rate (default 0.05)
      --epochs N --batch-size N --lr X --momentum X (0.9) --weight-decay X (1e-4) --nesterov
                              CIFAR models: 164 epochs, batch 128, lr 0.1; ImageNet models (resnet18/34/50):
                              90 epochs, batch 256, lr 0.1 x batch/256, x0.1 every 30 epochs
      --optimizer sgd|adam|adamw|rmsprop|adagrad|adamax|nadam|radam|adadelta
                              (default sgd; --momentum and --nesterov are SGD's)
      --schedule step|cosine|constant (step: x0.1 at 50% and 75%)  --lr-step-epochs N (step: x0.1 every N)
      --warmup-epochs N  --label-smoothing X
      --classes N --val-labels FILE --workers N --image-size N --skip-corrupt
                              ImageNet: first N classes, validation labels file, decoder threads, crop side
                              (224), skip (and count) corrupt files
      --device cpu|cuda[:N]  --amp bf16|fp16  --no-cuda-graph  --seed N
      --out DIR               run directory (metrics.jsonl, curves.svg/png, checkpoint.ckpt, model.pt)
      --resume FILE           continue from a checkpoint    --checkpoint-every N (epochs, default 1)
      --log-every N (steps)   --no-augment  --keep-last  --limit-per-class N  --train-size/--test-size N (synthetic)
      --json                  last line of stdout: {testAcc, testTop5, testLoss, epochs, imagesPerSec, runDir}
${LAUNCH_HELP}
  eval --checkpoint FILE [--data SPEC] [--device D] [--json]
                    top-1/top-5 accuracy and loss of a checkpoint on a test split
${ANALYZE_HELP}
${REPRODUCE_HELP}

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
    `Process groups: ${i.processGroupBackends.length ? i.processGroupBackends.join(', ') : 'none (built without Gloo; see README, "Training on several processes")'}`,
    `TorchScript: ${i.torchScript ? 'yes (torch.jit.load)' : 'no (built with ICTORCH_JIT=0)'}`,
    `Addon: ${i.addon}`,
    i.build ? `Build: ${i.build.compiler}, ${i.build.buildType}, ${i.build.cxxFlags}` : 'Build: (no build record)',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const MODELS = ['resnet', 'resnet-b', 'resnet18', 'resnet34', 'resnet50'] as const;

async function cmdTrain(argv: string[]): Promise<void> {
  const s = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...TRAIN_FLAGS, ...LAUNCH_FLAGS, data: s, model: s, depth: s, layout: s, seed: s, out: s, resume: s },
  });
  if (wantsLaunch(values)) return launchCommand('train', argv, values);
  const torch = require('./index') as typeof import('./index');
  const flags = parseTrainFlags(values);
  // A process of a launched run (ours or torchrun's environment): join its group first; --device cuda is its own GPU.
  const { rank, device } = await joinLaunchedRun(flags.config.device ?? 'cpu');
  const model = values.model ?? 'resnet';
  if (!(MODELS as readonly string[]).includes(model)) throw new UsageError(`--model must be one of ${MODELS.join(', ')}, got "${model}"`);
  const layout = values.layout ?? 'relu-ic-conv';
  if (!(torch.LAYOUTS as readonly string[]).includes(layout)) throw new UsageError(`--layout must be one of ${torch.LAYOUTS.join(', ')}, got "${layout}"`);
  const data = values.data ?? 'synthetic';
  const cifar = model === 'resnet' || model === 'resnet-b';
  const args: Record<string, unknown> = { layout, dropRate: flags.dropRate ?? (layout === 'baseline' ? 0 : 0.05) };
  if (cifar) {
    args.depth = num('depth', values.depth, model === 'resnet-b' ? 29 : data === 'synthetic' ? 20 : 110, true);
    args.width = flags.width ?? 1;
  } else if (values.depth !== undefined || values.width !== undefined) {
    throw new UsageError(`--depth and --width are for the CIFAR ResNets (resnet, resnet-b); ${model} has a fixed depth`);
  }
  // The recipes: the paper's CIFAR one (He et al.'s), and for the ImageNet models the usual ResNet one: batch
  // 256, lr 0.1 scaled linearly with the batch, x0.1 every 30 epochs, 90 epochs. Explicit flags win.
  const batchSize = flags.config.batchSize ?? (cifar ? 128 : 256);
  const schedule = flags.config.schedule ?? 'step';
  const cfg = {
    ...torch.DEFAULT_CONFIG,
    ...flags.config,
    model: { name: model, args }, data, device, batchSize,
    lr: flags.config.lr ?? (cifar ? 0.1 : (0.1 * batchSize) / 256),
    lrStepEpochs: flags.config.lrStepEpochs ?? (!cifar && schedule === 'step' ? 30 : 0),
    epochs: flags.config.epochs ?? (data === 'synthetic' ? 3 : cifar ? 164 : 90),
    seed: num('seed', values.seed, 0, true), outDir: values.out ?? path.join('runs', `${model}-${layout}-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  };
  // Rank 0 speaks for a launched run; the others print only their errors.
  const log = rank === 0 ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
  const t0 = Date.now();
  // Resuming continues the checkpoint's run: only flags given explicitly (epochs, out, device) change it.
  const resumeCfg = { epochs: values.epochs === undefined ? undefined : cfg.epochs, outDir: values.out, device: values.device === undefined ? undefined : cfg.device };
  const stop = stopOnSignals(log);
  const run = asUsage(() =>
    torch.fit(values.resume ? resumeCfg : cfg, {
      resume: values.resume as string,
      signal: stop.signal,
      log,
      progressStream: process.stderr, // a redrawn bar on a terminal, a plain line per tenth of an epoch in logs
      onEpoch: (r) =>
        log(`epoch ${r.epoch}/${r.epochs}  lr ${r.lr.toPrecision(2)}  train loss ${r.trainLoss.toFixed(3)} acc ${(100 * r.trainAcc).toFixed(1)}%  test loss ${r.testLoss.toFixed(3)} top-1 ${(100 * r.testAcc).toFixed(2)}% top-5 ${(100 * r.testTop5).toFixed(1)}%  ${Math.round(r.imagesPerSec)} img/s`),
    }),
  );
  let result: Awaited<typeof run>;
  try {
    result = await run;
  } catch (e) {
    if (!(e instanceof torch.FitInterrupted)) throw e;
    log(`stopped at step ${e.step} (${e.epoch} epochs done); checkpoint ${e.checkpoint}. Continue with: ictorch train --resume ${e.checkpoint}`);
    process.exit(stop.exitCode());
  } finally {
    stop.dispose();
  }
  const f = result.final;
  torch.distributed.destroyProcessGroup();
  if (rank !== 0) return;
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: test top-1 ${(100 * f.testAcc).toFixed(2)}%; run directory ${result.runDir}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ testAcc: f.testAcc, testTop5: f.testTop5, testLoss: f.testLoss, epochs: f.epoch, imagesPerSec: f.imagesPerSec, runDir: result.runDir })}\n`);
  }
}

async function cmdEval(argv: string[]): Promise<void> {
  const s = { type: 'string' } as const;
  const { values } = parseArgs({ args: argv, strict: true, options: { checkpoint: s, data: s, device: s, json: { type: 'boolean' }, verbose: { type: 'boolean' }, 'limit-per-class': s } });
  if (!values.checkpoint) throw new UsageError('eval needs --checkpoint <file>');
  const torch = require('./index') as typeof import('./index');
  const device = values.device ?? 'cpu';
  const ck = await asUsage(() => torch.loadCheckpoint(values.checkpoint!, { device }));
  const spec = values.data ?? String(ck.config.data ?? 'synthetic');
  const cfg = { ...torch.DEFAULT_CONFIG, ...(ck.config as Partial<import('./train/fit').TrainConfig>), model: ck.model, data: spec, device };
  cfg.limitPerClass = num('limit-per-class', values['limit-per-class'], 0, true);
  const data = await asUsage(() => torch.loadData(spec, torch.dataOptions(cfg)));
  // Evaluation must see what training saw: the same classes in the same order, normalised the same way.
  if (ck.classes && ck.classes.join('\n') !== data.classes.join('\n')) {
    data.dispose();
    torch.disposeCheckpoint(ck);
    throw new UsageError(`the checkpoint was trained on ${ck.classes.length} classes (${ck.classes.slice(0, 4).join(', ')}, ...) but ${spec} has ${data.classes.length} (${data.classes.slice(0, 4).join(', ')}, ...)`);
  }
  const norm = ck.normalization ?? { mean: data.mean, std: data.std };
  const model = torch.buildModel(ck.model).to({ device });
  model.loadStateDict(ck.modelState);
  torch.disposeCheckpoint(ck);
  const bar = process.stderr.isTTY ? new torch.Progress({ total: data.test.length, label: 'test', stream: process.stderr }) : null;
  let r: Awaited<ReturnType<typeof torch.evaluate>>;
  try {
    r = await torch.evaluate(model, data.test, { device, mean: norm.mean, std: norm.std, onProgress: bar ? (done) => bar.update(done) : undefined });
  } finally {
    bar?.finish();
    model.dispose();
    data.dispose();
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ testAcc: r.acc, testTop5: r.top5, testLoss: r.loss, epoch: ck.epoch, data: spec })}\n`);
  else process.stdout.write(`${values.checkpoint} (epoch ${ck.epoch}) on ${spec}: top-1 ${(100 * r.acc).toFixed(2)}%  top-5 ${(100 * r.top5).toFixed(2)}%  loss ${r.loss.toFixed(4)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // `ictorch --help`, `ictorch help` and `ictorch <command> --help` all print the usage text.
  if (!command || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  switch (command) {
    case 'info':
      return cmdInfo(rest);
    case 'train':
      return cmdTrain(rest);
    case 'eval':
      return cmdEval(rest);
    case 'analyze':
      return asUsage(() => cmdAnalyze(rest, (m) => new UsageError(m)));
    case 'reproduce':
      return (require('./reproduce/command') as typeof import('./reproduce/command')).cmdReproduce(rest);
    default:
      throw new UsageError(`unknown command "${command}"; run \`ictorch --help\` for the list`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  const err = e as Error & { code?: string };
  const usage = e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`ictorch: ${err.message.split('\n')[0]}\n`);
  if (process.argv.includes('--verbose') && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(usage ? 2 : 1);
});
