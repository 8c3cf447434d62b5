import { onPath } from './processes';

/**
 * Behaviour tests need real servers. A missing binary FAILS the test (CI must never pass by
 * skipping); only CACHEFLEET_SKIP_INTEG=1 skips them, for machines that cannot run them.
 */
export const SKIP_INTEG = process.env.CACHEFLEET_SKIP_INTEG === '1';

/** `describe`, or `describe.skip` when CACHEFLEET_SKIP_INTEG=1. */
export const describeInteg: jest.Describe = SKIP_INTEG ? describe.skip : describe;

/** Throws, naming every missing program, unless all are on PATH. */
export function requireBinaries(programs: readonly string[]): void {
  const missing = programs.filter((program) => !onPath(program));
  if (missing.length > 0) {
    throw new Error(
      `behaviour tests need ${missing.join(', ')} on PATH (Debian: redis-server redis-sentinel redis-tools valkey-server ` +
        'valkey-tools memcached shellcheck iproute2); set CACHEFLEET_SKIP_INTEG=1 only where they cannot run',
    );
  }
}

/** Registers a `beforeAll` that fails the enclosing block when a program is missing. */
export function needsBinaries(programs: readonly string[]): void {
  beforeAll(() => requireBinaries(programs));
}
