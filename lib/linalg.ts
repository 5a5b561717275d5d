/**
 * `torch.linalg`: norms, decompositions, inverses and solvers over the last two dimensions (any leading
 * dimensions are a batch), with autograd, on every device, as PyTorch's functions of the same names.
 * Results that PyTorch returns as named tuples unpack the same way and also carry the names:
 * `const [U, S, Vh] = linalg.svd(A)` or `linalg.svd(A).S`.
 * `eig` and `eigvals` are absent: their results are complex, and ictorch has no complex dtype
 * (`eigh`/`eigvalsh` cover symmetric matrices).
 */
import { DTYPES, type DType } from './dtype';
import { native, type TensorHandle } from './native';
import { Tensor } from './tensor';
import { checkBool, checkInt, checkOneOf, knownOptions, typeError } from './validate';

const N = native();

/** `[values...]` with PyTorch's field names as well. */
function named<R>(op: string, handles: TensorHandle[], names: readonly string[]): R {
  const ts = handles.map((h) => new Tensor(h));
  if (ts.length !== names.length) throw new Error(`linalg.${op}: expected ${names.length} results, got ${ts.length}`);
  names.forEach((n, i) => Object.defineProperty(ts, n, { value: ts[i], enumerable: false }));
  return ts as R;
}

function tensorIn(op: string, arg: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw typeError(`linalg.${op}`, arg, 'a Tensor', v);
  return v;
}

function call(op: string, ...args: unknown[]): Tensor {
  return new Tensor(N.linalg(op, ...args) as TensorHandle);
}

function tuple<R>(op: string, names: readonly string[], ...args: unknown[]): R {
  return named<R>(op, N.linalg(op, ...args) as TensorHandle[], names);
}

function opts(op: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  return knownOptions(`linalg.${op}`, options ?? {}, known);
}

function bool(op: string, arg: string, v: unknown, dflt: boolean): boolean {
  return v === undefined ? dflt : checkBool(`linalg.${op}`, arg, v);
}

function optNumber(op: string, arg: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError(`linalg.${op}`, arg, 'a number', v);
  return v;
}

function dims(op: string, v: unknown): number[] | null {
  if (v === undefined || v === null) return null;
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list)) throw typeError(`linalg.${op}`, 'dim', 'a dimension or an array of dimensions', v);
  return list.map((d, i) => checkInt(`linalg.${op}`, `dim[${i}]`, d));
}

function order(op: string, arg: string, v: unknown, names: readonly string[]): number | string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' && names.length > 0) return checkOneOf(`linalg.${op}`, arg, v, names);
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError(`linalg.${op}`, arg, `a number (Infinity allowed)${names.length ? ` or one of ${names.map((n) => `'${n}'`).join(', ')}` : ''}`, v);
  return v;
}

function dtypeOpt(op: string, options: unknown): DType | null {
  const o = opts(op, options, ['dtype']);
  return o.dtype === undefined ? null : checkOneOf(`linalg.${op}`, 'dtype', o.dtype, DTYPES);
}

/** Options of the norms: the dtype to compute in and return (PyTorch's `dtype=`). */
export interface NormOptions {
  dtype?: DType;
}

/** Matrix-norm orders by name: Frobenius and nuclear. */
export type MatrixOrder = number | 'fro' | 'nuc';

/**
 * A vector or matrix norm (PyTorch's `linalg.norm`). With `dim` a number, or `dim` and `ord` both absent (the
 * 2-norm of all elements), a vector norm; with `dim` two dimensions, or `ord` given for a 2-d `A`, a matrix norm.
 */
export function norm(A: Tensor, ord: MatrixOrder | null = null, dim: number | number[] | null = null, keepdim = false, options: NormOptions = {}): Tensor {
  const op = 'norm';
  return call(op, tensorIn(op, 'A', A).handle, order(op, 'ord', ord, ['fro', 'nuc']), dims(op, dim), bool(op, 'keepdim', keepdim, false), dtypeOpt(op, options));
}

/** The `ord`-norm of `x`'s elements over `dim` (all of them when absent); `ord` may be 0 (count), ±Infinity. */
export function vectorNorm(x: Tensor, ord = 2, dim: number | number[] | null = null, keepdim = false, options: NormOptions = {}): Tensor {
  const op = 'vectorNorm';
  return call(op, tensorIn(op, 'x', x).handle, order(op, 'ord', ord, []), dims(op, dim), bool(op, 'keepdim', keepdim, false), dtypeOpt(op, options));
}

/** A matrix norm over the two dimensions `dim`: `'fro'` (default), `'nuc'`, ±1, ±2 or ±Infinity. */
export function matrixNorm(A: Tensor, ord: MatrixOrder = 'fro', dim: [number, number] = [-2, -1], keepdim = false, options: NormOptions = {}): Tensor {
  const op = 'matrixNorm';
  const d = dims(op, dim);
  if (d === null || d.length !== 2) throw typeError(`linalg.${op}`, 'dim', 'two dimensions', dim);
  return call(op, tensorIn(op, 'A', A).handle, order(op, 'ord', ord, ['fro', 'nuc']), d, bool(op, 'keepdim', keepdim, false), dtypeOpt(op, options));
}

/** Determinant of each square matrix. */
export function det(A: Tensor): Tensor {
  return call('det', tensorIn('det', 'A', A).handle);
}

/** `slogdet`'s result: the sign of the determinant and the log of its absolute value. */
export type SlogdetResult = [Tensor, Tensor] & { sign: Tensor; logabsdet: Tensor };

/** Sign and log-absolute-value of the determinant (stable where `det` under- or overflows). */
export function slogdet(A: Tensor): SlogdetResult {
  return tuple('slogdet', ['sign', 'logabsdet'], tensorIn('slogdet', 'A', A).handle);
}

/**
 * Condition number in the norm `p` (default: the 2-norm, from singular values); `'fro'`, `'nuc'`, ±1, ±2, ±Infinity.
 * LibTorch 1.13 cannot differentiate it for `'fro'`, ±1 and ±Infinity (its backward fails, as PyTorch 1.13's does).
 */
export function cond(A: Tensor, p: MatrixOrder | null = null): Tensor {
  return call('cond', tensorIn('cond', 'A', A).handle, order('cond', 'p', p, ['fro', 'nuc']));
}

/** Tolerances of `matrixRank` and `pinv`: singular values below max(atol, rtol · σ₁) count as zero. */
export interface ToleranceOptions {
  atol?: number;
  rtol?: number;
  /** `A` is symmetric: eigenvalues instead of singular values (faster). */
  hermitian?: boolean;
}

function tolerance(op: string, options: ToleranceOptions): [number | null, number | null, boolean] {
  const o = opts(op, options, ['atol', 'rtol', 'hermitian']);
  return [optNumber(op, 'atol', o.atol), optNumber(op, 'rtol', o.rtol), bool(op, 'hermitian', o.hermitian, false)];
}

/** Numerical rank of each matrix (int64). */
export function matrixRank(A: Tensor, options: ToleranceOptions = {}): Tensor {
  return call('matrixRank', tensorIn('matrixRank', 'A', A).handle, ...tolerance('matrixRank', options));
}

/** Moore-Penrose pseudo-inverse. */
export function pinv(A: Tensor, options: ToleranceOptions = {}): Tensor {
  return call('pinv', tensorIn('pinv', 'A', A).handle, ...tolerance('pinv', options));
}

/** Options of `cholesky`. */
export interface CholeskyOptions {
  /** Return the upper factor U (A = Uᴴ·U) instead of the lower L (A = L·Lᴴ). */
  upper?: boolean;
}

/** Cholesky factor of each symmetric positive-definite matrix; throws when a matrix is not positive-definite. */
export function cholesky(A: Tensor, options: CholeskyOptions = {}): Tensor {
  const o = opts('cholesky', options, ['upper']);
  return call('cholesky', tensorIn('cholesky', 'A', A).handle, bool('cholesky', 'upper', o.upper, false));
}

/** The `…Ex` functions' `checkErrors`: throw on a failed matrix instead of reporting it in `info`. */
export interface CheckErrorsOptions {
  checkErrors?: boolean;
}

/** `choleskyEx`'s result: the factor and, per matrix, 0 or the order of the leading minor that is not positive-definite. */
export type CholeskyExResult = [Tensor, Tensor] & { L: Tensor; info: Tensor };

/** `cholesky` that reports failures in `info` (int32, per matrix) instead of throwing, for batches of mixed matrices. */
export function choleskyEx(A: Tensor, options: CholeskyOptions & CheckErrorsOptions = {}): CholeskyExResult {
  const op = 'choleskyEx';
  const o = opts(op, options, ['upper', 'checkErrors']);
  return tuple(op, ['L', 'info'], tensorIn(op, 'A', A).handle, bool(op, 'upper', o.upper, false), bool(op, 'checkErrors', o.checkErrors, false));
}

/** Inverse of each square matrix; throws when one is singular. */
export function inv(A: Tensor): Tensor {
  return call('inv', tensorIn('inv', 'A', A).handle);
}

/** `invEx`'s result: the inverse and, per matrix, 0 or the index of the zero pivot. */
export type InvExResult = [Tensor, Tensor] & { inverse: Tensor; info: Tensor };

/** `inv` that reports singular matrices in `info` (int32) instead of throwing. */
export function invEx(A: Tensor, options: CheckErrorsOptions = {}): InvExResult {
  const o = opts('invEx', options, ['checkErrors']);
  return tuple('invEx', ['inverse', 'info'], tensorIn('invEx', 'A', A).handle, bool('invEx', 'checkErrors', o.checkErrors, false));
}

/** Options of `solve`. */
export interface SolveOptions {
  /** Solve A·X = B (default) or, false, X·A = B. */
  left?: boolean;
}

/** The solution X of A·X = B (or X·A = B) for square invertible A; `B` may be a vector or a batch. */
export function solve(A: Tensor, B: Tensor, options: SolveOptions = {}): Tensor {
  const o = opts('solve', options, ['left']);
  return call('solve', tensorIn('solve', 'A', A).handle, tensorIn('solve', 'B', B).handle, bool('solve', 'left', o.left, true));
}

/** `solveEx`'s result: the solution and, per matrix, 0 or the index of the zero pivot. */
export type SolveExResult = [Tensor, Tensor] & { result: Tensor; info: Tensor };

/** `solve` that reports singular matrices in `info` (int32) instead of throwing. */
export function solveEx(A: Tensor, B: Tensor, options: SolveOptions & CheckErrorsOptions = {}): SolveExResult {
  const op = 'solveEx';
  const o = opts(op, options, ['left', 'checkErrors']);
  return tuple(op, ['result', 'info'], tensorIn(op, 'A', A).handle, tensorIn(op, 'B', B).handle, bool(op, 'left', o.left, true), bool(op, 'checkErrors', o.checkErrors, false));
}

/** Options of `solveTriangular`: `upper` is required, as in PyTorch. */
export interface SolveTriangularOptions {
  /** A is upper (true) or lower (false) triangular; the other triangle is not read. */
  upper: boolean;
  /** Solve A·X = B (default) or X·A = B. */
  left?: boolean;
  /** Take A's diagonal as ones. */
  unitriangular?: boolean;
}

/** The solution of a triangular system, by substitution. */
export function solveTriangular(A: Tensor, B: Tensor, options: SolveTriangularOptions): Tensor {
  const op = 'solveTriangular';
  const o = opts(op, options, ['upper', 'left', 'unitriangular']);
  if (o.upper === undefined) throw typeError(`linalg.${op}`, 'upper', 'a boolean (whether A is upper triangular; required)', undefined);
  return call(op, tensorIn(op, 'A', A).handle, tensorIn(op, 'B', B).handle, checkBool(`linalg.${op}`, 'upper', o.upper), bool(op, 'left', o.left, true), bool(op, 'unitriangular', o.unitriangular, false));
}

/** Options of `lstsq`. */
export interface LstsqOptions {
  /** LAPACK driver (CPU: `'gelsy'` default, `'gels'`, `'gelsd'`, `'gelss'`; CUDA: `'gels'` only). */
  driver?: 'gels' | 'gelsy' | 'gelsd' | 'gelss';
}

/** `lstsq`'s result, as PyTorch's: some fields are empty depending on the driver. */
export type LstsqResult = [Tensor, Tensor, Tensor, Tensor] & { solution: Tensor; residuals: Tensor; rank: Tensor; singularValues: Tensor };

/** The least-squares solution X of min ‖A·X − B‖ (PyTorch's `linalg.lstsq`); `rcond` cuts small singular values. */
export function lstsq(A: Tensor, B: Tensor, rcond: number | null = null, options: LstsqOptions = {}): LstsqResult {
  const op = 'lstsq';
  const o = opts(op, options, ['driver']);
  const driver = o.driver === undefined ? null : checkOneOf(`linalg.${op}`, 'driver', o.driver, ['gels', 'gelsy', 'gelsd', 'gelss'] as const);
  return tuple(op, ['solution', 'residuals', 'rank', 'singularValues'], tensorIn(op, 'A', A).handle, tensorIn(op, 'B', B).handle, optNumber(op, 'rcond', rcond), driver);
}

/** Options of `lu` and `luFactor`. */
export interface LuOptions {
  /** Partial pivoting (default); false is supported on CUDA only, as in PyTorch. */
  pivot?: boolean;
}

/** `lu`'s result: A = P·L·U. */
export type LuResult = [Tensor, Tensor, Tensor] & { P: Tensor; L: Tensor; U: Tensor };

/** LU decomposition with partial pivoting: A = P·L·U. */
export function lu(A: Tensor, options: LuOptions = {}): LuResult {
  const o = opts('lu', options, ['pivot']);
  return tuple('lu', ['P', 'L', 'U'], tensorIn('lu', 'A', A).handle, bool('lu', 'pivot', o.pivot, true));
}

/** `luFactor`'s result: L and U packed in one matrix, and LAPACK's 1-based row pivots (int32). */
export type LuFactorResult = [Tensor, Tensor] & { LU: Tensor; pivots: Tensor };

/** The compact LU factorisation that `luSolve` reuses for many right-hand sides. */
export function luFactor(A: Tensor, options: LuOptions = {}): LuFactorResult {
  const o = opts('luFactor', options, ['pivot']);
  return tuple('luFactor', ['LU', 'pivots'], tensorIn('luFactor', 'A', A).handle, bool('luFactor', 'pivot', o.pivot, true));
}

/** Options of `luSolve`. */
export interface LuSolveOptions {
  /** Solve A·X = B (default) or X·A = B. */
  left?: boolean;
  /** Solve with Aᴴ instead of A. */
  adjoint?: boolean;
}

/** Solves A·X = B from `luFactor(A)`. The pivots are range-checked first (LAPACK would index rows with them). */
export function luSolve(LU: Tensor, pivots: Tensor, B: Tensor, options: LuSolveOptions = {}): Tensor {
  const op = 'luSolve';
  const o = opts(op, options, ['left', 'adjoint']);
  return call(op, tensorIn(op, 'LU', LU).handle, tensorIn(op, 'pivots', pivots).handle, tensorIn(op, 'B', B).handle, bool(op, 'left', o.left, true), bool(op, 'adjoint', o.adjoint, false));
}

/** `qr`'s result: A = Q·R. */
export type QrResult = [Tensor, Tensor] & { Q: Tensor; R: Tensor };

/** QR decomposition; `mode` `'reduced'` (default), `'complete'` (square Q) or `'r'` (R only, Q empty). */
export function qr(A: Tensor, mode: 'reduced' | 'complete' | 'r' = 'reduced'): QrResult {
  return tuple('qr', ['Q', 'R'], tensorIn('qr', 'A', A).handle, checkOneOf('linalg.qr', 'mode', mode, ['reduced', 'complete', 'r'] as const));
}

/** `svd`'s result: A = U·diag(S)·Vh, singular values descending. */
export type SvdResult = [Tensor, Tensor, Tensor] & { U: Tensor; S: Tensor; Vh: Tensor };

/** Singular value decomposition; `fullMatrices` false gives the reduced U and Vh. */
export function svd(A: Tensor, fullMatrices = true): SvdResult {
  return tuple('svd', ['U', 'S', 'Vh'], tensorIn('svd', 'A', A).handle, checkBool('linalg.svd', 'fullMatrices', fullMatrices));
}

/** Singular values, descending (differentiable, unlike the vectors where values repeat). */
export function svdvals(A: Tensor): Tensor {
  return call('svdvals', tensorIn('svdvals', 'A', A).handle);
}

/** `eigh`'s result: eigenvalues ascending and the eigenvectors as columns. */
export type EighResult = [Tensor, Tensor] & { eigenvalues: Tensor; eigenvectors: Tensor };

/** Eigen-decomposition of symmetric matrices, reading the lower (`'L'`, default) or upper (`'U'`) triangle. */
export function eigh(A: Tensor, UPLO: 'L' | 'U' = 'L'): EighResult {
  return tuple('eigh', ['eigenvalues', 'eigenvectors'], tensorIn('eigh', 'A', A).handle, checkOneOf('linalg.eigh', 'UPLO', UPLO, ['L', 'U'] as const));
}

/** Eigenvalues of symmetric matrices, ascending. */
export function eigvalsh(A: Tensor, UPLO: 'L' | 'U' = 'L'): Tensor {
  return call('eigvalsh', tensorIn('eigvalsh', 'A', A).handle, checkOneOf('linalg.eigvalsh', 'UPLO', UPLO, ['L', 'U'] as const));
}

/** A square matrix to the integer power `n` (negative: of its inverse). */
export function matrixPower(A: Tensor, n: number): Tensor {
  return call('matrixPower', tensorIn('matrixPower', 'A', A).handle, checkInt('linalg.matrixPower', 'n', n));
}

/** Matrix exponential. */
export function matrixExp(A: Tensor): Tensor {
  return call('matrixExp', tensorIn('matrixExp', 'A', A).handle);
}

/** Options of `cross` and `vecdot`: the dimension holding the vectors (default -1). */
export interface VectorDimOptions {
  dim?: number;
}

/** Cross product of 3-vectors along `dim`, broadcasting the rest. */
export function cross(x: Tensor, y: Tensor, options: VectorDimOptions = {}): Tensor {
  const o = opts('cross', options, ['dim']);
  return call('cross', tensorIn('cross', 'x', x).handle, tensorIn('cross', 'y', y).handle, o.dim === undefined ? -1 : checkInt('linalg.cross', 'dim', o.dim));
}

/** Dot product of vectors along `dim`, broadcasting the rest. */
export function vecdot(x: Tensor, y: Tensor, options: VectorDimOptions = {}): Tensor {
  const o = opts('vecdot', options, ['dim']);
  return call('vecdot', tensorIn('vecdot', 'x', x).handle, tensorIn('vecdot', 'y', y).handle, o.dim === undefined ? -1 : checkInt('linalg.vecdot', 'dim', o.dim));
}

/** The product of two or more matrices in the cheapest order (the first and last may be vectors). */
export function multiDot(tensors: Tensor[]): Tensor {
  if (!Array.isArray(tensors)) throw typeError('linalg.multiDot', 'tensors', 'an array of Tensors', tensors);
  return call('multiDot', tensors.map((t, i) => tensorIn('multiDot', `tensors[${i}]`, t).handle));
}

/** Matrix product (`Tensor.matmul`). */
export function matmul(A: Tensor, B: Tensor): Tensor {
  return call('matmul', tensorIn('matmul', 'A', A).handle, tensorIn('matmul', 'B', B).handle);
}

/** Options of `diagonal`. */
export interface DiagonalOptions {
  offset?: number;
  dim1?: number;
  dim2?: number;
}

/** A view of each matrix's diagonal (`offset` above it when positive), over the last two dimensions by default. */
export function diagonal(A: Tensor, options: DiagonalOptions = {}): Tensor {
  const op = 'diagonal';
  const o = opts(op, options, ['offset', 'dim1', 'dim2']);
  const int = (k: string, d: number) => (o[k] === undefined ? d : checkInt(`linalg.${op}`, k, o[k]));
  return call(op, tensorIn(op, 'A', A).handle, int('offset', 0), int('dim1', -2), int('dim2', -1));
}

/** Options of `vander`. */
export interface VanderOptions {
  /** Number of columns (default: x's length). */
  N?: number;
}

/** The Vandermonde matrix of `x`: columns x⁰, x¹, …, x^(N−1). */
export function vander(x: Tensor, options: VanderOptions = {}): Tensor {
  const o = opts('vander', options, ['N']);
  return call('vander', tensorIn('vander', 'x', x).handle, o.N === undefined ? null : checkInt('linalg.vander', 'N', o.N, 1));
}
