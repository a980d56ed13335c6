#!/bin/sh
# Least-privilege etcd users and roles for tartan (etcd 3.4+, etcdctl v3).
#
#   tartan-agent       read  <prefix>/config, <prefix>/routes/      read-write <prefix>/subnets/
#   tartan-controller  read  <prefix>/config, <prefix>/subnets/     read-write <prefix>/routes/, <prefix>/controller/
#   tartan-audit       read  <prefix>/config, <prefix>/subnets/, <prefix>/routes/, <prefix>/controller/   (nothing else)
#
# Run once against the cluster as etcd's root (etcdctl reads ETCDCTL_ENDPOINTS,
# ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY, ETCDCTL_USER from the environment):
#
#   PREFIX=/coreos.com/network \
#   AGENT_PASSWORD=… CONTROLLER_PASSWORD=… AUDIT_PASSWORD=… ROOT_PASSWORD=… \
#   ENABLE_AUTH=1 deploy/etcd/roles.sh
#
# Each component then connects with --etcd-username/--etcd-password (or, with etcd's
# --client-cert-auth, a client certificate whose CN is the user name and no password).
# A password left empty creates the user without one: certificate CN only.
# Without ENABLE_AUTH the users and roles are created and auth is left as it is.
# Re-running is safe: existing users/roles are kept and permissions granted again.
set -eu

PREFIX="${PREFIX:-/coreos.com/network}"
PREFIX="${PREFIX%/}"
ETCDCTL="${ETCDCTL:-etcdctl}"
export ETCDCTL_API=3

ctl() { "$ETCDCTL" "$@"; }
# "already exists" is fine on a re-run; any other error stops the script.
ensure() {
  out=$(ctl "$@" 2>&1) || case "$out" in
    *"already exists"*) ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
}
user() { # name password
  if [ -n "$2" ]; then ensure user add "$1:$2"; else ensure user add "$1" --no-password; fi
}

ensure role add tartan-agent
ctl role grant-permission tartan-agent read "$PREFIX/config"
ctl role grant-permission --prefix=true tartan-agent read "$PREFIX/routes/"
ctl role grant-permission --prefix=true tartan-agent readwrite "$PREFIX/subnets/"

ensure role add tartan-controller
ctl role grant-permission tartan-controller read "$PREFIX/config"
ctl role grant-permission --prefix=true tartan-controller read "$PREFIX/subnets/"
ctl role grant-permission --prefix=true tartan-controller readwrite "$PREFIX/routes/"
ctl role grant-permission --prefix=true tartan-controller readwrite "$PREFIX/controller/"

ensure role add tartan-audit
ctl role grant-permission tartan-audit read "$PREFIX/config"
for sub in subnets routes controller; do
  ctl role grant-permission --prefix=true tartan-audit read "$PREFIX/$sub/"
done

for c in agent controller audit; do
  var=$(echo "$c" | tr a-z A-Z)_PASSWORD
  eval "pw=\${$var:-}"
  user "tartan-$c" "$pw"
  ctl user grant-role "tartan-$c" "tartan-$c" >/dev/null
done

if [ "${ENABLE_AUTH:-}" = 1 ]; then
  user root "${ROOT_PASSWORD:-}"
  ensure user grant-role root root
  ctl auth enable
fi
