/**
 * Files the project writes are written atomically: a temp file beside the target, fsync, then rename.
 *
 * Temp files are named `.<name>.tmp-<pid>-<random>`. A writer killed between creating its temp file
 * and renaming it (SIGKILL, power loss) leaves that file behind; the next write of the same target
 * removes such temp files when the process that made them is gone.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { makeDir, makeDirSync } from './mkdir';

/** The temp name for `file` written by this process. */
function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function processGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the temp files of earlier writes of `file` whose writer process no longer exists (a write killed
 * half-way). Temp files of live processes, including this one, are left alone. Returns the names removed.
 */
export function removeStaleTemps(file: string): string[] {
  const dir = path.dirname(file);
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(file))}\\.tmp-(\\d+)-[0-9a-f]+$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || !processGone(Number(m[1]))) continue;
    const p = path.join(dir, name);
    try {
      if (fs.lstatSync(p).isFile()) {
        fs.rmSync(p, { force: true });
        removed.push(name);
      }
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** What `writeFileAtomic` writes: a string (UTF-8), bytes, or an iterable of byte chunks (streamed). */
export type Chunks = string | Uint8Array | Iterable<Uint8Array>;

function chunksOf(data: Chunks): Iterable<Uint8Array> {
  if (typeof data === 'string') return [Buffer.from(data)];
  if (ArrayBuffer.isView(data)) return [data as Uint8Array];
  return data;
}

/**
 * Writes `data` to `file` so that a crash leaves either the old file or the new one, never half of one.
 * `data` may be a list (or any iterable, e.g. a generator) of chunks written one after another, so a large
 * file need not be joined in memory, nor even exist in memory all at once. If producing or writing a
 * chunk fails, the temp file is removed, the old file is untouched and the error is rethrown.
 */
export function writeFileAtomic(file: string, data: Chunks): void {
  const dir = path.dirname(file);
  makeDirSync(dir, 'writeFileAtomic');
  removeStaleTemps(file);
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'wx');
  try {
    for (const chunk of chunksOf(data)) {
      for (let done = 0; done < chunk.byteLength; ) done += fs.writeSync(fd, chunk, done, chunk.byteLength - done);
    }
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

// Makes a rename durable; some file systems do not allow fsync on a directory, which is then skipped.
function syncDir(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // not supported here
  }
}

/** Async variant of `writeFileAtomic` (one string or buffer). */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await makeDir(dir, 'writeFileAtomic');
  removeStaleTemps(file);
  const tmp = tempName(file);
  const h = await fs.promises.open(tmp, 'wx');
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (e) {
    await h.close();
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}
