import * as fs from 'fs';

/** Removes the run's temporary directory (global-setup.ts), unless CACHEFLEET_KEEP_INTEG=1 keeps it for a look. */
export default function globalTeardown(): void {
  const dir = process.env.CACHEFLEET_TEST_TMPDIR;
  if (!dir || process.env.CACHEFLEET_KEEP_INTEG === '1') return;
  fs.rmSync(dir, { recursive: true, force: true });
}
