#!/usr/bin/env bash
# Installs what tartan's tests, demo and bench need on Debian/Ubuntu (as root):
# etcd, iproute2, nftables, ping, iperf3, curl, openssl, kubectl, a C toolchain, the
# CNI plugins, docker.io, iptables and busybox-static from the distro, then `npm ci`.
# Used by both the README quick start and CI (.ci/run), so they cannot drift.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v curl >/dev/null 2>&1 || need+=(curl)
# TLS tests (etcd mTLS) and the kube-apiserver emulator make certificates with openssl;
# the emulator is checked with kubectl, a second real client.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
# The udp backend's TUN addon is built by node-gyp at `npm ci` (optional: without a
# compiler the other backends still install and run).
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# Pods in the CNI tests get their network from Debian's real plugins (bridge, host-local,
# portmap, loopback in /usr/lib/cni), called through tartan's CNI plugin.
command -v /usr/lib/cni/bridge >/dev/null 2>&1 || need+=(containernetworking-plugins)
# Docker hosts (test/e2e/docker.test.ts, npm run demo -- --docker): Debian's dockerd (it
# brings iptables, which the agent's --iptables-forward-rules drive) and a static busybox
# imported as the containers' image, offline.
command -v /usr/sbin/dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v iptables-restore >/dev/null 2>&1 || need+=(iptables)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The etcd-server package must not start a system etcd: tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.tartan
  if [ ! -e /usr/sbin/policy-rc.d ]; then cp /usr/sbin/policy-rc.d.tartan /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; added_policy=1; fi
  apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [ "${added_policy:-0}" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  rm -f /usr/sbin/policy-rc.d.tartan
fi

# node_modules/.bin/node (the node@24 package) runs every npm script.
npm ci --no-audit --no-fund
