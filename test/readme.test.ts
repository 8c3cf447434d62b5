import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');

/**
 * Names README examples may use without declaring them, as rosetta fixtures would provide.
 * Each example is compiled on its own, inside a construct's constructor (`this` is a Construct).
 */
const PRELUDE = `
import { Construct } from 'constructs';
declare const token: string;
`;

/** The README's TypeScript examples: ```ts blocks. */
function examples(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** An example as a module: its imports on top, the rest in a constructor body. */
function asModule(example: string): string {
  const lines = example.split('\n');
  // `cachefleet` is this source tree.
  const imports = lines
    .filter((line) => /^import\s/.test(line))
    .map((line) => line.replace(/from 'cachefleet'/, `from '${path.join(root, 'src', 'index')}'`));
  const body = lines.filter((line) => !/^import\s/.test(line));
  return `${PRELUDE}\n${imports.join('\n')}\nexport class Example extends Construct {\n  constructor(scope: Construct, id: string) {\n    super(scope, id);\n${body.join('\n')}\n  }\n}\n`;
}

describe('README', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

  test('has TypeScript examples', () => {
    expect(examples(readme).length).toBeGreaterThan(0);
  });

  test.each(examples(readme).map((example, index) => [index + 1, example]))('example %d compiles against the library', (_index, example) => {
    // GIVEN the example as a file
    const file = path.join(root, 'test', '__readme_example__.ts');
    const source = asModule(example as string);
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2020,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => path.resolve(name) === file || fileExists(name);

    // WHEN it is type-checked
    const program = ts.createProgram([file], options, host);
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));

    // THEN it compiles
    expect(diagnostics).toEqual([]);
  });
});
