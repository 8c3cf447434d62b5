import * as fs from 'fs';
import * as path from 'path';

/** Every TypeScript file below a folder. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The module names a file imports or requires. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|require\()\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
}

describe('layers', () => {
  const core = path.join(__dirname, '..', '..', 'src', 'core');

  test('core imports neither aws-cdk-lib nor cdktf, nor the flavors', () => {
    const files = sources(core);
    expect(files.length).toBeGreaterThan(5);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((name) => /^(aws-cdk-lib|cdktf|@cdktf\/)/.test(name) || /\/(aws|docker)(\/|$)/.test(name))
        .map((name) => `${path.relative(core, file)} imports ${name}`),
    );
    expect(offending).toEqual([]);
  });
});
