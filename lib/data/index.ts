/** Data sets. */
export * from './synthetic';
