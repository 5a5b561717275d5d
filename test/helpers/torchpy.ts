// Runs reference computations in /usr/bin/python3 with torch, for tests that compare ictorch with PyTorch
// on the same inputs. Tests using it are skipped (with the reason in their name) where python3 lacks torch.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';

export const PYTHON = '/usr/bin/python3';

/** True when /usr/bin/python3 imports torch. */
export const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** The torch version /usr/bin/python3 imports (null without one). */
export const pyTorchVersion: string | null = hasTorch ? spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim() : null;

/**
 * True when python3's torch and the LibTorch the addon was built against have the same major.minor version
 * (`ictorchTorchVersion`: `info().torchVersion`). Kernels change between releases (bf16 rounding, eps clamping,
 * the order of unsorted results), so the comparisons that need the same kernels ask this; scripts/check-libtorch2.sh
 * runs the suite with a 2.x addon against Debian's python3-torch 1.13.
 */
export function sameTorchVersion(ictorchTorchVersion: string): boolean {
  const mm = (v: string | null) => (v ?? '').split('.').slice(0, 2).join('.');
  return pyTorchVersion !== null && mm(pyTorchVersion) === mm(ictorchTorchVersion);
}

/**
 * True when python3 imports torchvision along with its torch: imported, not looked up, since Debian's torchvision
 * aborts the interpreter under another torch (scripts/check-libtorch2.sh runs python3 with a torch 2.x).
 */
export const hasTorchvision = hasTorch && spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;

/**
 * Runs `code` in python3 with `input` on stdin; resolves to stdout, rejects with stderr on failure. Async so
 * that the test worker's event loop stays free while torch imports (vitest's RPC times out otherwise).
 */
export function py(code: string, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', code], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8')) : reject(new Error(`python failed: ${Buffer.concat(err).toString('utf8')}`))));
    p.stdin.end(input);
  });
}

/** One tensor sent to Python: flat values, shape, dtype, whether its gradient is wanted. */
export interface PyTensor {
  data: number[];
  shape: number[];
  dtype: string;
  grad?: boolean;
}

/** A reference case: `expr` is a Python expression over the inputs (by name) and `F`, `torch`. */
export interface PyCase {
  name: string;
  inputs: Record<string, PyTensor>;
  expr: string;
  /** Seed set before the expression (for random ops). */
  seed?: number;
  /** Backpropagate this upstream gradient (flat, the output's shape) and return input gradients. */
  gradOut?: number[];
}

/** What Python returned for a case. */
export interface PyResult {
  shape: number[];
  out: number[];
  grads: Record<string, number[] | null>;
}

/** Python defining `tensor_of(spec)`: the torch tensor of a PyTensor (as toTensor of specs.ts builds ours); needs torch imported. */
export const PY_TENSOR_OF = `
def tensor_of(s):
    x = torch.tensor(s['data'], dtype=getattr(torch, s['dtype'])).reshape(s['shape'])
    return x.requires_grad_(True) if s.get('grad') else x
`;

const RUNNER = `
import json, sys, torch
import torch.nn.functional as F
${PY_TENSOR_OF}
cases = json.load(sys.stdin)
res = {}
for c in cases:
    t = {k: tensor_of(v) for k, v in c['inputs'].items()}
    if c.get('seed') is not None: torch.manual_seed(c['seed'])
    out = eval(c['expr'], {'F': F, 'torch': torch, **t})
    r = {'shape': list(out.shape), 'out': out.detach().double().flatten().tolist(), 'grads': {}}
    if c.get('gradOut') is not None:
        out.backward(torch.tensor(c['gradOut'], dtype=out.dtype).reshape(out.shape))
        for k, x in t.items():
            if x.requires_grad: r['grads'][k] = None if x.grad is None else x.grad.double().flatten().tolist()
    res[c['name']] = r
print(json.dumps(res))
`;

/** Evaluates every case in one Python process. */
export async function runCases(cases: PyCase[]): Promise<Record<string, PyResult>> {
  return JSON.parse(await py(RUNNER, JSON.stringify(cases))) as Record<string, PyResult>;
}
