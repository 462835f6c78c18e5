"""One module per model family: each registers the builds (task × runtime) it can load."""
