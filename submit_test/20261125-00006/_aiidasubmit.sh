#!/bin/bash
#SBATCH --no-requeue
#SBATCH --job-name="aiida-None"
#SBATCH --get-user-env
#SBATCH --output=_scheduler-stdout.txt
#SBATCH --error=_scheduler-stderr.txt
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:1

'/opt/pace/bin/pacemaker' 'input.yaml'  > 'pacemaker.out'
