#!/usr/bin/env bash
# Installs and starts the real peers the test suite talks to, when they are missing.
# Needs root for apt-get; without root it only reports what is missing (those tests then skip).
set -u

need_pkgs=()
command -v sipp >/dev/null 2>&1 || need_pkgs+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need_pkgs+=(baresip)
command -v softhsm2-util >/dev/null 2>&1 || need_pkgs+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || need_pkgs+=(opensc)
command -v espeak-ng >/dev/null 2>&1 || need_pkgs+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need_pkgs+=(sox)
command -v socat >/dev/null 2>&1 || need_pkgs+=(socat)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_pkgs+=(mariadb-server)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test-setup: installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
      || echo "test-setup: apt-get failed; tests needing ${need_pkgs[*]} will skip"
  else
    echo "test-setup: not root, cannot install ${need_pkgs[*]}; those tests will skip"
  fi
fi

# MariaDB for the production-database tests: start it when it is installed but down.
if [ -x /usr/sbin/mariadbd ] && ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
exit 0
