"""HTTP service and batch scoring for the champion model."""
