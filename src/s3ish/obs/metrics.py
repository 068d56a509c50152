"""Every metric s3ish exports, declared in one place with its help text.

Workers are separate processes: prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by the supervisor before workers start) sums their values at scrape time. Gauges say how
they combine across processes.
"""
import os
import time

from prometheus_client import Counter, Gauge, Histogram

_LATENCY = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("s3ish_requests_total", "S3 requests by operation and status class",
                   ["operation", "status_class"])
ERRORS = Counter("s3ish_request_errors_total", "S3 error responses by operation and S3 code",
                 ["operation", "code"])
LATENCY = Histogram("s3ish_request_duration_seconds",
                    "Time from request start to the last response byte, by operation",
                    ["operation"], buckets=_LATENCY)
BYTES_IN = Counter("s3ish_received_bytes_total", "Request body bytes received, by operation",
                   ["operation"])
BYTES_OUT = Counter("s3ish_sent_bytes_total", "Response body bytes sent, by operation",
                    ["operation"])
IN_FLIGHT = Gauge("s3ish_requests_in_flight", "Requests being served now",
                  multiprocess_mode="livesum")
LOOP_LAG = Histogram("s3ish_event_loop_lag_seconds",
                     "How late the event loop runs a timer (blocked loop = high lag)",
                     buckets=(.001, .005, .01, .025, .05, .1, .25, .5, 1, 5))
IO_QUEUE = Gauge("s3ish_io_pool_queue_depth",
                 "Blocking jobs (disk, fsync, hashing) waiting for an I/O pool thread",
                 multiprocess_mode="livesum")
META_LATENCY = Histogram("s3ish_meta_duration_seconds",
                         "Metadata store call latency (including queueing), by kind",
                         ["kind"], buckets=_LATENCY)
PROCESS_RSS = Gauge("s3ish_process_resident_memory_bytes", "Resident memory per process",
                    multiprocess_mode="all")
PROCESS_CPU = Gauge("s3ish_process_cpu_seconds", "CPU time used per process",
                    multiprocess_mode="all")
PROCESS_FDS = Gauge("s3ish_process_open_fds", "Open file descriptors per process",
                    multiprocess_mode="all")
SCRUB_BYTES = Counter("s3ish_scrub_verified_bytes_total",
                      "Shard bytes whose bitrot hashes the scrubber verified")
CORRUPTIONS = Counter("s3ish_corrupt_shards_total",
                      "Missing or corrupt shards found (by reads or the scrubber)")
COMPRESSION_INPUT = Counter("s3ish_compression_input_bytes_total",
                            "Client bytes written into compressed data units")
COMPRESSION_STORED = Counter("s3ish_compression_stored_bytes_total",
                             "Bytes those compressed data units take on storage (with their "
                             "block index): input minus stored is what compression saved")
KMS_RESEALED = Counter("s3ish_kms_resealed_keys_total",
                       "Data keys re-sealed under their KMS key's newest version by a reseal "
                       "pass (s3ish admin kms reseal)")
HEAL_REPAIRED = Counter("s3ish_healed_shards_total", "Shards rewritten by the healer")
HEAL_QUEUE = Gauge("s3ish_heal_queue_depth", "Data units waiting to be healed",
                   multiprocess_mode="livesum")
DRIVE_STATE = Gauge("s3ish_drive_ok", "1 if a drive is in service, 0 if not", ["drive"],
                    multiprocess_mode="mostrecent")
DRIVE_ERRORS = Gauge("s3ish_drive_errors", "I/O errors seen on a drive", ["drive"],
                     multiprocess_mode="max")
LIFECYCLE_EXPIRED = Counter("s3ish_lifecycle_expired_total",
                            "Versions removed or delete markers added by lifecycle rules, and "
                            "uploads aborted, by kind (current, noncurrent, delete_marker, "
                            "upload)", ["kind"])
LIFECYCLE_DUE = Gauge("s3ish_lifecycle_due", "Keys and uploads whose lifecycle action is due "
                      "and not yet carried out", multiprocess_mode="max")
LIFECYCLE_LAG = Gauge("s3ish_lifecycle_lag_seconds", "How long the oldest due lifecycle "
                      "action has waited", multiprocess_mode="max")
JOURNAL_BYTES = Gauge("s3ish_journal_bytes", "Bytes of the local metadata journal (the largest "
                      "copy among the drives)", multiprocess_mode="mostrecent")
CHECKPOINTS = Counter("s3ish_checkpoints_total",
                      "Checkpoints of the metadata index taken while serving")
CHECKPOINT_LSN = Gauge("s3ish_checkpoint_lsn", "Position (LSN) of the newest checkpoint",
                       multiprocess_mode="max")
# The cold tier (docs/tier.md): the keys of `s3ish admin tier status`, set by the process that
# ships (on a follower: the process that follows, with the meanings docs/tier.md gives).
TIER_LOG_END = Gauge("s3ish_tier_log_end_lsn", "Position of the last record in the local log",
                     multiprocess_mode="mostrecent")
TIER_APPLIED = Gauge("s3ish_tier_applied_lsn", "Position the local index has applied",
                     multiprocess_mode="mostrecent")
TIER_HWM = Gauge("s3ish_tier_s3_hwm", "S3 high-water mark: the last record safely in the cold "
                 "tier, with every data unit it needs", multiprocess_mode="mostrecent")
TIER_LAG_RECORDS = Gauge("s3ish_tier_lag_records", "Records (positions) not yet in the cold tier",
                         multiprocess_mode="mostrecent")
TIER_LAG_BYTES = Gauge("s3ish_tier_lag_bytes", "Journal bytes not yet in the cold tier",
                       multiprocess_mode="mostrecent")
TIER_LAG_SECONDS = Gauge("s3ish_tier_lag_seconds", "Age of the oldest record not yet in the "
                         "cold tier", multiprocess_mode="mostrecent")
TIER_PENDING = Gauge("s3ish_tier_pending_uploads", "Segments and data units waiting to be "
                     "uploaded", multiprocess_mode="mostrecent")
TIER_FAILING = Gauge("s3ish_tier_failing_uploads", "Uploads whose last attempt failed (being "
                     "retried)", multiprocess_mode="mostrecent")
TIER_UPLOADED = Counter("s3ish_tier_uploaded_bytes_total", "Bytes uploaded to the cold tier, "
                        "by kind (segment, data, checkpoint, manifest)", ["kind"])
TIER_ERRORS = Counter("s3ish_tier_remote_errors_total", "Failed cold tier operations (each "
                      "is retried), by kind", ["kind"])
TIER_DOWNLOADED = Counter("s3ish_tier_downloaded_bytes_total", "Bytes a follower downloaded "
                          "from the cold tier, by kind (segment, data)", ["kind"])
TIER_APPLIED_RECORDS = Counter("s3ish_tier_applied_records_total", "Records a follower "
                               "applied from the cold tier")
TIER_FOLLOW_STOPPED = Gauge("s3ish_tier_follow_stopped", "1 when a follower stopped following "
                            "for good (the tier's timeline left it: it needs a fresh "
                            "bootstrap)", multiprocess_mode="max")
TIER_GRAVEYARD = Gauge("s3ish_tier_graveyard_units", "Freed data units kept until the cold "
                       "tier holds what they are needed for", multiprocess_mode="mostrecent")
# Lifecycle transitions to the cold tier, read-through and RestoreObject (docs/tier.md).
TIER_TRANSITIONS = Counter("s3ish_tier_transitions_total", "Versions whose data moved to the "
                           "cold tier, by kind (current, noncurrent)", ["kind"])
TIER_TRANSITION_BYTES = Counter("s3ish_tier_transition_bytes_total", "Stored bytes of data "
                                "units uploaded by transitions (units the shipper had "
                                "uploaded are not counted)")
TIER_READS = Counter("s3ish_tier_reads_total", "Ranged reads of data units in the cold tier "
                     "(read-through), by outcome (ok, error)", ["outcome"])
TIER_READ_BYTES = Counter("s3ish_tier_read_bytes_total", "Bytes read from the cold tier by "
                          "read-through")
TIER_RESTORES = Counter("s3ish_tier_restores_total", "RestoreObject copies, by event "
                        "(completed, expired)", ["event"])
BUILD = Gauge("s3ish_up", "1 while a worker process is serving", multiprocess_mode="livesum")


class BucketStatsCollector:
    """s3ish_bucket_objects / s3ish_bucket_bytes from counters the metadata store keeps in
    the same transactions that change objects: a scrape reads one row per bucket, no scan."""

    def __init__(self, stats: list[tuple[str, int, int]]):
        self.stats = stats

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        objects = GaugeMetricFamily("s3ish_bucket_objects", "Objects stored per bucket",
                                    labels=["bucket"])
        size = GaugeMetricFamily("s3ish_bucket_bytes", "Bytes stored per bucket (object sizes)",
                                 labels=["bucket"])
        for bucket, n, nbytes in self.stats:
            objects.add_metric([bucket], n)
            size.add_metric([bucket], nbytes)
        yield objects
        yield size


def render(stats: list[tuple[str, int, int]]) -> tuple[bytes, str]:
    """The exposition text for a scrape: every worker's metrics plus the bucket stats."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(BucketStatsCollector(stats))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class MetaTimer:
    """Context manager timing one metadata store call."""
    __slots__ = ("kind", "t0")

    def __init__(self, kind: str):
        self.kind = kind

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        META_LATENCY.labels(self.kind).observe(time.perf_counter() - self.t0)


def sample_process() -> None:
    """Refresh this process's gauges (called periodically by each worker)."""
    PROCESS_CPU.set(time.process_time())
    try:
        with open("/proc/self/statm") as f:
            PROCESS_RSS.set(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        PROCESS_FDS.set(len(os.listdir("/proc/self/fd")))
    except OSError:
        pass
