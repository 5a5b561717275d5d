/** The help lines of `ictorch reproduce`, shown by `ictorch --help` (no imports, so help works without the addon). */
export const REPRODUCE_HELP = `  reproduce [options]  the paper's experiment grid: one run per cell, resumable, then report.md/.csv and plots
      --table cifar|imagenet  cifar (default): ResNet/ResNet-B 110/164 x 4 layouts on CIFAR-10/100;
                              imagenet: ResNet-18/50, baseline vs relu-ic-conv, on ILSVRC2012
      --datasets LIST         cifar10,cifar100 (default) | synthetic (a check, no published figure) | imagenet
      --models LIST --depths LIST --layouts LIST --seeds K    the slice of the grid to run (seeds 0..K-1)
      --data-root DIR         holds cifar-10-batches-bin/ | cifar10/ | cifar10-jpg/, cifar-100-binary/ | cifar100/ |
                              cifar100-jpg/, ILSVRC2012/ | imagenet/ (train/, val/)
      --out DIR               one run directory per cell, report.md/.csv, curves-*.svg/png (runs/reproduce-<table>)
      --baseline-warmup-epochs N   linear lr warm-up for the 110/164-layer baselines (He et al.; default 0)
      --dry-run               print the plan with the published figures and a time estimate; train nothing
      --estimate-steps N      training steps timed per network for the estimate (default 2; 0: no estimate)
      the training flags of \`train\` (--epochs, --batch-size, --lr, --device, --limit-per-class, ...) apply to every cell
      --nproc-per-node N (--nnodes ...)   as for train: every cell trains data parallel over N processes
      --json                  last line of stdout: {cells, groups, report} (or the plan with --dry-run)`;

