/**
 * What produced a number: the code (git commit of the ictorch checkout, or the package version), the
 * machine (CPU, GPU, LibTorch) and the data (spec and a fingerprint of its files). Each cell's run directory
 * gets `reproduce.json` with one record per session that trained it (a cell may be resumed elsewhere).
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { info } from '../runtime';
import { writeFileAtomic } from '../util/atomic';

// dist/reproduce/provenance.js or lib/reproduce/provenance.ts: the package root is two levels up.
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The code that runs: a git commit when ictorch runs from a git checkout, else the package version. */
export interface CodeVersion {
  /** ictorch's package version. */
  version: string;
  /** `git rev-parse HEAD` of the checkout, or null outside one. */
  commit: string | null;
  /** Whether the checkout had uncommitted changes to tracked files (null outside one). */
  dirty: boolean | null;
}

let codeCache: CodeVersion | undefined;

/** The code version (computed once per process). */
export function codeVersion(): CodeVersion {
  if (codeCache) return codeCache;
  const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    // Only when the package root is the top of its own checkout (not a package inside someone's repository).
    if (path.resolve(git(['rev-parse', '--show-toplevel'])) === fs.realpathSync(PACKAGE_ROOT)) {
      commit = git(['rev-parse', 'HEAD']);
      dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    }
  } catch {
    // not a git checkout, or no git: the package version says what ran
  }
  codeCache = { version, commit, dirty };
  return codeCache;
}

/** "commit 1a2b3c4d5e6f (with uncommitted changes)" or "ictorch 0.1.0 (not a git checkout)". */
export function describeCode(c: CodeVersion): string {
  if (!c.commit) return `ictorch ${c.version} (not a git checkout)`;
  return `ictorch ${c.version}, commit ${c.commit}${c.dirty ? ' with uncommitted changes' : ''}`;
}

/** The machine a session ran on. */
export interface Machine {
  host: string;
  os: string;
  cpu: string;
  cpuCores: number;
  memoryGiB: number;
  /** The device the cells trained on, and its name for a GPU. */
  device: string;
  gpu: string | null;
  torchVersion: string;
  cudnnVersion: number | null;
  threads: number;
  node: string;
}

/** The machine this process runs on, for a session on `device`. */
export function machine(device: string): Machine {
  const i = info();
  const cpus = os.cpus();
  const idx = device.startsWith('cuda') ? Number(device.split(':')[1] ?? 0) : -1;
  const gpu = idx >= 0 ? (i.cudaDevices[idx] ?? null) : null;
  return {
    host: os.hostname(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    device,
    gpu: gpu ? `${gpu.name} (sm ${gpu.capability}, ${(gpu.totalMemory / 2 ** 30).toFixed(0)} GiB)` : null,
    torchVersion: i.torchVersion,
    cudnnVersion: i.cudnnAvailable ? i.cudnnVersion : null,
    threads: i.numThreads,
    node: process.version,
  };
}

/** One line: "AMD EPYC ... (2 cores, 7.7 GiB), cpu, LibTorch 1.13.1, 2 threads". */
export function describeMachine(m: Machine): string {
  const dev = m.gpu ? `${m.device} = ${m.gpu}` : m.device;
  return `${m.cpu} (${m.cpuCores} cores, ${m.memoryGiB} GiB) on ${m.os}; ${dev}; LibTorch ${m.torchVersion}${m.cudnnVersion ? `, cuDNN ${m.cudnnVersion}` : ''}; ${m.threads} threads; Node ${m.node}`;
}

/** A fingerprint of a data set's files. */
export interface DataFingerprint {
  spec: string;
  /** Files counted (hidden files and folders, such as ictorch's decode cache, are left out). */
  files: number;
  bytes: number;
  /** SHA-256 of the sorted list of "relative path, size" lines, first 16 hex digits. */
  listSha256: string;
  /** The newest modification time among the files (ISO 8601). */
  newest: string | null;
}

function walk(dir: string, rel: string, out: [string, number, number][]): void {
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(dir, r, out);
    else if (e.isFile()) {
      const st = fs.statSync(path.join(dir, r));
      out.push([r, st.size, st.mtimeMs]);
    }
  }
}

const fingerprintCache = new Map<string, DataFingerprint>();

/**
 * Fingerprints the files a data spec names (`<scheme>:<dir>`): count, total bytes, a hash of the list of
 * relative paths and sizes, and the newest mtime. `synthetic` has no files: its fingerprint is empty (the
 * generator is part of the code). Computed once per spec per process.
 */
export function dataFingerprint(spec: string): DataFingerprint {
  const hit = fingerprintCache.get(spec);
  if (hit) return hit;
  const colon = spec.indexOf(':');
  const entries: [string, number, number][] = [];
  if (colon >= 0) walk(spec.slice(colon + 1), '', entries);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const hash = createHash('sha256');
  for (const [r, size] of entries) hash.update(`${r}\0${size}\n`);
  const newest = entries.length ? Math.max(...entries.map((e) => e[2])) : null;
  const fp: DataFingerprint = {
    spec,
    files: entries.length,
    bytes: entries.reduce((a, e) => a + e[1], 0),
    listSha256: hash.digest('hex').slice(0, 16),
    newest: newest === null ? null : new Date(newest).toISOString(),
  };
  fingerprintCache.set(spec, fp);
  return fp;
}

/** "50,060 files, 231.4 MiB, list sha256 0123abcd..., newest 2019-03-31T..." or "generated (no files)". */
export function describeData(fp: DataFingerprint): string {
  if (fp.files === 0 && !fp.spec.includes(':')) return 'generated by ictorch (no files)';
  return `${fp.files.toLocaleString('en-US')} files, ${(fp.bytes / 2 ** 20).toFixed(1)} MiB, list sha256 ${fp.listSha256}, newest file ${fp.newest ?? '-'}`;
}

/** One session of training a cell (a cell resumed later has several). */
export interface Session {
  code: CodeVersion;
  machine: Machine;
  data: DataFingerprint;
  /** The command line of the session. */
  argv: string[];
  started: string;
  /** Null while running; a session left at null ended without saying so (the process was killed). */
  ended: string | null;
  status: 'running' | 'finished' | 'interrupted' | 'failed';
  fromEpoch: number;
  fromStep: number;
  toEpoch: number | null;
  toStep: number | null;
  /** Wall time of the session in seconds, data loading included. */
  seconds: number | null;
  /** Processes that trained the cell data parallel in this session (absent: one). */
  processes?: number;
  error?: string;
}

/** `<runDir>/reproduce.json`. */
export interface CellProvenance {
  format: 'ictorch-reproduce-cell';
  cell: string;
  sessions: Session[];
}

/** The file name of a cell's provenance record. */
export const PROVENANCE_FILE = 'reproduce.json';

/** Reads a cell's provenance record; null when absent or unreadable (the report then says "no record"). */
export function readProvenance(dir: string): CellProvenance | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, PROVENANCE_FILE), 'utf8')) as CellProvenance;
    return v && v.format === 'ictorch-reproduce-cell' && Array.isArray(v.sessions) ? v : null;
  } catch {
    return null;
  }
}

/** Writes a cell's provenance record atomically. */
export function writeProvenance(dir: string, p: CellProvenance): void {
  writeFileAtomic(path.join(dir, PROVENANCE_FILE), `${JSON.stringify(p, null, 2)}\n`);
}
