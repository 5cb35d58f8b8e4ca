"""Airflow sensors: wait for the platform to process an uploaded media."""
