/**
 * Bytes read at any position, bounded by a size fixed when the source is opened: a regular file (never a
 * FIFO, device or directory, which could block or never end) or a buffer in memory.
 */
import { constants as bufferConstants } from 'buffer';
import * as fs from 'fs';

/** Random-access bytes. Reads outside `[0, size)` are errors, never short or padded. */
export interface ByteSource {
  /** The file name (or a label for a buffer), for messages. */
  readonly name: string;
  /** Bytes available, fixed when opened. */
  readonly size: number;
  /** A fresh copy of `length` bytes starting at `position`. */
  read(position: number, length: number): Uint8Array;
  /** Releases the file. */
  close(): void;
}

/** The most bytes one read returns: what a Node Buffer can hold. */
export const MAX_READ = Math.min(2 ** 32, bufferConstants.MAX_LENGTH);
const CHUNK = 1 << 30;

function kind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `file` for reading after checking that it is a regular file (following symbolic links), so a
 * FIFO or `/dev/zero` is an error at once instead of a hang. Errors start with `op`.
 */
export function openRegularFile(file: string, op: string): ByteSource {
  const cannot = (e: unknown): Error => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return new Error(`${op}: ${file} does not exist.`);
    return new Error(`${op}: cannot read ${file} (${err.code ?? err.message}).`);
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw cannot(e);
  }
  if (!st.isFile()) throw new Error(`${op}: ${file} is ${kind(st)}; only regular files can be read.`);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have been swapped for a FIFO since the stat, opening it does not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw cannot(e);
  }
  const fst = fs.fstatSync(fd);
  if (!fst.isFile()) {
    fs.closeSync(fd);
    throw new Error(`${op}: ${file} is ${kind(fst)}; only regular files can be read.`);
  }
  const size = fst.size;
  let open = true;
  return {
    name: file,
    size,
    read(position: number, length: number): Uint8Array {
      if (!open) throw new Error(`${op}: ${file} was already closed.`);
      if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > size) {
        throw new Error(`${op}: ${file}: a read of ${length} bytes at ${position} lies outside its ${size} bytes.`);
      }
      if (length > MAX_READ) throw new Error(`${op}: ${file}: a single record of ${length} bytes is larger than one Node.js buffer can hold (${MAX_READ} bytes).`);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, out, done, Math.min(CHUNK, length - done), position + done);
        if (n === 0) throw new Error(`${op}: ${file} changed while being read: it ended before the ${size} bytes it had when opened.`);
        done += n;
      }
      return out;
    },
    close(): void {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/** A source over bytes in memory (copies on read, like a file). */
export function bufferSource(bytes: Uint8Array, name = '<buffer>'): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    read(position: number, length: number): Uint8Array {
      if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > bytes.byteLength) {
        throw new Error(`${name}: a read of ${length} bytes at ${position} lies outside its ${bytes.byteLength} bytes.`);
      }
      return bytes.slice(position, position + length);
    },
    close(): void {},
  };
}
