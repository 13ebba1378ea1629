"""Metrics, text report and plots of a fit, written once and used by all potential types."""
