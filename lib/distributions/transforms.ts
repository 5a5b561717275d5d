// torch.distributions.transforms: invertible elementwise maps with their log-Jacobians, the pieces a
// TransformedDistribution composes (LogNormal is a Normal through ExpTransform; Gumbel a Uniform through four).
// Each formula is PyTorch's, clamps included, so the same inputs give the same numbers.
import { fullLike } from '../creation';
import { finfo, isFloatingDType } from '../dtype';
import { softplus } from '../nn/functional';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { broadcastShapes, typeError } from '../validate';
import { broadcastOrThrow, type Param } from './distribution';

/**
 * The set a transform maps from or to, as PyTorch's constraints: `describe` names it in messages, `bad(v)` is true
 * where `v` lies outside it (PyTorch's `check`, negated).
 */
export interface Constraint {
  /** The set in words, as messages show it: `'in (0, ∞)'`. */
  readonly describe: string;
  /** A bool Tensor of `v`'s shape: true where `v` lies outside the set. */
  bad(v: Tensor): Tensor;
}

/** @internal PyTorch's `constraints.real`: anything but NaN. */
export const real: Constraint = { describe: 'that are not NaN', bad: (v) => v.isnan() };
/** @internal PyTorch's `constraints.positive`: > 0. */
export const positive: Constraint = { describe: 'in (0, ∞)', bad: (v) => v.gt(0).logicalNot() };
const unitInterval: Constraint = { describe: 'in [0, 1]', bad: (v) => v.ge(0).logicalAnd(v.le(1)).logicalNot() };
const signedUnitInterval: Constraint = { describe: 'in [-1, 1]', bad: (v) => v.ge(-1).logicalAnd(v.le(1)).logicalNot() };

/** A Tensor argument or a TypeError naming the method. */
function tensorIn(op: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw typeError(op, name, 'a Tensor', v);
  return v;
}

/** A transform's parameter: a number, or a floating-point Tensor (kept by reference, not copied). */
function paramArg(op: string, name: string, v: unknown): Param {
  if (typeof v === 'number' && !Number.isNaN(v)) return v;
  if (v instanceof Tensor && isFloatingDType(v.dtype)) return v;
  throw typeError(op, name, 'a number or a floating-point Tensor', v);
}

/** Whether two parameters are equal everywhere (PyTorch's `(a == b).all()`); shapes that do not broadcast are unequal. */
function sameParam(a: Param, b: Param): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const shapeOf = (p: Param) => (typeof p === 'number' ? [] : p.shape);
  if (!broadcastShapes(shapeOf(a), shapeOf(b))) return false;
  return tidy(() => (typeof a === 'number' ? (b as Tensor).eq(a) : a.eq(b)).all().item() === true);
}

/**
 * An invertible elementwise map `y = f(x)` with `log |dy/dx|`, as `torch.distributions.transforms.Transform`:
 * PyTorch's `t(x)` is `t.forward(x)`, `t.inv(y)` is `t.inverse(y)` (or `t.inv.forward(y)`), and
 * `log_abs_det_jacobian` is `logAbsDetJacobian`. The transforms here all act on each element (PyTorch's
 * `event_dim` 0).
 */
export abstract class Transform {
  /** Where `forward` is defined (PyTorch's `domain`). */
  abstract readonly domain: Constraint;
  /** Where `forward` maps to, and `inverse` is defined (PyTorch's `codomain`). */
  abstract readonly codomain: Constraint;
  /** @internal the cached inverse (PyTorch keeps one too). */
  private inverseTransform: Transform | null = null;

  /** `f(x)`. */
  forward(x: Tensor): Tensor {
    return this.map(tensorIn(`${this.constructor.name}.forward`, 'x', x));
  }
  /** `f⁻¹(y)`. */
  inverse(y: Tensor): Tensor {
    return this.unmap(tensorIn(`${this.constructor.name}.inverse`, 'y', y));
  }
  /** `log |dy/dx|` at each element, for `y = f(x)`. */
  logAbsDetJacobian(x: Tensor, y: Tensor): Tensor {
    const op = `${this.constructor.name}.logAbsDetJacobian`;
    return this.ladj(tensorIn(op, 'x', x), tensorIn(op, 'y', y));
  }
  /** The inverse transform: `t.inv.forward(y)` is `t.inverse(y)`, and `t.inv.inv` is `t`. */
  get inv(): Transform {
    this.inverseTransform ??= new InverseTransform(this);
    return this.inverseTransform;
  }
  /** +1 where `f` increases, −1 where it decreases: a number, or a Tensor of signs (an AffineTransform with a Tensor scale). */
  get sign(): number | Tensor {
    return 1;
  }
  /** Whether `other` is the same map (PyTorch's `==`): the same class and equal parameters. */
  equals(other: Transform): boolean {
    return other instanceof Transform && other.constructor === this.constructor;
  }
  /** The shape of `forward`'s output for an input of `shape` (a parameter's shape broadcasts in). */
  forwardShape(shape: number[]): number[] {
    return shape;
  }
  /** The shape of `inverse`'s output for an input of `shape`. */
  inverseShape(shape: number[]): number[] {
    return shape;
  }

  /** @internal `f(x)` on a checked Tensor. */
  abstract map(x: Tensor): Tensor;
  /** @internal `f⁻¹(y)` on a checked Tensor. */
  abstract unmap(y: Tensor): Tensor;
  /** @internal `log |dy/dx|` on checked Tensors. */
  abstract ladj(x: Tensor, y: Tensor): Tensor;
}

/** The inverse of a transform (PyTorch's `_InverseTransform`): what `t.inv` returns. */
class InverseTransform extends Transform {
  constructor(readonly base: Transform) {
    super();
  }
  get domain(): Constraint {
    return this.base.codomain;
  }
  get codomain(): Constraint {
    return this.base.domain;
  }
  get inv(): Transform {
    return this.base;
  }
  get sign(): number | Tensor {
    return this.base.sign;
  }
  equals(other: Transform): boolean {
    return other instanceof InverseTransform && this.base.equals(other.base);
  }
  forwardShape(shape: number[]): number[] {
    return this.base.inverseShape(shape);
  }
  inverseShape(shape: number[]): number[] {
    return this.base.forwardShape(shape);
  }
  map(x: Tensor): Tensor {
    return this.base.unmap(x);
  }
  unmap(y: Tensor): Tensor {
    return this.base.map(y);
  }
  ladj(x: Tensor, y: Tensor): Tensor {
    return tidy(() => this.base.ladj(y, x).neg());
  }
}

/**
 * `y = |x|`, as PyTorch's `AbsTransform`: not injective, so its `inverse` is the identity (the non-negative
 * preimage) and it has no log-Jacobian or sign; HalfNormal and HalfCauchy use it for sampling and give their own
 * densities.
 */
export class AbsTransform extends Transform {
  readonly domain = real;
  readonly codomain = positive;
  get sign(): number | Tensor {
    throw new TypeError('AbsTransform.sign is not defined: |x| is not monotone');
  }
  map(x: Tensor): Tensor {
    return x.abs();
  }
  /** `y`, as a new handle. */
  unmap(y: Tensor): Tensor {
    return y.expand(y.shape);
  }
  ladj(): Tensor {
    throw new TypeError('AbsTransform.logAbsDetJacobian is not defined: |x| is not injective');
  }
}

/** `y = eˣ`, from the reals to (0, ∞), as PyTorch's `ExpTransform`. */
export class ExpTransform extends Transform {
  readonly domain = real;
  readonly codomain = positive;
  map(x: Tensor): Tensor {
    return x.exp();
  }
  unmap(y: Tensor): Tensor {
    return y.log();
  }
  /** `x`, as a new handle. */
  ladj(x: Tensor): Tensor {
    return x.expand(x.shape);
  }
}

/**
 * `y = loc + scale · x`, as PyTorch's `AffineTransform`: `loc` and `scale` numbers or floating-point Tensors that
 * broadcast with the values (kept by reference: the caller keeps them alive).
 */
export class AffineTransform extends Transform {
  readonly domain = real;
  readonly codomain = real;
  /** The shift. */
  readonly loc: Param;
  /** The scale (its sign is the map's). */
  readonly scale: Param;
  constructor(loc: Param, scale: Param) {
    super();
    this.loc = paramArg('AffineTransform', 'loc', loc);
    this.scale = paramArg('AffineTransform', 'scale', scale);
  }
  get sign(): number | Tensor {
    return typeof this.scale === 'number' ? Math.sign(this.scale) : this.scale.sign();
  }
  equals(other: Transform): boolean {
    return other instanceof AffineTransform && sameParam(this.loc, other.loc) && sameParam(this.scale, other.scale);
  }
  forwardShape(shape: number[]): number[] {
    const shapes = [shape, ...[this.loc, this.scale].map((p) => (typeof p === 'number' ? [] : p.shape))];
    return broadcastOrThrow('AffineTransform', shapes);
  }
  inverseShape(shape: number[]): number[] {
    return this.forwardShape(shape);
  }
  map(x: Tensor): Tensor {
    return tidy(() => x.mul(this.scale).add(this.loc));
  }
  unmap(y: Tensor): Tensor {
    return tidy(() => y.sub(this.loc).div(this.scale));
  }
  /** `log |scale|`, expanded to x's shape. */
  ladj(x: Tensor): Tensor {
    const s = this.scale;
    return tidy(() => (typeof s === 'number' ? fullLike(x, Math.log(Math.abs(s))) : s.abs().log().expand(x.shape)));
  }
}

/**
 * `y = 1 / (1 + e⁻ˣ)`, from the reals to [0, 1], as PyTorch's `SigmoidTransform`: kept inside
 * `[tiny, 1 − eps]` of the dtype both ways, so that neither end gives an infinite inverse.
 */
export class SigmoidTransform extends Transform {
  readonly domain = real;
  readonly codomain = unitInterval;
  map(x: Tensor): Tensor {
    const f = finfo(x.dtype);
    return tidy(() => x.sigmoid().clamp(f.tiny, 1 - f.eps));
  }
  unmap(y: Tensor): Tensor {
    const f = finfo(y.dtype);
    return tidy(() => {
      const c = y.clamp(f.tiny, 1 - f.eps);
      return c.log().sub(c.neg().log1p());
    });
  }
  /** `−softplus(−x) − softplus(x)`. */
  ladj(x: Tensor): Tensor {
    return tidy(() => softplus(x.neg()).neg().sub(softplus(x)));
  }
}

/** `y = tanh x`, from the reals to [−1, 1], as PyTorch's `TanhTransform` (its inverse is `atanh`, unclamped, as PyTorch's). */
export class TanhTransform extends Transform {
  readonly domain = real;
  readonly codomain = signedUnitInterval;
  map(x: Tensor): Tensor {
    return x.tanh();
  }
  unmap(y: Tensor): Tensor {
    return y.atanh();
  }
  /** `2 (log 2 − x − softplus(−2x))`, PyTorch's stable form. */
  ladj(x: Tensor): Tensor {
    return tidy(() => x.neg().add(Math.LN2).sub(softplus(x.mul(-2))).mul(2));
  }
}

/** `y = log(1 + eˣ)`, from the reals to (0, ∞), as PyTorch's `SoftplusTransform`. */
export class SoftplusTransform extends Transform {
  readonly domain = real;
  readonly codomain = positive;
  map(x: Tensor): Tensor {
    return softplus(x);
  }
  /** `log(1 − e⁻ʸ) + y`. */
  unmap(y: Tensor): Tensor {
    return tidy(() => y.neg().expm1().neg().log().add(y));
  }
  /** `−softplus(−x)`. */
  ladj(x: Tensor): Tensor {
    return tidy(() => softplus(x.neg()).neg());
  }
}

/** `y = xᵉ` on (0, ∞), as PyTorch's `PowerTransform`: `exponent` a number or a floating-point Tensor. */
export class PowerTransform extends Transform {
  readonly domain = positive;
  readonly codomain = positive;
  /** The exponent. */
  readonly exponent: Param;
  constructor(exponent: Param) {
    super();
    this.exponent = paramArg('PowerTransform', 'exponent', exponent);
  }
  equals(other: Transform): boolean {
    return other instanceof PowerTransform && sameParam(this.exponent, other.exponent);
  }
  forwardShape(shape: number[]): number[] {
    return broadcastOrThrow('PowerTransform', [shape, typeof this.exponent === 'number' ? [] : this.exponent.shape]);
  }
  inverseShape(shape: number[]): number[] {
    return this.forwardShape(shape);
  }
  map(x: Tensor): Tensor {
    return x.pow(this.exponent);
  }
  unmap(y: Tensor): Tensor {
    const e = this.exponent;
    return tidy(() => y.pow(typeof e === 'number' ? 1 / e : e.reciprocal()));
  }
  /** `log |e · y / x|`. */
  ladj(x: Tensor, y: Tensor): Tensor {
    return tidy(() => y.mul(this.exponent).div(x).abs().log());
  }
}
