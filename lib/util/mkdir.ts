/**
 * `mkdir -p` that always ends. Node's `fs.mkdirSync(dir, {recursive: true})` loops forever where the kernel
 * answers ENOENT for a directory it will not create (under /proc, for one): this walks up to the first
 * existing ancestor and creates each missing level once, and any failure is an error naming the path.
 */
import * as fs from 'fs';
import * as path from 'path';

function failure(op: string, dir: string, at: string, e: NodeJS.ErrnoException): Error {
  const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOTDIR' ? 'a part of the path is not a directory' : (e.code ?? e.message);
  return new Error(`${op}: cannot create the directory ${dir}${at !== dir ? ` (at ${at})` : ''}: ${why}`);
}

/** Creates `dir` and any missing parents (synchronously); an existing directory is fine. */
export function makeDirSync(dir: string, op = 'mkdir'): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = path.dirname(d)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw failure(op, target, d, e as NodeJS.ErrnoException);
    }
    if (st) {
      if (!st.isDirectory()) throw failure(op, target, d, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }));
      break;
    }
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw failure(op, target, d, err);
    }
  }
}

/** Creates `dir` and any missing parents; an existing directory is fine. */
export async function makeDir(dir: string, op = 'mkdir'): Promise<void> {
  makeDirSync(dir, op); // a handful of metadata calls: not worth a second, asynchronous copy of the walk
}
