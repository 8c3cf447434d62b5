import { Stack, Token } from 'aws-cdk-lib';
import { Endpoint } from '../../src/aws';

describe('Endpoint', () => {
  test('hostname, port and socket address', () => {
    const endpoint = new Endpoint('primary.example.internal', 6379);
    expect(endpoint.socketAddress).toBe('primary.example.internal:6379');
  });

  test('a token port renders through Token.asString, never NaN', () => {
    const stack = new Stack();
    const port = Token.asNumber({ Ref: 'Port' });
    const endpoint = new Endpoint('host', port);
    expect(stack.resolve(endpoint.socketAddress)).toEqual({ 'Fn::Join': ['', ['host:', { Ref: 'Port' }]] });
  });
});
