// The Docker flavor's example app: `npx cdktf synth` here (or `npx ts-node --project ../tsconfig.json
// main.ts`) writes cdktf.out/stacks/<stack>/cdk.tf.json for each stack; `terraform apply` in that
// directory deploys it to the local Docker engine (see docs/docker.md).
import { App } from 'cdktf';
import { ClusterFleetStack } from './cluster-stack';
import { CacheFleetsStack } from './stack';

const app = new App();
new CacheFleetsStack(app, 'cachefleet-docker');
new ClusterFleetStack(app, 'cachefleet-docker-cluster');
app.synth();
