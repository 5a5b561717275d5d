/** Files the project writes are written atomically: a temp file beside the target, fsync, then rename. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes `data` to `file` so that a crash leaves either the old file or the new one, never half of one.
 * `data` may be a list of chunks written one after another, so a large file need not be joined in memory.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    const chunks = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
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

/** Async variant of `writeFileAtomic`. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const h = await fs.promises.open(tmp, 'w');
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
