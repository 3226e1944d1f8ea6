"""``promp reproduce metaworld``: ProMP and MAML-TRPO meta-trained on Meta-World ML1 families and meta-tested on their held-out goals."""
