// cdktf's Jest matchers (toHaveResource, toBeValidTerraform, …) for the Docker flavor's tests.
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';

Testing.setupJest();
