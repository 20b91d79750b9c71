"""Offline replay of the detections, evaluation against expected alerts, and the conf generator."""
