// `cdk synth` entry point of the AWS example (see cdk.json).
import { App } from 'aws-cdk-lib';
import { buildExample } from './app';

const app = new App();
buildExample(app);
app.synth();
