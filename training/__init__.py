"""Training and the ablation study for every VDSR variant."""
