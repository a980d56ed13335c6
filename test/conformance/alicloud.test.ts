// The route-table conformance suite against the Alibaba Cloud provider, through
// the real SDK and the VPC API emulator.
import { ALICLOUD_GAPS, alicloudHarness } from './alicloud.ts';
import { routeTableConformance } from './route-table.ts';

routeTableConformance('alicloud', alicloudHarness, ALICLOUD_GAPS);
