import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Bucket(_message.Message):
    __slots__ = ("name", "create_time", "region", "versioning")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    VERSIONING_FIELD_NUMBER: _ClassVar[int]
    name: str
    create_time: _timestamp_pb2.Timestamp
    region: str
    versioning: str
    def __init__(self, name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ..., versioning: _Optional[str] = ...) -> None: ...

class CreateBucketRequest(_message.Message):
    __slots__ = ("bucket", "object_lock_enabled")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    OBJECT_LOCK_ENABLED_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    object_lock_enabled: bool
    def __init__(self, bucket: _Optional[str] = ..., object_lock_enabled: _Optional[bool] = ...) -> None: ...

class DeleteBucketRequest(_message.Message):
    __slots__ = ("bucket",)
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    def __init__(self, bucket: _Optional[str] = ...) -> None: ...

class DeleteBucketResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBucketsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBucketsResponse(_message.Message):
    __slots__ = ("buckets",)
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[Bucket]
    def __init__(self, buckets: _Optional[_Iterable[_Union[Bucket, _Mapping]]] = ...) -> None: ...

class ObjectChecksums(_message.Message):
    __slots__ = ("crc32c", "md5_hash", "s3_algorithm", "s3_value", "s3_type")
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    MD5_HASH_FIELD_NUMBER: _ClassVar[int]
    S3_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    S3_VALUE_FIELD_NUMBER: _ClassVar[int]
    S3_TYPE_FIELD_NUMBER: _ClassVar[int]
    crc32c: int
    md5_hash: bytes
    s3_algorithm: str
    s3_value: str
    s3_type: str
    def __init__(self, crc32c: _Optional[int] = ..., md5_hash: _Optional[bytes] = ..., s3_algorithm: _Optional[str] = ..., s3_value: _Optional[str] = ..., s3_type: _Optional[str] = ...) -> None: ...

class Object(_message.Message):
    __slots__ = ("bucket", "key", "version_id", "size", "etag", "content_type", "metadata", "last_modified", "checksums", "storage_class", "delete_marker", "is_latest")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    CHECKSUMS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_FIELD_NUMBER: _ClassVar[int]
    DELETE_MARKER_FIELD_NUMBER: _ClassVar[int]
    IS_LATEST_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    version_id: str
    size: int
    etag: str
    content_type: str
    metadata: _containers.ScalarMap[str, str]
    last_modified: _timestamp_pb2.Timestamp
    checksums: ObjectChecksums
    storage_class: str
    delete_marker: bool
    is_latest: bool
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., size: _Optional[int] = ..., etag: _Optional[str] = ..., content_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., last_modified: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., checksums: _Optional[_Union[ObjectChecksums, _Mapping]] = ..., storage_class: _Optional[str] = ..., delete_marker: _Optional[bool] = ..., is_latest: _Optional[bool] = ...) -> None: ...

class ChecksummedData(_message.Message):
    __slots__ = ("content", "crc32c")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    crc32c: int
    def __init__(self, content: _Optional[bytes] = ..., crc32c: _Optional[int] = ...) -> None: ...

class ContentRange(_message.Message):
    __slots__ = ("start", "end", "complete_length")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    complete_length: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., complete_length: _Optional[int] = ...) -> None: ...

class ReadObjectRequest(_message.Message):
    __slots__ = ("bucket", "key", "version_id", "read_offset", "read_limit")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    READ_OFFSET_FIELD_NUMBER: _ClassVar[int]
    READ_LIMIT_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    version_id: str
    read_offset: int
    read_limit: int
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., read_offset: _Optional[int] = ..., read_limit: _Optional[int] = ...) -> None: ...

class ReadObjectResponse(_message.Message):
    __slots__ = ("checksummed_data", "metadata", "content_range")
    CHECKSUMMED_DATA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_RANGE_FIELD_NUMBER: _ClassVar[int]
    checksummed_data: ChecksummedData
    metadata: Object
    content_range: ContentRange
    def __init__(self, checksummed_data: _Optional[_Union[ChecksummedData, _Mapping]] = ..., metadata: _Optional[_Union[Object, _Mapping]] = ..., content_range: _Optional[_Union[ContentRange, _Mapping]] = ...) -> None: ...

class WriteObjectSpec(_message.Message):
    __slots__ = ("bucket", "key", "content_type", "metadata", "if_not_exists")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IF_NOT_EXISTS_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    content_type: str
    metadata: _containers.ScalarMap[str, str]
    if_not_exists: bool
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., content_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., if_not_exists: _Optional[bool] = ...) -> None: ...

class WriteObjectRequest(_message.Message):
    __slots__ = ("upload_id", "write_object_spec", "write_offset", "checksummed_data", "object_checksums", "finish_write")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    WRITE_OBJECT_SPEC_FIELD_NUMBER: _ClassVar[int]
    WRITE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CHECKSUMMED_DATA_FIELD_NUMBER: _ClassVar[int]
    OBJECT_CHECKSUMS_FIELD_NUMBER: _ClassVar[int]
    FINISH_WRITE_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    write_object_spec: WriteObjectSpec
    write_offset: int
    checksummed_data: ChecksummedData
    object_checksums: ObjectChecksums
    finish_write: bool
    def __init__(self, upload_id: _Optional[str] = ..., write_object_spec: _Optional[_Union[WriteObjectSpec, _Mapping]] = ..., write_offset: _Optional[int] = ..., checksummed_data: _Optional[_Union[ChecksummedData, _Mapping]] = ..., object_checksums: _Optional[_Union[ObjectChecksums, _Mapping]] = ..., finish_write: _Optional[bool] = ...) -> None: ...

class WriteObjectResponse(_message.Message):
    __slots__ = ("persisted_size", "resource")
    PERSISTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    persisted_size: int
    resource: Object
    def __init__(self, persisted_size: _Optional[int] = ..., resource: _Optional[_Union[Object, _Mapping]] = ...) -> None: ...

class StartResumableWriteRequest(_message.Message):
    __slots__ = ("write_object_spec",)
    WRITE_OBJECT_SPEC_FIELD_NUMBER: _ClassVar[int]
    write_object_spec: WriteObjectSpec
    def __init__(self, write_object_spec: _Optional[_Union[WriteObjectSpec, _Mapping]] = ...) -> None: ...

class StartResumableWriteResponse(_message.Message):
    __slots__ = ("upload_id",)
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ...) -> None: ...

class QueryWriteStatusRequest(_message.Message):
    __slots__ = ("upload_id",)
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ...) -> None: ...

class QueryWriteStatusResponse(_message.Message):
    __slots__ = ("persisted_size",)
    PERSISTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    persisted_size: int
    def __init__(self, persisted_size: _Optional[int] = ...) -> None: ...

class CancelResumableWriteRequest(_message.Message):
    __slots__ = ("upload_id",)
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ...) -> None: ...

class CancelResumableWriteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HeadObjectRequest(_message.Message):
    __slots__ = ("bucket", "key", "version_id")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    version_id: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class DeleteObjectRequest(_message.Message):
    __slots__ = ("bucket", "key", "version_id")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    version_id: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class DeleteObjectResponse(_message.Message):
    __slots__ = ("version_id", "delete_marker")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    DELETE_MARKER_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    delete_marker: bool
    def __init__(self, version_id: _Optional[str] = ..., delete_marker: _Optional[bool] = ...) -> None: ...

class ListObjectsRequest(_message.Message):
    __slots__ = ("bucket", "prefix", "delimiter", "page_token", "max_results", "versions")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    prefix: str
    delimiter: str
    page_token: str
    max_results: int
    versions: bool
    def __init__(self, bucket: _Optional[str] = ..., prefix: _Optional[str] = ..., delimiter: _Optional[str] = ..., page_token: _Optional[str] = ..., max_results: _Optional[int] = ..., versions: _Optional[bool] = ...) -> None: ...

class ListObjectsResponse(_message.Message):
    __slots__ = ("objects", "prefixes", "next_page_token")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    PREFIXES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    objects: _containers.RepeatedCompositeFieldContainer[Object]
    prefixes: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, objects: _Optional[_Iterable[_Union[Object, _Mapping]]] = ..., prefixes: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CopyObjectRequest(_message.Message):
    __slots__ = ("destination_bucket", "destination_key", "source_bucket", "source_key", "source_version_id", "replace_metadata", "content_type", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DESTINATION_BUCKET_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_KEY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_BUCKET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACE_METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    destination_bucket: str
    destination_key: str
    source_bucket: str
    source_key: str
    source_version_id: str
    replace_metadata: bool
    content_type: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, destination_bucket: _Optional[str] = ..., destination_key: _Optional[str] = ..., source_bucket: _Optional[str] = ..., source_key: _Optional[str] = ..., source_version_id: _Optional[str] = ..., replace_metadata: _Optional[bool] = ..., content_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
