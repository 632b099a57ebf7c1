"""What a training step needs besides the model, one concept per module: settings, label-set
sampling, training rows (windows + targets), the loss, the optimizer step, batchers, and the
sizing of a run's schedule."""
