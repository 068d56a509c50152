"""Metadata layer: typed mutation records and the stores that apply them."""
