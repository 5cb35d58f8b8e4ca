"""Upload protocols: one module per API, pure httpx, no Airflow import."""

from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import ChunkPlan, Limits, Segment, plan_chunks
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
)
from airflow_provider_chunkup.protocols.transfer import send_segments, upload

__all__ = [
    "Capabilities",
    "ChunkPlan",
    "Limits",
    "ProcessingStatus",
    "RetryPolicy",
    "Segment",
    "UploadProtocol",
    "UploadResult",
    "UploadSession",
    "UploadSpec",
    "plan_chunks",
    "send_segments",
    "upload",
]
