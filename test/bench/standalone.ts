/** A measurement run on its own (`ts-node <file>`): prints its result as JSON; exit 2 when it throws. */
export function runStandalone<T>(measure: (log: (line: string) => void) => Promise<T>): void {
  measure((line) => console.log(line)).then(
    (result) => {
      console.log(JSON.stringify(result, undefined, 2));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack ?? error.message : error);
      process.exit(2);
    },
  );
}

/** Three decimals, for the results file. */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
