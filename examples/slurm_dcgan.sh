#!/bin/bash
# Train the week 4 DCGAN as a cluster job: several processes on one CPU node, data parallel
# (torchrun + DistributedDataParallel over gloo), checkpointed, and resumed by submitting the
# same script again. See notebooks/week7_scale/week7_scale.ipynb, section 4.
#
#   sbatch examples/slurm_dcgan.sh            # the first part
#   sbatch examples/slurm_dcgan.sh            # again after a stop: it continues
#
# The job's time limit: SLURM sends SIGTERM to every task 120 s before it (--signal); torchrun
# passes it to its processes, which finish the update under way, write OUT/checkpoint.npz and
# stop. The next submission finds the checkpoint and adds --resume.
#SBATCH --job-name=coursekit-dcgan
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --time=04:00:00
#SBATCH --signal=TERM@120
#SBATCH --output=%x-%j.out

set -euo pipefail
NPROC=${NPROC:-4}                                   # processes on the node
export COURSEKIT_THREADS=$(( SLURM_CPUS_PER_TASK / NPROC ))   # threads per process
OUT=${OUT:-$HOME/runs/dcgan}
RESUME=""
if [ -f "$OUT/checkpoint.npz" ]; then RESUME="--resume"; fi

# Several nodes: --nodes=N above, then replace --standalone by
#   --nnodes="$SLURM_NNODES" --rdzv_backend=c10d \
#   --rdzv_endpoint="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1):29500"
srun torchrun --standalone --nproc_per_node="$NPROC" -m coursekit.train gan \
    --updates 20000 --batch 256 --checkpoint-every 500 --log-every 500 --quiet \
    --out "$OUT" $RESUME
