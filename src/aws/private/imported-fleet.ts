import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ValidationError, withConstructPath } from '../../core/errors';
import { CacheFleetBase } from '../cache-fleet-base';
import { Endpoint } from '../endpoint';

/** What an imported fleet needs, whichever construct it is. */
export interface ImportedFleetAttributes {
  readonly fleetId: string;
  readonly endpointAddress: string;
  readonly port: number;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly authSecret?: secretsmanager.ISecret;
}

/** A fleet defined elsewhere: connections, endpoint, grants and metrics. */
export class ImportedFleet extends CacheFleetBase {
  public readonly fleetId: string;
  public readonly endpoint: Endpoint;
  public readonly connections: ec2.Connections;
  private readonly authSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, attrs: ImportedFleetAttributes, required: Record<string, unknown>) {
    super(scope, id);
    withConstructPath(this, () => {
      for (const [name, value] of Object.entries(required)) {
        if (value === undefined || value === null) {
          throw new ValidationError(name, value, 'is required to import a fleet');
        }
      }
    });
    this.fleetId = attrs.fleetId;
    this.endpoint = new Endpoint(attrs.endpointAddress, attrs.port);
    this.connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(attrs.port) });
    this.authSecret = attrs.authSecret;
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    if (!this.authSecret) return iam.Grant.drop(grantee, 'the imported fleet has no AUTH secret');
    return this.authSecret.grantRead(grantee);
  }
}
