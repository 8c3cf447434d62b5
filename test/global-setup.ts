import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Every temporary file of a test run goes under one directory of its own, removed at the end
 * (global-teardown.ts): cdktf's `Testing.synth`, CDK apps without an outdir, the behaviour tests'
 * roots and what the processes they start write to $TMPDIR. Without it, each run left thousands of
 * directories in /tmp. The workers start after this and inherit TMPDIR.
 */
export default function globalSetup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cachefleet-jest-'));
  // Traversable by anyone, as /tmp is: the engines of the behaviour tests run as another user and
  // reach their own directories below.
  fs.chmodSync(dir, 0o711);
  process.env.CACHEFLEET_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
}
