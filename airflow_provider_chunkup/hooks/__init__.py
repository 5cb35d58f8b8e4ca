"""Airflow hooks: one per upload API, each turning its connection into a protocol client."""
