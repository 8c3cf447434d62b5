import { Token } from 'aws-cdk-lib';

/**
 * An address clients connect to: a host name and a port.
 */
export class Endpoint {
  /** The host name (a Route 53 private record) or IP address. */
  public readonly hostname: string;
  /** The port. */
  public readonly port: number;
  /** `hostname:port`. */
  public readonly socketAddress: string;

  /**
   * @param hostname the host name or IP address
   * @param port the port
   */
  constructor(hostname: string, port: number) {
    this.hostname = hostname;
    this.port = port;
    const portText = Token.isUnresolved(port) ? Token.asString(port) : String(port);
    this.socketAddress = `${hostname}:${portText}`;
  }
}
