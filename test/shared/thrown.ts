import { ValidationError } from '../../src/core/errors';

/** What `fn` throws, to assert on its whole message; fails the test when it throws nothing. */
export function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('nothing was thrown');
}
