// The shared route-table conformance suite against the AWS provider, which talks
// through the real @aws-sdk/client-ec2 to the EC2 emulator.
import { AWS_GAPS, awsHarness } from './aws.ts';
import { routeTableConformance } from './route-table.ts';

routeTableConformance('aws', awsHarness, AWS_GAPS);
