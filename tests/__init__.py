"""Tests of the Clarifai integration and its API emulator."""
