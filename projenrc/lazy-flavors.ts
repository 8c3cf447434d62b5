// Post-compile step: makes the root entry's flavor namespaces (`export * as aws`, `export * as
// docker` in src/index.ts) load on first access instead of when `cachefleet` is required.
//
// TypeScript compiles each `export * as ns from './ns'` to an eager
// `exports.ns = __importStar(require("./ns"));`, so requiring the root would load aws-cdk-lib and
// cdktf both, and fail for an app that installed only its own flavor's peers. jsii needs the
// namespaces in the root entry (they are the assembly's submodules), so they stay in the source and
// the declarations; only the compiled JavaScript changes, into getters.
//
// Node finds the names an ES module may import from a CommonJS file by reading it: an
// `exports.aws = void 0;` statement names `aws`, while a getter defined with the name written in the
// call would withdraw it. Hence that statement before each namespace, and a helper that defines the
// getter. An ES module that imports the root reads every name at once, so there a flavor whose peers
// are missing is `undefined` rather than an error.
import * as fs from 'fs';
import * as path from 'path';

/** One compiled `export * as <name> from './<dir>'`. */
const EAGER_NAMESPACE = /^exports\.([A-Za-z_$][\w$]*) = __importStar\(require\("(\.\/[^"]+)"\)\);$/gm;

/** A namespace this step already made lazy. */
const LAZY_NAMESPACE = /__lazyNamespace\("([^"]+)"/g;

/** Defined once, at the end of the file (function declarations are hoisted). */
const HELPER = [
  '// Defines a namespace that loads its module on first access (projenrc/lazy-flavors.ts).',
  'function __lazyNamespace(name, load) {',
  '    Object.defineProperty(exports, name, { enumerable: true, configurable: true, get: load });',
  '}',
].join('\n');

function makeNamespacesLazy(source: string): { readonly text: string; readonly names: string[] } {
  const names: string[] = [];
  // One line for one line, so that the inline source map still points at the right lines.
  const replaced = source.replace(EAGER_NAMESPACE, (_line, name: string, target: string) => {
    names.push(name);
    // `__importStar` is what the eager line called; it returns an ES module's exports unchanged.
    return `exports.${name} = void 0; __lazyNamespace(${JSON.stringify(name)}, function () { return __importStar(require(${JSON.stringify(target)})); });`;
  });
  if (names.length === 0) return { text: source, names };
  const sourceMap = replaced.lastIndexOf('\n//# sourceMappingURL=');
  const at = sourceMap >= 0 ? sourceMap : replaced.length;
  return { text: `${replaced.slice(0, at)}\n${HELPER}${replaced.slice(at)}`, names };
}

function main(): void {
  const file = path.join(__dirname, '..', 'lib', 'index.js');
  const expected = process.argv.slice(2);
  const source = fs.readFileSync(file, 'utf8');
  const { text, names } = makeNamespacesLazy(source);
  const lazy = [...source.matchAll(LAZY_NAMESPACE)].map((match) => match[1]);
  const all = [...lazy, ...names].sort();
  // A different TypeScript emit must fail the build, not ship an entry that loads every flavor.
  if (JSON.stringify(all) !== JSON.stringify([...expected].sort())) {
    throw new Error(`lib/index.js: expected the namespaces ${expected.join(', ')} to be lazy, found eager [${names.join(', ')}] and lazy [${lazy.join(', ')}]`);
  }
  if (names.length > 0) fs.writeFileSync(file, text);
  console.log(`lib/index.js: ${all.join(', ')} load on first access`);
}

if (require.main === module) main();
