// The lab: a cluster of hosts and pods in network namespaces (see lab.ts).
export { type Lab, type LabHost, type LabOptions, type LabOutside, type LabPod, createLab } from './lab.ts';
export { nsExec } from './netns.ts';
export { type MatrixCell, type PingResult, failures, ping, pingMatrix, pingStream } from './ping.ts';
export { fdbs, link, neighs, routeTo, routes, watchKernel } from './inspect.ts';
export { type LabCluster, type LabNode, labNetworkConfig, leaseFor, startCluster } from './tartan.ts';
export { peerAddressSeenBy, startPeerAddressServer } from './tcp.ts';
