// The Docker flavor's example app: `npx cdktf synth` here (or `npx ts-node --project ../tsconfig.json
// main.ts`) writes cdktf.out/stacks/cachefleet-docker/cdk.tf.json; `terraform apply` in that
// directory deploys it to the local Docker engine (see docs/docker.md).
import { App } from 'cdktf';
import { CacheFleetsStack } from './stack';

const app = new App();
new CacheFleetsStack(app, 'cachefleet-docker');
app.synth();
