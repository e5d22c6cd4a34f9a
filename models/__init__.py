"""Models built on tensorgrad: makemore's BatchNorm MLP (models.makemore)."""
