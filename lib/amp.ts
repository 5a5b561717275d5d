/**
 * `torch.amp`: mixed precision in a hand-written loop. `autocast` runs a function with float16 / bfloat16
 * autocast on; `GradScaler` scales float16 losses so that small gradients survive.
 * @module
 */
export { autocast, isAutocastEnabled, getAutocastDtype } from './autocast';
export type { AutocastOptions, AutocastDeviceType } from './autocast';
export { GradScaler } from './grad-scaler';
export type { GradScalerOptions, GradScalerStateDict } from './grad-scaler';
