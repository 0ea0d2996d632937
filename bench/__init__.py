"""Benchmark of the Clarifai integration; run it with scripts/bench."""
