#!/usr/bin/env bash
# The services of the remote-execution tests (tests/test_remote.py): an OpenSSH server and a
# one-node SLURM cluster with munge, from Debian's packages. Needs root and apt-get; elsewhere
# it says so and does nothing (the tests then skip with that reason).
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "install_services: not root on a Debian-like system; SSH/SLURM tests will be skipped" >&2
    exit 0
fi
missing=()
for program in sshd slurmctld slurmd munged; do
    command -v "$program" > /dev/null || [ -x "/usr/sbin/$program" ] || missing+=("$program")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install_services: openssh-server, slurm-wlm and munge are installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openssh-server slurm-wlm munge > /dev/null
echo "install_services: installed openssh-server, slurm-wlm, munge"
