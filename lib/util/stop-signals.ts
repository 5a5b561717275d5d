/**
 * Ctrl-C and SIGTERM for the CLI's long runs (`ictorch train`, `ictorch reproduce`): the first signal asks the
 * run to stop after the step in flight, with a checkpoint of that point; a second one quits at once (files are
 * replaced atomically, so the last checkpoint written stays valid).
 */

/** What `stopOnSignals` returns. */
export interface SignalStop {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The exit code for a run stopped this way: 130 after SIGINT, 143 after SIGTERM (as a shell reports them). */
  exitCode(): number;
  /** Removes the handlers. */
  dispose(): void;
}

/** Installs the SIGINT/SIGTERM handlers of a long run; `log` receives the line that says what happens next. */
export function stopOnSignals(log: (line: string) => void): SignalStop {
  const stop = new AbortController();
  let received: NodeJS.Signals | null = null;
  const code = (sig: NodeJS.Signals | null) => (sig === 'SIGTERM' ? 143 : 130);
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) process.exit(code(sig));
    received = sig;
    log(`\n${sig}: stopping after this step and saving a checkpoint (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit at once)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    exitCode: () => code(received),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
