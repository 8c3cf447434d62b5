import { Draw } from './picks';

/**
 * The one rule of bad input: a draw either builds a whole fleet or is refused with a
 * ValidationError that names a prop the draw got wrong — never another error.
 */

/** What building from a draw came to. */
export type Outcome<T> = { readonly built: T } | { readonly refused: unknown };

export function attempt<T>(build: () => T): Outcome<T> {
  try {
    return { built: build() };
  } catch (error) {
    return { refused: error };
  }
}

/** The paths an error may name: those of every prop not drawn valid (`x.*` stands for any `x.<name>`). */
export function suspectPaths(draw: Draw): string[] {
  return Object.entries(draw).flatMap(([name, drawn]) => (drawn.verdict === 'valid' ? [] : drawn.paths ?? [name]));
}

function names(path: string, pattern: string): boolean {
  return pattern.endsWith('.*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

/** Fails unless the error is a ValidationError whose message starts with a suspect prop's path. */
export function expectRefusal(error: unknown, draw: Draw): string {
  const e = error as { name?: unknown; message?: unknown; propPath?: unknown; stack?: unknown };
  if (!(error instanceof Error) || e.name !== 'ValidationError') {
    throw new Error(`not a ValidationError: ${error instanceof Error ? error.stack : String(error)}`);
  }
  // A parameter's name may hold a backtick itself: the path the error carries says where the name ends.
  const path = typeof e.propPath === 'string' ? e.propPath : /^(?:[^`:]+: )?`([^`]+)` /.exec(error.message)?.[1];
  // Out of a construct, the message starts with the construct's path, then the prop.
  const located = typeof (e as { constructPath?: unknown }).constructPath === 'string' ? `${(e as { constructPath: string }).constructPath}: ` : '';
  if (path === undefined || !error.message.startsWith(`${located}\`${path}\` `)) {
    throw new Error(`a ValidationError that does not start with the prop it names: ${error.message}`);
  }
  // The catalog's lookups must not find what every object inherits (a name such as `constructor`).
  if (/\[native code\]|^function /m.test(error.message)) throw new Error(`a message with a function in it: ${error.message}`);
  const suspects = suspectPaths(draw);
  if (suspects.length === 0) throw new Error(`props drawn valid were refused: ${error.message}`);
  if (!suspects.some((pattern) => names(path, pattern))) {
    throw new Error(`\`${path}\` was not drawn wrong (suspects: ${suspects.join(', ')}): ${error.message}`);
  }
  return path;
}

/** Fails when a prop drawn invalid was accepted. */
export function expectAccepted(draw: Draw): void {
  const refused = Object.entries(draw).filter(([, drawn]) => drawn.verdict === 'invalid');
  if (refused.length > 0) {
    throw new Error(`accepted props drawn invalid: ${refused.map(([name, drawn]) => `${name}=${drawn.label}`).join(', ')}`);
  }
}

/** How many draws came to each end, so that a test can say both were exercised. */
export class Tally {
  public built = 0;
  public refused = 0;
  public readonly paths = new Map<string, number>();

  public count(path?: string): void {
    if (path === undefined) {
      this.built++;
      return;
    }
    this.refused++;
    const prop = path.replace(/^(parameterGroup\.parameters|parameters)\..*/, '$1.*');
    this.paths.set(prop, (this.paths.get(prop) ?? 0) + 1);
  }
}

/** V8's own rendering of a stack: the error, then a line per call site. */
function plainStack(error: Error, frames: NodeJS.CallSite[]): string {
  return [String(error), ...frames.map((frame) => `    at ${frame}`)].join('\n');
}

/**
 * Runs a synth-level property with stacks rendered as V8 renders them. cdktf records a full call
 * stack for every token it makes, aws-cdk-lib one for every error, and under jest each stack is
 * source-mapped frame by frame: that took two fifths of a Docker synth. A counterexample still
 * prints; only the frames of an unexpected error point into the compiled files.
 */
export function withPlainStackTraces<T>(run: () => T): T {
  const installed = Error.prepareStackTrace;
  Error.prepareStackTrace = plainStack;
  try {
    return run();
  } finally {
    Error.prepareStackTrace = installed;
  }
}
