#!/usr/bin/env bash
# What the tests run beside the Python packages, from Debian's packages: an OpenSSH server and
# a one-node SLURM cluster with munge (tests/test_remote.py), Quantum ESPRESSO's pw.x with
# the pseudopotentials of quantum-espresso-data (tests/test_dft_training_sets.py), and
# PostgreSQL + RabbitMQ for the production profile (tests/test_production.py; started by the
# tests from a temporary folder, never as system services). Needs root
# and apt-get; elsewhere it says so and does nothing (the tests then skip with that reason).
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "install_services: not root on a Debian-like system; SSH/SLURM and pw.x tests will be skipped" >&2
    exit 0
fi
missing=()
for program in sshd slurmctld slurmd munged; do
    command -v "$program" > /dev/null || [ -x "/usr/sbin/$program" ] || missing+=("$program")
done
packages=()
[ ${#missing[@]} -eq 0 ] || packages+=(openssh-server slurm-wlm munge)
command -v pw.x > /dev/null || packages+=(quantum-espresso)
ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1 || packages+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || packages+=(rabbitmq-server)
[ -f /usr/share/espresso/pseudo/Si.pbe-rrkj.UPF ] || packages+=(quantum-espresso-data)
if [ ${#packages[@]} -eq 0 ]; then
    echo "install_services: openssh-server, slurm-wlm, munge, quantum-espresso(-data), postgresql, rabbitmq-server are installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
apt-get clean
echo "install_services: installed ${packages[*]}"
