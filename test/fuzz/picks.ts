import { Construct } from 'constructs';
import fc from 'fast-check';

/**
 * What the props' rules say of a drawn value taken alone: `depends` when its validity also
 * depends on other props or on the parameter catalog (the fleet model settles what it can).
 */
export type Verdict = 'valid' | 'invalid' | 'depends';

/** One drawn prop value: how to make it, what the rules say of it, and what an error may blame. */
export interface Pick {
  /** How a counterexample prints it. */
  readonly label: string;
  readonly verdict: Verdict;
  /**
   * The prop paths an error caused by this value may name.
   *
   * @default - the prop's own name
   */
  readonly paths?: readonly string[];
  /**
   * The value; `undefined` leaves the prop unset. Values that need a construct scope are made in
   * one; `earlier` holds the props made before it (a parameter group follows the fleet's engine).
   */
  make(scope: Construct, earlier: Record<string, unknown>): unknown;
}

/** A flavor's tokens, so that each flavor is fed tokens it recognises. */
export interface Tokens {
  readonly number: () => number;
  readonly string: () => string;
}

/** A set of drawn props, by prop name. */
export type Draw = Record<string, Pick>;

type Maker = (scope: Construct, earlier: Record<string, unknown>) => unknown;

function pick(verdict: Verdict, label: string, make: Maker, paths?: readonly string[]): Pick {
  // fast-check prints a counterexample with this method: values made in a scope have no useful print.
  return { label, verdict, make, paths, [fc.toStringMethod]: () => `${verdict}(${label})` } as Pick;
}

/** A value the rules accept on its own. */
export const valid = (value: unknown, label = fc.stringify(value)) => pick('valid', label, () => value);
/** A value the rules refuse whatever the other props. */
export const invalid = (value: unknown, label = fc.stringify(value)) => pick('invalid', label, () => value);
/** A value whose validity depends on the other props. */
export const depends = (value: unknown, label = fc.stringify(value)) => pick('depends', label, () => value);
/** A value made in the draw's scope (constructs, Terraform variables, imports). */
export const made = (verdict: Verdict, label: string, make: Maker, paths?: readonly string[]) =>
  pick(verdict, label, make, paths);

/** The prop left unset. */
export const UNSET = valid(undefined, 'unset');

/** Picks from constant values, all of one verdict. */
export function constants(verdict: Verdict, values: readonly unknown[]): fc.Arbitrary<Pick> {
  return fc.constantFrom(...values).map((value) => pick(verdict, fc.stringify(value), () => value));
}

/**
 * A prop's draw: unset, valid, or (one time in `1 + validWeight`) invalid. The bad-input rate is
 * a parameter: full synths want mostly whole fleets, validation runs want many refusals.
 */
export function mix(validPicks: fc.Arbitrary<Pick>, invalidPicks: fc.Arbitrary<Pick>, validWeight: number): fc.Arbitrary<Pick> {
  return fc.oneof(
    { arbitrary: fc.constant(UNSET), weight: validWeight },
    { arbitrary: validPicks, weight: validWeight },
    { arbitrary: invalidPicks, weight: 1 },
  );
}

/** The props made from a draw: unset props are left out. */
export function makeProps(draw: Draw, scope: Construct): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [name, drawn] of Object.entries(draw)) {
    const value = drawn.make(scope, props);
    if (value !== undefined) props[name] = value;
  }
  return props;
}

/**
 * The draw with the verdicts the fleet model settled from the other props; a value refused on its
 * own stays refused.
 */
export function overrule(draw: Draw, verdicts: Record<string, Verdict>): Draw {
  const result: Draw = { ...draw };
  for (const [name, verdict] of Object.entries(verdicts)) {
    if (result[name] && result[name].verdict !== 'invalid') result[name] = { ...result[name], verdict };
  }
  return result;
}
