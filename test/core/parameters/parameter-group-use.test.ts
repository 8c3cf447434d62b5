import { Template } from 'aws-cdk-lib/assertions';
import * as aws from '../../../src/aws';
import { CacheEngine, ValkeyEngineVersion } from '../../../src/core/engine';
import { ValidationError } from '../../../src/core/errors';
import { ParameterGroup } from '../../../src/core/parameters/parameter-group';
import * as docker from '../../../src/docker';
import { readBundleFile, testStack } from '../../aws/fixtures';
import { dockerStack, synthJson } from '../../docker/synth';

const valkey = CacheEngine.valkey({ version: ValkeyEngineVersion.VER_8_0 });

describe('a parameter group a fleet has planned with', () => {
  test('AWS: addParameter after the fleet is refused, naming the group, the parameter and the fleet; nothing is lost silently', () => {
    const { stack, vpc } = testStack();
    const params = new ParameterGroup(stack, 'Params', { engine: valkey, parameters: { 'maxmemory-policy': 'allkeys-lru' } });
    params.addParameter('timeout', '300'); // before any fleet: taken
    const group = new aws.ReplicationGroup(stack, 'Sessions', { vpc, engine: valkey, parameterGroup: params });

    let error: unknown;
    try {
      params.addParameter('maxmemory-policy', 'volatile-lru');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      'Test/Params: `parameters.maxmemory-policy` must be set before a fleet uses the group (Test/Sessions already planned with its parameters, ' +
      'and would never get this one): pass it in `parameters`, or call addParameter before creating the fleets, got: "volatile-lru"');
    // The group is unchanged, and what the fleet deploys is what it planned with.
    expect(params.parameters).toEqual({ 'maxmemory-policy': 'allkeys-lru', 'timeout': '300' });
    Template.fromStack(stack);
    const conf = readBundleFile(group, 'config/redis.conf');
    expect(conf).toMatch(/^maxmemory-policy "?allkeys-lru"?$/m);
    expect(conf).toMatch(/^timeout "?300"?$/m);
    expect(conf).not.toContain('volatile-lru');
  });

  test('Docker: the same sequence is refused; the bundle holds the parameters the fleet planned with', () => {
    const stack = dockerStack();
    const params = new ParameterGroup(stack, 'Params', { engine: valkey });
    params.addParameter('maxmemory-policy', 'allkeys-lru');
    new docker.ReplicationGroup(stack, 'Sessions', { engine: valkey, parameterGroup: params });
    new docker.CacheCluster(stack, 'Cache', { engine: valkey, parameterGroup: params, subnetCidr: '172.30.9.0/24', hostPortBase: 7400 });
    expect(() => params.addParameter('timeout', '300')).toThrow(
      'Test/Params: `parameters.timeout` must be set before a fleet uses the group (Test/Sessions, Test/Cache already planned with its parameters');
    const text = JSON.stringify(synthJson(stack));
    expect(text).toContain('allkeys-lru');
    expect(text).not.toMatch(/timeout 300/);
  });

  test('a group no fleet uses yet takes parameters as before; a refused value in a group still names the group', () => {
    const { stack } = testStack();
    const params = new ParameterGroup(stack, 'Params', { engine: valkey });
    params.addParameter('timeout', '300');
    expect(params.parameters).toEqual({ timeout: '300' });
    expect(() => params.addParameter('timeout', 'never')).toThrow('Test/Params: `parameters.timeout` must be an integer of at least 0, got: "never"');
    expect(() => new ParameterGroup(stack, 'Bad', { engine: valkey, parameters: { timeout: 'never' } }))
      .toThrow('Test/Bad: `parameters.timeout` must be an integer of at least 0, got: "never"');
  });
});
