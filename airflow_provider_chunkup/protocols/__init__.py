"""Upload protocols: one module per API, pure httpx, no Airflow import."""

from airflow_provider_chunkup.protocols.base import Capabilities, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import (
    ChunkPlan,
    Limits,
    Plan,
    Segment,
    SegmentPlan,
    WindowPlan,
    plan_chunks,
    plan_floor_merged,
    plan_from_parts,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
)
from airflow_provider_chunkup.protocols.transfer import send_segments, send_windows, upload

__all__ = [
    "Capabilities",
    "ChunkPlan",
    "Limits",
    "Plan",
    "ProcessingStatus",
    "RetryPolicy",
    "Segment",
    "SegmentPlan",
    "UploadProtocol",
    "UploadResult",
    "UploadSession",
    "UploadSpec",
    "WindowPlan",
    "plan_chunks",
    "plan_floor_merged",
    "plan_from_parts",
    "send_segments",
    "send_windows",
    "upload",
]
