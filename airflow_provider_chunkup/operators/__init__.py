"""Airflow operators for chunked uploads."""
