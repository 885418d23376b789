"""Physics-based B-mode simulator of in-plane needle insertions with exact ground truth."""
