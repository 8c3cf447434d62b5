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
import { RemovalPolicy, Size, aws_ec2 as ec2, aws_lambda as lambda } from 'aws-cdk-lib';
declare const vpc: ec2.IVpc;
declare const fn: lambda.IFunction;
declare const params: import('${path.join(root, 'src', 'index')}').ParameterGroup;
declare const token: string;
`;

/** The README's TypeScript examples: ```ts blocks. */
function examples(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** An example as a module: its imports on top, the rest in a constructor body. */
function asModule(example: string): string {
  const lines = example.split('\n');
  // `cachefleet` is this source tree; `cachefleet/aws`, `/docker` and `/core` are its entry files.
  const imports = lines
    .filter((line) => /^import\s/.test(line))
    .map((line) => line.replace(/from 'cachefleet(?:\/(aws|docker|core))?'/, (_match, entry?: string) =>
      `from '${path.join(root, 'src', entry ? `${entry}-entry` : 'index')}'`));
  const body = lines.filter((line) => !/^import\s/.test(line));
  return `${PRELUDE}\n${imports.join('\n')}\nexport class Example extends Construct {\n  constructor(scope: Construct, id: string) {\n    super(scope, id);\n${body.join('\n')}\n  }\n}\n`;
}

/** Type-checks every example in one program (aws-cdk-lib's types are parsed once): diagnostics per example. */
function typeCheck(sources: string[]): string[][] {
  const files = sources.map((_source, index) => path.join(root, 'test', `__readme_example_${index + 1}__.ts`));
  const byFile = new Map(files.map((file, index) => [file, sources[index]]));
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
  host.readFile = (name) => byFile.get(path.resolve(name)) ?? readFile(name);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => byFile.has(path.resolve(name)) || fileExists(name);
  const program = ts.createProgram(files, options, host);
  return files.map((file) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  );
}

describe('README', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks = examples(readme);
  let diagnostics: string[][] = [];

  beforeAll(() => {
    diagnostics = typeCheck(blocks.map(asModule));
  }, 120_000);

  test('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  test.each(blocks.map((_example, index) => [index + 1]))('example %d compiles against the library', (index) => {
    expect(diagnostics[index - 1]).toEqual([]);
  });
});
