// The lab: a cluster of hosts and pods in network namespaces (see lab.ts).
export { type Lab, type LabHost, type LabOptions, type LabOutside, type LabPod, createLab } from './lab.ts';
export { nsExec } from './netns.ts';
export { type MatrixCell, type PingResult, type SequenceResult, failures, ping, pingMatrix, pingSequence, pingStream } from './ping.ts';
export { fdbs, link, neighs, routeTo, routes, watchKernel } from './inspect.ts';
export { type LabCluster, type LabNode, labNetworkConfig, leaseFor, startCluster } from './tartan.ts';
export { peerAddressSeenBy, startPeerAddressServer } from './tcp.ts';
export { type HostKind, type HybridHost, type HybridLab, type HybridLabOptions, createHybridLab, subnetAddress } from './hybrid.ts';
export { type LabVpc, VPC_ROUTE_PROTO, startLabVpc } from './vpc.ts';
export { type HybridCluster, startHybridCluster, waitFor } from './hybrid-cluster.ts';
export { type PairPath, type PathKind, observePaths, pathLines, pathTable, shortName } from './hybrid-paths.ts';
export { type HybridWorld, type HybridWorldOptions, startHybridWorld } from './hybrid-world.ts';
export { type KernelEvent, type KernelTimeline, kernelTimeline } from './timeline.ts';
