/** How a bench script ends. */

/**
 * Runs a bench's `main`, then exits: 0 when it resolves, 1 with the error printed when it rejects (so that a stack's
 * open handles do not keep the process alive after the results are written).
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
