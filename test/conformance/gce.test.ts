// The route-table conformance suite against the GCE provider, through the real
// @google-cloud/compute client and the compute v1 emulator.
import { GCE_GAPS, gceHarness } from './gce.ts';
import { routeTableConformance } from './route-table.ts';

routeTableConformance('gce', gceHarness, GCE_GAPS);
