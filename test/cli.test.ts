// The `ictorch` command line, run as a user runs it (node dist/cli.js; `npm test` compiles dist first).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { runNode } from './helpers/run';

const cli = path.join(__dirname, '..', 'dist', 'cli.js');
const run = (...args: string[]) => runNode([cli, ...args], { timeout: 300_000 });

describe('ictorch CLI', () => {
  it('info prints versions and devices; --json is machine-readable', async () => {
    const plain = await run('info');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^ictorch \d+\.\d+\.\d+/);
    expect(plain.stdout).toMatch(/LibTorch \d+\.\d+/);
    const j = await run('info', '--json');
    expect(j.status).toBe(0);
    const info = JSON.parse(j.stdout);
    expect(info.torchVersion).toMatch(/^\d+\.\d+/);
    expect(typeof info.cudaAvailable).toBe('boolean');
    expect(info.numThreads).toBeGreaterThanOrEqual(1);
    expect(info.build?.torchPrefix).toBeTruthy();
    expect(info.processGroupBackends).toEqual(info.build.gloo === 'ON' ? ['gloo'] : []);
    expect(info.torchScript).toBe(info.build.jit !== 'OFF');
    expect(plain.stdout).toMatch(/^Process groups: /m);
  });

  it('--help prints the usage text, for the program and for each command', async () => {
    for (const args of [['--help'], ['help'], ['train', '--help'], ['eval', '-h'], ['train', '--epochs', '3', '--help']]) {
      const r = await run(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: ictorch <command>/);
      expect(r.stdout).toMatch(/--resume FILE/);
    }
  });

  it('a bad command or flag is a one-line error with exit code 2 and no stack trace', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-cli-bad-'));
    const cases = [['frobnicate'], ['info', '--nope'], ['train', '--layout', 'sideways'], ['train', '--epochs', 'many'], ['train', '--data', 'cifar10:/no/such/dir'], ['train', '--depth', '21']];
    const [major, minor] = JSON.parse((await run('info', '--json')).stdout).torchVersion.split('.').map(Number);
    if (major < 2 || (major === 2 && minor < 4)) cases.push(['train', '--amp', 'fp16']); // no fp16 CPU autocast before 2.4
    for (const args of cases) {
      const r = await run(...args, ...(args[0] === 'train' ? ['--out', path.join(out, 'run')] : []));
      expect(fs.existsSync(path.join(out, 'run')), `${args.join(' ')} left a run directory`).toBe(false);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ictorch: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('an --out that cannot be made (under /proc, where Node\'s own recursive mkdir loops forever) is a one-line error at once', async () => {
    const r = await run('train', '--depth', '8', '--epochs', '1', '--train-size', '64', '--test-size', '64', '--batch-size', '32', '--out', '/proc/ictorch/run');
    expect(r.error).toBeUndefined(); // no timeout
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ictorch: fit: cannot create the directory \/proc\/ictorch\/run \(at \/proc\/ictorch\)/);
  });

  it('train on the built-in data set learns well above chance, shows progress in a log and reports JSON', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ictorch-cli-train-'));
    const r = await run('train', '--depth', '8', '--epochs', '2', '--train-size', '1024', '--test-size', '256', '--batch-size', '64', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1]);
    expect(last.epochs).toBe(2);
    expect(last.testAcc).toBeGreaterThan(0.3); // chance is 0.1
    expect(last.imagesPerSec).toBeGreaterThan(0);
    expect(last.runDir).toBe(out);
    expect(fs.readdirSync(out)).toEqual(expect.arrayContaining(['metrics.jsonl', 'checkpoint.ckpt', 'model.pt', 'curves.svg', 'curves.png']));
    // stderr is not a terminal here: progress comes as plain lines (no bar, no carriage returns) within each epoch.
    expect(r.stderr).toMatch(/^epoch 1\/2 +\d+% +\d+\/16 +loss \S+ +acc \S+% +\S+ img\/s +ETA /m);
    expect(r.stderr).not.toMatch(/\r/);
    expect(r.stderr).toMatch(/epoch 2\/2/);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
