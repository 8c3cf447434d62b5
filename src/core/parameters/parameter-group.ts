import { Construct } from 'constructs';
import { CacheEngine } from '../engine';
import { atConstruct, ValidationError, withConstructPath } from '../errors';
import { FamilyCatalog } from './catalog/parameter-spec';
import { validateParameterGroupProps } from './parameter-group-props';
import { parameterGroupUsers } from './parameter-group-use';
import { catalogOf, checkParameter, checkParameters } from './validate';

/**
 * Properties of a ParameterGroup.
 */
export interface ParameterGroupProps {
  /**
   * The engine and version the parameters are for. Its family (`engine.parameterGroupFamily`, such
   * as `valkey8`) decides which parameters exist, and its version which of them the engine has.
   */
  readonly engine: CacheEngine;

  /**
   * The parameters, by name, as in an ElastiCache parameter group: `{ 'maxmemory-policy': 'allkeys-lru' }`.
   *
   * @default - none: every parameter keeps its family's default (ElastiCache's where it has one)
   */
  readonly parameters?: { [name: string]: string };

  /**
   * What the parameter group is for.
   *
   * @default - 'Parameters of a <family> fleet'
   */
  readonly description?: string;
}

/**
 * Engine parameters shared by the fleets that use them, as an ElastiCache parameter group.
 *
 * Every parameter is checked against its family's catalog when it is set: an unknown name, a value
 * of the wrong type or out of range, a parameter of another family or of a later engine version is
 * a ValidationError naming `parameters.<name>`, the value and what is allowed.
 *
 * Set every parameter before creating the fleets that use the group: a fleet plans with the
 * parameters when it is constructed, so `addParameter` after that is refused rather than lost.
 */
export class ParameterGroup extends Construct {
  /** The engine the parameters are for. */
  public readonly engine: CacheEngine;

  /** The parameter group family, such as `redis7`, `valkey8` or `memcached1.6`. */
  public readonly family: string;

  /** What the parameter group is for. */
  public readonly description: string;

  private readonly catalog: FamilyCatalog;
  private readonly values: { [name: string]: string } = {};

  constructor(scope: Construct, id: string, props: ParameterGroupProps) {
    super(scope, id);
    try {
      validateParameterGroupProps(props);
      this.engine = props.engine;
      this.family = props.engine.parameterGroupFamily;
      this.catalog = this.validateFamily();
      this.description = props.description ?? `Parameters of a ${this.family} fleet`;
      this.validateParameters(props.parameters ?? {});
    } catch (error) {
      throw atConstruct(this, error);
    }
  }

  /**
   * The parameters set, by name, with their values as the engine gets them (`yes`/`no` in lower
   * case, sizes in bytes). A copy: changing it changes nothing.
   */
  public get parameters(): { [name: string]: string } {
    return { ...this.values };
  }

  /**
   * Sets a parameter, replacing any earlier value of it. Only before a fleet uses the group: a fleet
   * plans with the parameters when it is constructed, so a later call is a ValidationError (set the
   * parameter in `parameters`, or call this before creating the fleets).
   *
   * @param name the parameter's name, such as `timeout`
   * @param value its value, such as `300`
   */
  public addParameter(name: string, value: string): void {
    withConstructPath(this, () => {
      const users = parameterGroupUsers(this);
      if (users.length > 0) {
        throw new ValidationError(`parameters.${name}`, value,
          `must be set before a fleet uses the group (${users.join(', ')} already planned with its parameters, ` +
          'and would never get this one): pass it in `parameters`, or call addParameter before creating the fleets');
      }
      const normalized = checkParameter(this.catalog, name, value, this.engine.engineVersion);
      // The parameters must still fit together (memcached's item size and chunk size).
      checkParameters(this.catalog, { ...this.values, [name]: normalized }, this.engine.engineVersion, name);
      this.values[name] = normalized;
    });
  }

  /** The family's catalog; an engine whose family has none (`redis9`) is refused. */
  private validateFamily(): FamilyCatalog {
    return catalogOf(this.family);
  }

  /** Checks the parameters given at creation and keeps them as the engine gets them. */
  private validateParameters(parameters: { [name: string]: string }): void {
    const checked = checkParameters(this.catalog, parameters, this.engine.engineVersion);
    for (const [name, value] of checked) this.values[name] = value;
  }
}
