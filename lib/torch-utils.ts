/** PyTorch's `torch.utils` in ictorch: `utils.checkpoint` (activation checkpointing). Data loading is `DataLoader`. */
/** Activation checkpointing (PyTorch's `torch.utils.checkpoint`): `checkpoint(fn, ...args)`, `checkpointSequential`. */
export * as checkpoint from './checkpoint';
