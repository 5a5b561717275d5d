/**
 * Zip archives as PyTorch uses them (torch.save's container): reading with every field checked, and
 * streaming writing.
 *
 * Reading (`ZipReader`): the end-of-central-directory record (zip64 too) and the central directory are
 * read and checked first: every entry must lie inside the file, before the directory, without
 * overlapping another, with a unique name, stored or deflated, unencrypted, and with a local header that
 * agrees with it. Entry bytes are read on demand and verified: a stored entry's size, a deflated entry's
 * inflated size (bounded by what it declares, which is itself bounded by deflate's largest ratio) and
 * the CRC-32 of every entry. So truncation or damage is an error naming the entry, never changed data.
 *
 * Writing (`zipStream`): entries stored uncompressed as torch.save writes them, each entry's data
 * starting at a multiple of 64 bytes (PyTorch's alignment, so readers can map tensors from the file),
 * names UTF-8, timestamps fixed (1980-01-01) so equal contents give equal files, zip64 fields where
 * a size or offset needs them. Chunks are yielded one by one for `writeFileAtomic`.
 */
import * as zlib from 'zlib';
import type { ByteSource } from './source';

/** A damaged or unsupported archive; the message says what and where. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

// ---------------------------------------------------------------- CRC-32

let table: Int32Array | null = null;
/** CRC-32 (zip's) in plain JS: the fallback where zlib.crc32 (Node >= 20.15) is missing. */
export function crc32Js(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc = (data: Uint8Array, value?: number) => number;
/** CRC-32 of `data`, continuing from `value`. */
export const crc32: Crc = typeof (zlib as { crc32?: Crc }).crc32 === 'function' ? (zlib as unknown as { crc32: Crc }).crc32 : crc32Js;

// ---------------------------------------------------------------- reading

/** One entry of the central directory, checked against the file. */
export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Where the entry's data starts (after its local header). */
  readonly dataOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Deflate cannot expand more than about 1032:1. */
const MAX_DEFLATE_RATIO = 1032;
const VERIFY_CHUNK = 16 << 20;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(dv: DataView, at: number, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(`${what} is ${v}, beyond any real file`);
  return Number(v);
}

/** A zip archive opened over a `ByteSource`; see the file header for what is checked. */
export class ZipReader {
  /** The entries, in central-directory order. */
  readonly entries: readonly ZipEntry[];
  private readonly byName = new Map<string, ZipEntry>();

  private constructor(
    private readonly src: ByteSource,
    entries: ZipEntry[],
  ) {
    this.entries = entries;
    for (const e of entries) this.byName.set(e.name, e);
  }

  /**
   * Parses and checks the archive's directory (nothing of the entries' data is read yet). `maxEntrySize`
   * bounds what a deflated entry may inflate to (stored entries are bounded by the file itself).
   */
  static open(src: ByteSource, options: { maxEntrySize?: number } = {}): ZipReader {
    const maxEntrySize = options.maxEntrySize ?? Number.MAX_SAFE_INTEGER;
    const size = src.size;
    if (size < EOCD_SIZE) throw new ZipError(`truncated: ${size} bytes, too short for a zip archive`);
    const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tailStart = size - tailLen;
    const tail = src.read(tailStart, tailLen);
    const tv = view(tail);
    // The end record is the last one whose comment reaches exactly the end of the file.
    let eocd = -1;
    for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
        const after = tailLen - (i + EOCD_SIZE + tv.getUint16(i + 20, true));
        if (tv.getUint32(i, true) === SIG_EOCD && after > 0) throw new ZipError(`${after} unexpected bytes after the end of the archive`);
      }
      throw new ZipError('truncated or not a zip archive: no end-of-central-directory record at its end');
    }
    if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) throw new ZipError('multi-disk archives are not supported');
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    const eocdAt = tailStart + eocd;
    let cdEnd = eocdAt; // the directory ends where the (zip64) end records start
    if (eocdAt >= 20) {
      const loc = src.read(eocdAt - 20, 20);
      const lv = view(loc);
      if (lv.getUint32(0, true) === SIG_LOCATOR64) {
        const at = u64(lv, 8, 'the zip64 end record offset');
        if (at + 56 > eocdAt - 20) throw new ZipError('the zip64 end record lies outside the file');
        const rec = view(src.read(at, 56));
        if (rec.getUint32(0, true) !== SIG_EOCD64) throw new ZipError('the zip64 end record is missing where its locator points');
        count = u64(rec, 32, 'the zip64 entry count');
        cdSize = u64(rec, 40, 'the zip64 directory size');
        cdOffset = u64(rec, 48, 'the zip64 directory offset');
        cdEnd = at;
      }
    }
    if (cdOffset + cdSize > cdEnd) throw new ZipError(`truncated or damaged: the central directory (${cdSize} bytes at ${cdOffset}) runs past its end record at ${cdEnd}`);
    if (count * 46 > cdSize) throw new ZipError(`the end record declares ${count} entries, more than a ${cdSize}-byte central directory can hold`);
    const cd = src.read(cdOffset, cdSize);
    const cv = view(cd);
    const entries: ZipEntry[] = [];
    const names = new Set<string>();
    const spans: [number, number, string][] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${n} is damaged`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc = cv.getUint32(p + 16, true);
      let csize = cv.getUint32(p + 20, true);
      let usize = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      const disk = cv.getUint16(p + 34, true);
      let local = cv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new ZipError(`central directory entry ${n} runs past the directory`);
      const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
      const name = Buffer.from(nameBytes).toString('utf8');
      const where = `entry "${name}"`;
      // zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cv.getUint16(x, true);
        const len = cv.getUint16(x + 2, true);
        if (x + 4 + len > xEnd) throw new ZipError(`${where} has a damaged extra field`);
        if (id === 0x0001) {
          let q = x + 4;
          const take = (what: string): number => {
            if (q + 8 > x + 4 + len) throw new ZipError(`${where} has a zip64 field too short for its ${what}`);
            const v = u64(cv, q, `${where}'s ${what}`);
            q += 8;
            return v;
          };
          if (usize === 0xffffffff) usize = take('size');
          if (csize === 0xffffffff) csize = take('compressed size');
          if (local === 0xffffffff) local = take('offset');
        }
        x += 4 + len;
      }
      p += 46 + nameLen + extraLen + commentLen;
      if (disk !== 0 && disk !== 0xffff) throw new ZipError(`${where} is on another disk`);
      if (flags & 0x41) throw new ZipError(`${where} is encrypted`);
      if (method !== 0 && method !== 8) throw new ZipError(`${where} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
      if (method === 0 && csize !== usize) throw new ZipError(`${where} is stored but declares ${usize} bytes and ${csize} stored bytes`);
      if (method === 8 && usize > csize * MAX_DEFLATE_RATIO + 1024) throw new ZipError(`${where} declares ${usize} bytes from ${csize} deflated bytes, more than deflate can expand`);
      if (method === 8 && usize > maxEntrySize) throw new ZipError(`${where} declares ${usize} bytes, more than the ${maxEntrySize} allowed for this file`);
      if (names.has(name)) throw new ZipError(`${where} appears twice`);
      names.add(name);
      if (local + 30 > cdOffset) throw new ZipError(`${where} has its local header outside the file's data (at ${local})`);
      const lh = src.read(local, 30);
      const lv = view(lh);
      if (lv.getUint32(0, true) !== SIG_LOCAL) throw new ZipError(`${where} has no local header at ${local}`);
      const lNameLen = lv.getUint16(26, true);
      const lExtraLen = lv.getUint16(28, true);
      const dataOffset = local + 30 + lNameLen + lExtraLen;
      if (dataOffset > cdOffset || csize > cdOffset - dataOffset) throw new ZipError(`truncated or damaged: ${where} (${csize} bytes at ${dataOffset}) runs past the start of the central directory at ${cdOffset}`);
      if (lNameLen !== nameLen || !Buffer.from(src.read(local + 30, lNameLen)).equals(nameBytes)) throw new ZipError(`${where}: its local header names another file`);
      if (lv.getUint16(8, true) !== method) throw new ZipError(`${where}: its local header gives another compression method`);
      // Without a data descriptor (flag bit 3) the local header repeats the CRC and sizes: they must agree.
      if (!(lv.getUint16(6, true) & 0x08)) {
        const lc = lv.getUint32(18, true);
        const lu = lv.getUint32(22, true);
        if (lv.getUint32(14, true) !== crc || (lc !== 0xffffffff && lc !== csize) || (lu !== 0xffffffff && lu !== usize)) {
          throw new ZipError(`${where}: its local header disagrees with the central directory on its CRC-32 or sizes`);
        }
      }
      spans.push([local, dataOffset + csize, name]);
      entries.push({ name, method, crc, compressedSize: csize, size: usize, dataOffset });
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i][0] < spans[i - 1][1]) throw new ZipError(`entries "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
    }
    return new ZipReader(src, entries);
  }

  /** The entry called `name`, or undefined. */
  find(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The entry's bytes (a fresh copy), after checking their size and CRC-32. */
  read(entry: ZipEntry): Uint8Array {
    const raw = this.src.read(entry.dataOffset, entry.compressedSize);
    let data = raw;
    if (entry.method === 8) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        throw new ZipError(`entry "${entry.name}" does not inflate to its declared ${entry.size} bytes (${(e as Error).message})`);
      }
      if (data.byteLength !== entry.size) throw new ZipError(`entry "${entry.name}" inflates to ${data.byteLength} bytes instead of its declared ${entry.size}`);
    }
    if (crc32(data) !== entry.crc) throw new ZipError(`CRC-32 mismatch in "${entry.name}": its contents changed after it was written`);
    return data;
  }

  /** Checks an entry's size and CRC-32 without keeping its bytes (read in chunks). */
  verify(entry: ZipEntry): void {
    if (entry.method !== 0) {
      this.read(entry);
      return;
    }
    let c = 0;
    for (let done = 0; done < entry.size; ) {
      const n = Math.min(VERIFY_CHUNK, entry.size - done);
      c = crc32(this.src.read(entry.dataOffset + done, n), c);
      done += n;
    }
    if (c !== entry.crc) throw new ZipError(`CRC-32 mismatch in "${entry.name}": its contents changed after it was written`);
  }
}

// ---------------------------------------------------------------- writing

/** One entry to write. */
export interface ZipWriteEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

/** Options of `zipStream`. */
export interface ZipWriteOptions {
  /** Align each entry's data to this many bytes (default 64, as PyTorch). */
  align?: number;
  /** Write zip64 fields for every entry and the zip64 end records even when small (tests). */
  forceZip64?: boolean;
}

const U32 = 0xffffffff;
const DOS_DATE = 0x0021; // 1980-01-01
const UTF8_FLAG = 0x0800;

/**
 * The bytes of a zip archive holding `entries` (consumed lazily, one at a time, so each entry's data
 * can be produced just before it is written), as a sequence of chunks.
 */
export function* zipStream(entries: Iterable<ZipWriteEntry>, options: ZipWriteOptions = {}): Generator<Uint8Array> {
  const align = options.align ?? 64;
  const force = options.forceZip64 === true;
  const central: Uint8Array[] = [];
  let offset = 0;
  let count = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const size = e.data.byteLength;
    const crc = crc32(e.data);
    const big = force || size >= U32;
    const bigOffset = force || offset >= U32;
    const zip64Local = big ? 20 : 0;
    const fixed = offset + 30 + name.length + zip64Local + 4;
    const pad = (align - (fixed % align)) % align;
    const extra = Buffer.alloc(zip64Local + 4 + pad, 0x5a);
    if (big) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(size), 12);
    }
    extra.writeUInt16LE(0x4246, zip64Local); // "FB": PyTorch's padding field
    extra.writeUInt16LE(pad, zip64Local + 2);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(SIG_LOCAL, 0);
    header.writeUInt16LE(big ? 45 : 20, 4);
    header.writeUInt16LE(UTF8_FLAG, 6);
    header.writeUInt16LE(0, 8);
    header.writeUInt16LE(0, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(big ? U32 : size, 18);
    header.writeUInt32LE(big ? U32 : size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    yield Buffer.concat([header, name, extra]);
    if (size > 0) yield e.data;

    const cdExtraLen = big || bigOffset ? 4 + (big ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
    const cdh = Buffer.alloc(46 + name.length + cdExtraLen);
    cdh.writeUInt32LE(SIG_CENTRAL, 0);
    cdh.writeUInt16LE(big || bigOffset ? 45 : 20, 4);
    cdh.writeUInt16LE(big || bigOffset ? 45 : 20, 6);
    cdh.writeUInt16LE(UTF8_FLAG, 8);
    cdh.writeUInt16LE(0, 10);
    cdh.writeUInt16LE(0, 12);
    cdh.writeUInt16LE(DOS_DATE, 14);
    cdh.writeUInt32LE(crc, 16);
    cdh.writeUInt32LE(big ? U32 : size, 20);
    cdh.writeUInt32LE(big ? U32 : size, 24);
    cdh.writeUInt16LE(name.length, 28);
    cdh.writeUInt16LE(cdExtraLen, 30);
    cdh.writeUInt32LE(bigOffset ? U32 : offset, 42);
    name.copy(cdh, 46);
    if (cdExtraLen) {
      let q = 46 + name.length;
      cdh.writeUInt16LE(0x0001, q);
      cdh.writeUInt16LE(cdExtraLen - 4, q + 2);
      q += 4;
      if (big) {
        cdh.writeBigUInt64LE(BigInt(size), q);
        cdh.writeBigUInt64LE(BigInt(size), q + 8);
        q += 16;
      }
      if (bigOffset) cdh.writeBigUInt64LE(BigInt(offset), q);
    }
    central.push(cdh);
    offset += 30 + name.length + extra.length + size;
    count++;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  for (const c of central) yield c;
  const zip64 = force || count >= 0xffff || cdOffset >= U32 || cdSize >= U32;
  if (zip64) {
    const rec = Buffer.alloc(56 + 20);
    rec.writeUInt32LE(SIG_EOCD64, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    rec.writeUInt32LE(SIG_LOCATOR64, 56);
    rec.writeBigUInt64LE(BigInt(cdOffset + cdSize), 64);
    rec.writeUInt32LE(1, 72);
    yield rec;
  }
  const end = Buffer.alloc(EOCD_SIZE);
  end.writeUInt32LE(SIG_EOCD, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? U32 : cdSize, 12);
  end.writeUInt32LE(zip64 ? U32 : cdOffset, 16);
  yield end;
}
