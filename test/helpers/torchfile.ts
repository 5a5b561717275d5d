// Helpers for the PyTorch-file tests: a tiny pickle assembler for crafted files, a torch.save-shaped zip
// around it; Python (/usr/bin/python3 with torch) runs through test/helpers/torchpy.ts.
import { zipStream } from '../../lib/io/zip';
import { Tensor } from '../../lib/tensor';

// Python runs through the one helper of the PyTorch comparison tests.
export { hasTorch, hasTorchvision, PYTHON, py as pyAsync } from './torchpy';

/** Every tensor in a loaded value. */
export function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => tensorsIn(x, out));
  else if (v instanceof Map) v.forEach((x) => tensorsIn(x, out));
  else if (v !== null && typeof v === 'object') Object.values(v).forEach((x) => tensorsIn(x, out));
  return out;
}

type Part = number | number[] | Uint8Array | string;

/** Bytes from opcodes (numbers), byte arrays and raw latin1 strings. */
export function bytes(...parts: Part[]): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p as number[]))),
  );
}

/** Pickle opcodes. */
export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, DUP: 0x32, BINFLOAT: 0x47, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, NONE: 0x4e,
  BINPERSID: 0x51, REDUCE: 0x52, BINUNICODE: 0x58, EMPTY_LIST: 0x5d, APPEND: 0x61, BUILD: 0x62, GLOBAL: 0x63, APPENDS: 0x65,
  BINGET: 0x68, LONG_BINGET: 0x6a, BINPUT: 0x71, LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74, SETITEMS: 0x75, EMPTY_DICT: 0x7d,
  EMPTY_TUPLE: 0x29, PROTO: 0x80, NEWOBJ: 0x81, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, NEWTRUE: 0x88, NEWFALSE: 0x89,
  LONG1: 0x8a, LONG4: 0x8b, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, FRAME: 0x95, MEMOIZE: 0x94,
} as const;

/** A pickle: PROTO 2, the body, STOP. */
export function pkl(...body: Part[]): Buffer {
  return bytes(OP.PROTO, 2, ...body, OP.STOP);
}

/** BINUNICODE. */
export function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return bytes(OP.BINUNICODE, len, b);
}

/** BININT (signed 32-bit) or LONG1. */
export function int(n: number | bigint): Buffer {
  const v = BigInt(n);
  if (v >= -(2n ** 31n) && v < 2n ** 31n) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(Number(v));
    return bytes(OP.BININT, b);
  }
  const out: number[] = [];
  let x = v;
  do {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  } while (!((x === 0n && !(out[out.length - 1] & 0x80)) || (x === -1n && out[out.length - 1] & 0x80)));
  return bytes(OP.LONG1, out.length, out);
}

/** GLOBAL module\nname\n. */
export function global(module: string, name: string): Buffer {
  return bytes(OP.GLOBAL, `${module}\n${name}\n`);
}

/** MARK items TUPLE. */
export function tup(...items: Part[]): Buffer {
  return bytes(OP.MARK, ...items, OP.TUPLE);
}

/** EMPTY_DICT MARK k v ... SETITEMS. */
export function dict(...kv: Part[]): Buffer {
  return kv.length ? bytes(OP.EMPTY_DICT, OP.MARK, ...kv, OP.SETITEMS) : bytes(OP.EMPTY_DICT);
}

/** A tensor call: _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
export function tensorCall(o: { type?: string; key?: string; numel: number | bigint; offset?: number | bigint; size: (number | bigint)[]; stride: (number | bigint)[] }): Buffer {
  return bytes(
    global('torch._utils', '_rebuild_tensor_v2'),
    OP.MARK,
    tup(str('storage'), global('torch', o.type ?? 'FloatStorage'), str(o.key ?? '0'), str('cpu'), int(o.numel)),
    OP.BINPERSID,
    int(o.offset ?? 0),
    tup(...o.size.map(int)),
    tup(...o.stride.map(int)),
    OP.NEWFALSE,
    global('collections', 'OrderedDict'),
    OP.EMPTY_TUPLE,
    OP.REDUCE,
    OP.TUPLE,
    OP.REDUCE,
  );
}

/** A torch.save-shaped zip around a pickle and storages: archive/data.pkl, archive/data/<key>, archive/version. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: { name: string; data: Uint8Array }[] = []): Buffer {
  const entries = [
    { name: 'archive/data.pkl', data: pickle },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
    ...extra,
  ];
  return Buffer.concat([...zipStream(entries)]);
}

/** Float32 bytes of `values`. */
export function f32(...values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
