// torch.linalg (lib/linalg.ts, native/linalg.cc). Against python3-torch in float64: outputs and input gradients
// of every function with its options, batched where PyTorch batches (outputs whose sign LAPACK may choose, the
// singular and eigen vectors, are compared through sign-free expressions: projections and squares). Without
// Python: named results unpack and carry PyTorch's field names; the `…Ex` functions report failed matrices per
// batch entry; LU pivots are range-checked before LAPACK indexes rows with them; bad arguments get clear errors;
// no tensor is left behind.
import { describe, expect, it } from 'vitest';
import { Tensor, eye, linalg, memory, randn, tensor, tidy, zeros } from '../lib';
import { expectErrors, type ErrorCase } from './helpers/errors';
import { describeFunctionsAgainstTorch, type FCase } from './helpers/fcases';
import { floats, inp } from './helpers/specs';
import type { PyTensor } from './helpers/torchpy';

/** Square matrices kept away from singular: lcg values plus 3·I (a batch when `batch` is given). */
function wellConditioned(n: number, seed: number, batch: number[] = []): PyTensor {
  const s = inp([...batch, n, n], seed);
  const data = s.data.map((v, i) => (Math.floor(i / n) % n === i % n ? v + 3 : v));
  return { ...s, data };
}
const noGrad = (s: PyTensor): PyTensor => ({ ...s, grad: false });

// Symmetric and symmetric positive-definite matrices built from X in both languages, so gradients reach X.
const sym = (X: Tensor) => X.add(X.transpose(-2, -1)).div(2);
const SYM = '((X + X.transpose(-2, -1)) / 2)';
const spd = (X: Tensor) => X.matmul(X.transpose(-2, -1)).add(eye(X.shape[X.ndim - 1], X.shape[X.ndim - 1], { dtype: 'float64' }).mul(0.5));
const SPD = '(X @ X.transpose(-2, -1) + 0.5 * torch.eye(X.shape[-1], dtype=torch.float64))';

const A33 = wellConditioned(3, 1);
const A233 = wellConditioned(3, 2, [2]);
const R34 = inp([3, 4], 3);
const R43 = inp([4, 3], 4);
const B32 = inp([3, 2], 5);
const B23 = inp([2, 3], 6);
const X33 = inp([3, 3], 7);
const X233 = inp([2, 3, 3], 8);
const V3 = floats([2, 3], 9);
const W3 = floats([2, 3], 10);

const TOL = 1e-8;
const cases: FCase[] = [
  // determinants, inverses, norms
  { name: 'det', inputs: { A: A33 }, py: 'torch.linalg.det(A)', ts: (t) => linalg.det(t.A), tol: TOL },
  { name: 'det, batched', inputs: { A: A233 }, py: 'torch.linalg.det(A)', ts: (t) => linalg.det(t.A), tol: TOL },
  { name: 'slogdet: sign', inputs: { A: noGrad(A233) }, py: 'torch.linalg.slogdet(A)[0]', ts: (t) => linalg.slogdet(t.A).sign, tol: TOL },
  { name: 'slogdet: logabsdet', inputs: { A: A233 }, py: 'torch.linalg.slogdet(A).logabsdet', ts: (t) => linalg.slogdet(t.A)[1], tol: TOL },
  { name: 'inv, batched', inputs: { A: A233 }, py: 'torch.linalg.inv(A)', ts: (t) => linalg.inv(t.A), tol: TOL },
  { name: 'invEx: inverse', inputs: { A: A33 }, py: 'torch.linalg.inv_ex(A).inverse', ts: (t) => linalg.invEx(t.A).inverse, tol: TOL },
  { name: 'pinv of a wide matrix', inputs: { A: R34 }, py: 'torch.linalg.pinv(A)', ts: (t) => linalg.pinv(t.A), tol: TOL },
  { name: 'pinv, hermitian', inputs: { X: X33 }, py: `torch.linalg.pinv(${SYM}, hermitian=True)`, ts: (t) => linalg.pinv(sym(t.X), { hermitian: true }), tol: TOL },
  { name: 'pinv, rtol', inputs: { A: R43 }, py: 'torch.linalg.pinv(A, rtol=0.3)', ts: (t) => linalg.pinv(t.A, { rtol: 0.3 }), tol: TOL },
  { name: 'matrixPower 3', inputs: { A: A33 }, py: 'torch.linalg.matrix_power(A, 3)', ts: (t) => linalg.matrixPower(t.A, 3), tol: TOL },
  { name: 'matrixPower -2', inputs: { A: A233 }, py: 'torch.linalg.matrix_power(A, -2)', ts: (t) => linalg.matrixPower(t.A, -2), tol: TOL },
  { name: 'matrixExp', inputs: { A: X233 }, py: 'torch.linalg.matrix_exp(A)', ts: (t) => linalg.matrixExp(t.A), tol: TOL },
  { name: 'norm: Frobenius of all elements', inputs: { A: R34 }, py: 'torch.linalg.norm(A)', ts: (t) => linalg.norm(t.A), tol: TOL },
  { name: 'norm: nuclear', inputs: { A: R34 }, py: "torch.linalg.norm(A, 'nuc')", ts: (t) => linalg.norm(t.A, 'nuc'), tol: TOL },
  { name: 'norm: inf of a matrix', inputs: { A: R34 }, py: "torch.linalg.norm(A, float('inf'))", ts: (t) => linalg.norm(t.A, Infinity), tol: TOL },
  { name: 'norm: 3-norm along dim 1, keepdim', inputs: { A: R34 }, py: 'torch.linalg.norm(A, 3, 1, True)', ts: (t) => linalg.norm(t.A, 3, 1, true), tol: TOL },
  { name: 'vectorNorm: 2 of all', inputs: { A: A233 }, py: 'torch.linalg.vector_norm(A)', ts: (t) => linalg.vectorNorm(t.A), tol: TOL },
  { name: 'vectorNorm: 0.5 over dims [0, 2]', inputs: { A: A233 }, py: 'torch.linalg.vector_norm(A, 0.5, [0, 2])', ts: (t) => linalg.vectorNorm(t.A, 0.5, [0, 2]), tol: TOL },
  { name: 'vectorNorm: -inf over dim 1', inputs: { A: R34 }, py: "torch.linalg.vector_norm(A, float('-inf'), 1)", ts: (t) => linalg.vectorNorm(t.A, -Infinity, 1), tol: TOL },
  { name: 'matrixNorm: fro (default)', inputs: { A: A233 }, py: 'torch.linalg.matrix_norm(A)', ts: (t) => linalg.matrixNorm(t.A), tol: TOL },
  { name: 'matrixNorm: 2', inputs: { A: A233 }, py: 'torch.linalg.matrix_norm(A, 2)', ts: (t) => linalg.matrixNorm(t.A, 2), tol: TOL },
  { name: 'matrixNorm: -1 over dims (0, 2), keepdim', inputs: { A: A233 }, py: 'torch.linalg.matrix_norm(A, -1, (0, 2), True)', ts: (t) => linalg.matrixNorm(t.A, -1, [0, 2], true), tol: TOL },
  { name: 'cond (2-norm)', inputs: { A: A233 }, py: 'torch.linalg.cond(A)', ts: (t) => linalg.cond(t.A), tol: TOL },
  { name: "cond 'fro' (LibTorch 1.13 cannot differentiate it)", inputs: { A: noGrad(A33) }, py: "torch.linalg.cond(A, 'fro')", ts: (t) => linalg.cond(t.A, 'fro'), tol: TOL },
  { name: 'cond 1 (no gradient either)', inputs: { A: noGrad(A33) }, py: 'torch.linalg.cond(A, 1)', ts: (t) => linalg.cond(t.A, 1), tol: TOL },
  // solvers
  { name: 'solve A X = B', inputs: { A: A33, B: B32 }, py: 'torch.linalg.solve(A, B)', ts: (t) => linalg.solve(t.A, t.B), tol: TOL },
  { name: 'solve X A = B (left false)', inputs: { A: A33, B: B23 }, py: 'torch.linalg.solve(A, B, left=False)', ts: (t) => linalg.solve(t.A, t.B, { left: false }), tol: TOL },
  { name: 'solve, batched A, broadcast B', inputs: { A: A233, B: B32 }, py: 'torch.linalg.solve(A, B)', ts: (t) => linalg.solve(t.A, t.B), tol: TOL },
  { name: 'solveEx: result', inputs: { A: A33, B: B32 }, py: 'torch.linalg.solve_ex(A, B).result', ts: (t) => linalg.solveEx(t.A, t.B).result, tol: TOL },
  { name: 'solveTriangular upper', inputs: { A: A33, B: B32 }, py: 'torch.linalg.solve_triangular(A, B, upper=True)', ts: (t) => linalg.solveTriangular(t.A, t.B, { upper: true }), tol: TOL },
  { name: 'solveTriangular lower, right, unitriangular', inputs: { A: A33, B: B23 }, py: 'torch.linalg.solve_triangular(A, B, upper=False, left=False, unitriangular=True)', ts: (t) => linalg.solveTriangular(t.A, t.B, { upper: false, left: false, unitriangular: true }), tol: TOL },
  { name: 'lstsq: solution (gelsy)', inputs: { A: R43, B: inp([4, 2], 11) }, py: 'torch.linalg.lstsq(A, B).solution', ts: (t) => linalg.lstsq(t.A, t.B).solution, tol: TOL },
  { name: 'lstsq: solution (gelsd), singular values', inputs: { A: noGrad(R43), B: noGrad(inp([4, 2], 11)) }, py: "torch.linalg.lstsq(A, B, driver='gelsd').singular_values", ts: (t) => linalg.lstsq(t.A, t.B, null, { driver: 'gelsd' }).singularValues, tol: TOL },
  { name: 'lstsq: rcond cuts small singular values (gelss)', inputs: { A: noGrad(R43), B: noGrad(inp([4, 2], 11)) }, py: "torch.linalg.lstsq(A, B, 0.5, driver='gelss').solution", ts: (t) => linalg.lstsq(t.A, t.B, 0.5, { driver: 'gelss' }).solution, tol: TOL },
  // decompositions
  { name: 'cholesky', inputs: { X: X233 }, py: `torch.linalg.cholesky(${SPD})`, ts: (t) => linalg.cholesky(spd(t.X)), tol: TOL },
  { name: 'cholesky upper', inputs: { X: X33 }, py: `torch.linalg.cholesky(${SPD}, upper=True)`, ts: (t) => linalg.cholesky(spd(t.X), { upper: true }), tol: TOL },
  { name: 'choleskyEx: L', inputs: { X: X33 }, py: `torch.linalg.cholesky_ex(${SPD}).L`, ts: (t) => linalg.choleskyEx(spd(t.X)).L, tol: TOL },
  { name: 'qr: Q (reduced, tall)', inputs: { A: R43 }, py: 'torch.linalg.qr(A).Q', ts: (t) => linalg.qr(t.A).Q, tol: TOL },
  { name: 'qr: R (reduced, tall)', inputs: { A: R43 }, py: 'torch.linalg.qr(A)[1]', ts: (t) => linalg.qr(t.A)[1], tol: TOL },
  { name: "qr: R (mode 'r')", inputs: { A: noGrad(R43) }, py: "torch.linalg.qr(A, 'r').R", ts: (t) => linalg.qr(t.A, 'r').R, tol: TOL },
  { name: "qr: Q (mode 'complete')", inputs: { A: noGrad(R43) }, py: "torch.linalg.qr(A, 'complete').Q", ts: (t) => linalg.qr(t.A, 'complete').Q, tol: TOL },
  { name: 'svd: S', inputs: { A: R43 }, py: 'torch.linalg.svd(A).S', ts: (t) => linalg.svd(t.A).S, tol: TOL },
  { name: 'svd: U Uᵀ (reduced)', inputs: { A: R43 }, py: 'torch.linalg.svd(A, full_matrices=False).U @ torch.linalg.svd(A, full_matrices=False).U.mT', ts: (t) => { const { U } = linalg.svd(t.A, false); return U.matmul(U.transpose(-2, -1)); }, tol: TOL },
  { name: 'svd: U S Vh reconstructs', inputs: { A: A233 }, py: '(lambda r: r.U @ torch.diag_embed(r.S) @ r.Vh)(torch.linalg.svd(A))', ts: (t) => { const [U, S, Vh] = linalg.svd(t.A); return U.mul(S.unsqueeze(-2)).matmul(Vh); }, tol: TOL },
  { name: 'svd: Vh² (full, wide)', inputs: { A: noGrad(R34) }, py: 'torch.linalg.svd(A).Vh[..., :3, :] ** 2', ts: (t) => linalg.svd(t.A).Vh.narrow(-2, 0, 3).square(), tol: TOL },
  { name: 'svdvals', inputs: { A: A233 }, py: 'torch.linalg.svdvals(A)', ts: (t) => linalg.svdvals(t.A), tol: TOL },
  { name: 'eigh: eigenvalues', inputs: { X: X233 }, py: `torch.linalg.eigh(${SYM}).eigenvalues`, ts: (t) => linalg.eigh(sym(t.X)).eigenvalues, tol: TOL },
  { name: 'eigh: eigenvectors² (upper triangle)', inputs: { X: X33 }, py: `torch.linalg.eigh(${SYM}, 'U')[1] ** 2`, ts: (t) => linalg.eigh(sym(t.X), 'U')[1].square(), tol: TOL },
  { name: 'eigvalsh of the upper triangle of a non-symmetric matrix', inputs: { A: A33 }, py: "torch.linalg.eigvalsh(A, UPLO='U')", ts: (t) => linalg.eigvalsh(t.A, 'U'), tol: TOL },
  { name: 'lu: L', inputs: { A: R43 }, py: 'torch.linalg.lu(A).L', ts: (t) => linalg.lu(t.A).L, tol: TOL },
  { name: 'lu: U', inputs: { A: A233 }, py: 'torch.linalg.lu(A)[2]', ts: (t) => linalg.lu(t.A)[2], tol: TOL },
  { name: 'lu: P', inputs: { A: noGrad(A233) }, py: 'torch.linalg.lu(A).P', ts: (t) => linalg.lu(t.A).P, tol: 0 },
  { name: 'luFactor: LU', inputs: { A: A233 }, py: 'torch.linalg.lu_factor(A).LU', ts: (t) => linalg.luFactor(t.A).LU, tol: TOL },
  { name: 'luFactor: pivots', inputs: { A: noGrad(A233) }, py: 'torch.linalg.lu_factor(A).pivots', ts: (t) => linalg.luFactor(t.A).pivots, tol: 0 },
  { name: 'luSolve', inputs: { A: A233, B: B32 }, py: 'torch.linalg.lu_solve(*torch.linalg.lu_factor(A), B.expand(2, 3, 2))', ts: (t) => { const [LU, piv] = linalg.luFactor(t.A); return linalg.luSolve(LU, piv, t.B.expand([2, 3, 2])); }, tol: TOL },
  { name: 'luSolve adjoint, right', inputs: { A: A33, B: B23 }, py: 'torch.linalg.lu_solve(*torch.linalg.lu_factor(A), B, left=False, adjoint=True)', ts: (t) => { const [LU, piv] = linalg.luFactor(t.A); return linalg.luSolve(LU, piv, t.B, { left: false, adjoint: true }); }, tol: TOL },
  { name: 'matrixRank of a rank-2 product', inputs: { A: noGrad(inp([4, 2], 12)), B: noGrad(inp([2, 5], 13)) }, py: 'torch.linalg.matrix_rank(A @ B)', ts: (t) => linalg.matrixRank(t.A.matmul(t.B)), tol: 0 },
  { name: 'matrixRank with atol', inputs: { A: noGrad(A233) }, py: 'torch.linalg.matrix_rank(A, atol=2.5)', ts: (t) => linalg.matrixRank(t.A, { atol: 2.5 }), tol: 0 },
  // products
  { name: 'cross', inputs: { x: V3, y: W3 }, py: 'torch.linalg.cross(x, y)', ts: (t) => linalg.cross(t.x, t.y), tol: TOL },
  { name: 'cross along dim 0', inputs: { x: floats([3, 2], 14), y: floats([3, 1], 15) }, py: 'torch.linalg.cross(x, y.expand(3, 2), dim=0)', ts: (t) => linalg.cross(t.x, t.y.expand([3, 2]), { dim: 0 }), tol: TOL },
  { name: 'vecdot', inputs: { x: V3, y: W3 }, py: 'torch.linalg.vecdot(x, y)', ts: (t) => linalg.vecdot(t.x, t.y), tol: TOL },
  { name: 'multiDot', inputs: { a: R34, b: inp([4, 2], 16), c: B23 }, py: 'torch.linalg.multi_dot([a, b, c])', ts: (t) => linalg.multiDot([t.a, t.b, t.c]), tol: TOL },
  { name: 'multiDot with vectors at the ends', inputs: { a: floats([3], 17), b: R34, c: floats([4], 18) }, py: 'torch.linalg.multi_dot([a, b, c])', ts: (t) => linalg.multiDot([t.a, t.b, t.c]), tol: TOL },
  { name: 'matmul', inputs: { A: A233, B: B32 }, py: 'torch.linalg.matmul(A, B)', ts: (t) => linalg.matmul(t.A, t.B), tol: TOL },
  { name: 'diagonal, offset 1', inputs: { A: A233 }, py: 'torch.linalg.diagonal(A, offset=1)', ts: (t) => linalg.diagonal(t.A, { offset: 1 }), tol: 0 },
  { name: 'vander, N = 4', inputs: { x: floats([3], 19) }, py: 'torch.linalg.vander(x, N=4)', ts: (t) => linalg.vander(t.x, { N: 4 }), tol: TOL },
];

describeFunctionsAgainstTorch(cases);

describe('linalg without Python', () => {
  it('named results unpack as arrays and carry the names; the names are not enumerable', () => {
    tidy(() => {
      const A = randn([4, 3], { dtype: 'float64' });
      const r = linalg.svd(A, false);
      expect(Array.isArray(r)).toBe(true);
      expect(r).toHaveLength(3);
      const [U, S, Vh] = r;
      expect(r.U).toBe(U);
      expect(r.S).toBe(S);
      expect(r.Vh).toBe(Vh);
      expect(Object.keys(r)).toEqual(['0', '1', '2']);
      expect([U.shape, S.shape, Vh.shape]).toEqual([[4, 3], [3], [3, 3]]);
      const back = U.mul(S.unsqueeze(0)).matmul(Vh);
      expect(back.sub(A).abs().max().item()).toBeLessThan(1e-12);
      const { Q, R } = linalg.qr(A);
      expect(Q.matmul(R).sub(A).abs().max().item()).toBeLessThan(1e-12);
      const { P, L, U: U2 } = linalg.lu(A);
      expect(P.matmul(L).matmul(U2).sub(A).abs().max().item()).toBeLessThan(1e-12);
    });
  });

  it('the …Ex functions report a failed matrix in info, per batch entry, and throw only with checkErrors', () => {
    tidy(() => {
      const good = tensor([[2, 1], [1, 2]], { dtype: 'float64' });
      const singular = tensor([[1, 2], [2, 4]], { dtype: 'float64' });
      const batch = good.unsqueeze(0).expand([3, 2, 2]).clone();
      batch.indexCopy_(0, tensor([1n]), singular.unsqueeze(0));
      const inv = linalg.invEx(batch);
      expect(inv.info.dtype).toBe('int32');
      expect(Array.from(inv.info.toArray() as Int32Array).map((v) => v !== 0)).toEqual([false, true, false]);
      const sol = linalg.solveEx(batch, eye(2, 2, { dtype: 'float64' }));
      expect(Array.from(sol.info.toArray() as Int32Array).map((v) => v !== 0)).toEqual([false, true, false]);
      // not positive-definite: the order of the first failing leading minor
      const ch = linalg.choleskyEx(tensor([[[4, 0], [0, 1]], [[1, 0], [0, -1]]], { dtype: 'float64' }));
      expect(Array.from(ch.info.toArray() as Int32Array)).toEqual([0, 2]);
      expect(() => linalg.invEx(batch, { checkErrors: true })).toThrow(/singular/);
      expect(() => linalg.choleskyEx(singular.neg(), { checkErrors: true })).toThrow(/positive-definite/);
      // the plain functions throw with the reason, naming the function once
      expect(() => linalg.inv(singular)).toThrow(/^linalg\.inv: .*singular/);
      expect(() => linalg.cholesky(singular.neg())).toThrow(/^linalg\.cholesky: (?!linalg).*positive-definite/);
    });
  });

  it('luSolve refuses pivots LAPACK would index rows with outside the matrix, and the process keeps working', () => {
    tidy(() => {
      const A = tensor([[[4, 1, 0], [1, 3, 1], [0, 1, 2]]], { dtype: 'float64' });
      const B = randn([1, 3, 2], { dtype: 'float64' });
      const [LU, piv] = linalg.luFactor(A);
      const cases: ErrorCase[] = [
        [() => linalg.luSolve(LU, tensor([[1, 2, 4]], { dtype: 'int32' }), B), RangeError, /linalg\.luSolve: pivots must hold row numbers in \[1, 3\], found 4/],
        [() => linalg.luSolve(LU, tensor([[0, 2, 3]], { dtype: 'int32' }), B), RangeError, /found 0/],
        [() => linalg.luSolve(LU, tensor([[1, 2, 2147483647]], { dtype: 'int32' }), B), RangeError, /found 2147483647/],
        [() => linalg.luSolve(LU, tensor([[-5, 2, 3]], { dtype: 'int32' }), B), RangeError, /found -5/],
        [() => linalg.luSolve(LU, tensor([[1, 2]], { dtype: 'int32' }), B), RangeError, /pivots must have shape \[1, 3\]/],
        [() => linalg.luSolve(LU, tensor([[1, 2, 3]]), B), TypeError, /pivots must be an int32 tensor/],
      ];
      expectErrors(cases);
      const X = linalg.luSolve(LU, piv, B);
      expect(A.matmul(X).sub(B).abs().max().item()).toBeLessThan(1e-12);
    });
  });

  it('bad arguments: clear errors naming the function and the argument', () => {
    tidy(() => {
      const A = randn([3, 3], { dtype: 'float64' });
      const cases: ErrorCase[] = [
        [() => linalg.inv(zeros([2, 2], { dtype: 'int64' })), Error, /linalg\.inv: .*floating point/],
        [() => linalg.det(randn([2, 3])), Error, /linalg\.det: .*square/],
        [() => linalg.matrixExp(randn([2, 3])), Error, /linalg\.matrixExp: .*square/],
        [() => linalg.solve(A, randn([4, 2], { dtype: 'float64' })), Error, /linalg\.solve/],
        [() => linalg.inv([[1]] as never), TypeError, /linalg\.inv: expected a Tensor for A/],
        [() => linalg.norm(A, 'foo' as never), TypeError, /linalg\.norm: expected one of "fro", "nuc" for ord/],
        [() => linalg.vectorNorm(A, NaN), TypeError, /linalg\.vectorNorm: expected a number .* for ord/],
        [() => linalg.vectorNorm(A, 'fro' as never), TypeError, /linalg\.vectorNorm: expected a number/],
        [() => linalg.matrixNorm(A, 'fro', [0] as never), TypeError, /linalg\.matrixNorm: expected two dimensions for dim/],
        [() => linalg.matrixNorm(A, 3), Error, /linalg\.matrixNorm/],
        [() => linalg.norm(A, null, [0, 1.5]), TypeError, /dim\[1\]/],
        [() => linalg.pinv(A, { atl: 1 } as never), TypeError, /unknown option 'atl'; did you mean 'atol'/],
        [() => linalg.pinv(A, { rtol: '1' } as never), TypeError, /linalg\.pinv: expected a number for rtol/],
        [() => linalg.solveTriangular(A, A, {} as never), TypeError, /expected a boolean \(whether A is upper triangular; required\) for upper/],
        [() => linalg.qr(A, 'full' as never), TypeError, /linalg\.qr: expected one of "reduced", "complete", "r" for mode/],
        [() => linalg.eigh(A, 'X' as never), TypeError, /UPLO/],
        [() => linalg.lstsq(A, A, null, { driver: 'svd' } as never), TypeError, /driver/],
        [() => linalg.matrixPower(A, 1.5), TypeError, /linalg\.matrixPower: expected an integer for n/],
        [() => linalg.vander(randn([3]), { N: 0 }), RangeError, /N/],
        [() => linalg.vectorNorm(A, 2, null, false, { dtype: 'float128' } as never), TypeError, /dtype/],
        [() => linalg.multiDot([A]), Error, /linalg\.multiDot/],
        [() => linalg.multiDot('A' as never), TypeError, /an array of Tensors/],
        [() => linalg.cross(randn([2, 2]), randn([2, 2])), Error, /linalg\.cross/],
      ];
      expectErrors(cases);
    });
  });

  it('gradients flow through the decompositions, and a norm computes in the dtype asked for', () => {
    tidy(() => {
      const X = randn([3, 3], { dtype: 'float64', requiresGrad: true });
      linalg.svdvals(X).sum().backward();
      // d(nuclear norm)/dX = U Vᵀ
      const [U, , Vh] = linalg.svd(X.detach());
      expect((X.grad as Tensor).sub(U.matmul(Vh)).abs().max().item()).toBeLessThan(1e-10);
      const f = randn([4], { dtype: 'float32' });
      expect(linalg.vectorNorm(f, 2, null, false, { dtype: 'float64' }).dtype).toBe('float64');
      expect(linalg.matrixRank(randn([3, 3])).dtype).toBe('int64');
    });
  });

  it('leaves no tensor behind', () => {
    const before = memory().tensors;
    tidy(() => {
      const A = randn([2, 3, 3], { dtype: 'float64' });
      linalg.svd(A);
      linalg.eigh(A);
      linalg.lstsq(A, A);
      linalg.luFactor(A);
      linalg.slogdet(A);
    });
    expect(memory().tensors).toBe(before);
  });
});
