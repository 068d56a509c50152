"""One S3Error subclass per S3 error code; the class name is the code.

Only the error boundary renders these to XML. `extra` carries the additional elements AWS puts
in some errors (BucketName, Key, ActualObjectSize, StringToSign, ...).
"""


class S3Error(Exception):
    status = 400
    message = "Error"

    def __init__(self, message: str | None = None, headers=(), **extra):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.extra = extra
        self.headers = list(headers)      # response headers the error carries

    @property
    def code(self) -> str:
        return type(self).__name__


def _e(name: str, status: int, message: str) -> type:
    return type(name, (S3Error,), {"status": status, "message": message})


AccessDenied = _e("AccessDenied", 403, "Access Denied")
AuthorizationHeaderMalformed = _e("AuthorizationHeaderMalformed", 400,
                                  "The authorization header is malformed.")
AuthorizationQueryParametersError = _e("AuthorizationQueryParametersError", 400,
                                       "Error parsing the X-Amz-Credential parameter.")
BadDigest = _e("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
BucketAlreadyExists = _e("BucketAlreadyExists", 409,
                         "The requested bucket name is not available. The bucket namespace is "
                         "shared by all users of the system. Please select a different name "
                         "and try again.")
BucketAlreadyOwnedByYou = _e("BucketAlreadyOwnedByYou", 409,
                             "Your previous request to create the named bucket succeeded and "
                             "you already own it.")
BucketNotEmpty = _e("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
EntityTooLarge = _e("EntityTooLarge", 400,
                    "Your proposed upload exceeds the maximum allowed size")
EntityTooSmall = _e("EntityTooSmall", 400,
                    "Your proposed upload is smaller than the minimum allowed object size.")
IllegalLocationConstraintException = _e("IllegalLocationConstraintException", 400,
                                        "The unspecified location constraint is incompatible "
                                        "for the region specific endpoint this request was "
                                        "sent to.")
IncompleteBody = _e("IncompleteBody", 400,
                    "You did not provide the number of bytes specified by the Content-Length "
                    "HTTP header.")
InternalError = _e("InternalError", 500,
                   "We encountered an internal error. Please try again.")
InvalidAccessKeyId = _e("InvalidAccessKeyId", 403,
                        "The AWS Access Key Id you provided does not exist in our records.")
InvalidArgument = _e("InvalidArgument", 400, "Invalid Argument")
InvalidBucketState = _e("InvalidBucketState", 409,
                        "The request is not valid with the current state of the bucket.")
InvalidBucketName = _e("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidDigest = _e("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
InvalidLocationConstraint = _e("InvalidLocationConstraint", 400,
                               "The specified location-constraint is not valid")
InvalidPart = _e("InvalidPart", 400,
                 "One or more of the specified parts could not be found.  The part may not "
                 "have been uploaded, or the specified entity tag may not match the part's "
                 "entity tag.")
InvalidPartOrder = _e("InvalidPartOrder", 400,
                      "The list of parts was not in ascending order. Parts must be ordered by "
                      "part number.")
InvalidPolicyDocument = _e("InvalidPolicyDocument", 400,
                           "The content of the form does not meet the conditions specified in "
                           "the policy document.")
IncorrectNumberOfFilesInPostRequest = _e("IncorrectNumberOfFilesInPostRequest", 400,
                                         "POST requires exactly one file upload per request.")
InvalidRange = _e("InvalidRange", 416, "The requested range is not satisfiable")
InvalidRequest = _e("InvalidRequest", 400, "Invalid Request")
InvalidPartNumber = _e("InvalidPartNumber", 416, "The requested partnumber is not satisfiable")
InvalidTag = _e("InvalidTag", 400, "The TagKey you have provided is invalid")
NoSuchTagSet = _e("NoSuchTagSet", 404, "The TagSet does not exist")
NoSuchVersion = _e("NoSuchVersion", 404,
                   "The specified version does not exist.")
InvalidStorageClass = _e("InvalidStorageClass", 400,
                         "The storage class you specified is not valid")
InvalidURI = _e("InvalidURI", 400, "Couldn't parse the specified URI.")
KeyTooLongError = _e("KeyTooLongError", 400, "Your key is too long")
MalformedTrailerError = _e("MalformedTrailerError", 400,
                           "The request contained trailing data that was not well-formed or "
                           "did not conform to our published schema.")
MalformedPOSTRequest = _e("MalformedPOSTRequest", 400,
                          "The body of your POST request is not well-formed "
                          "multipart/form-data.")
MalformedXML = _e("MalformedXML", 400,
                  "The XML you provided was not well-formed or did not validate against our "
                  "published schema")
MaxMessageLengthExceeded = _e("MaxMessageLengthExceeded", 400,
                              "Your request was too big.")
MetadataTooLarge = _e("MetadataTooLarge", 400,
                      "Your metadata headers exceed the maximum allowed metadata size.")
MethodNotAllowed = _e("MethodNotAllowed", 405,
                      "The specified method is not allowed against this resource.")
MissingContentLength = _e("MissingContentLength", 411,
                          "You must provide the Content-Length HTTP header.")
MissingSecurityHeader = _e("MissingSecurityHeader", 400,
                           "Your request was missing a required header.")
NoSuchBucket = _e("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchKey = _e("NoSuchKey", 404, "The specified key does not exist.")
NoSuchUpload = _e("NoSuchUpload", 404,
                  "The specified upload does not exist. The upload ID may be invalid, or the "
                  "upload may have been aborted or completed.")
NotImplemented = _e("NotImplemented", 501,
                    "A header or query you provided implies functionality that is not "
                    "implemented.")
NotModified = _e("NotModified", 304, "Not Modified")
PreconditionFailed = _e("PreconditionFailed", 412,
                        "At least one of the pre-conditions you specified did not hold")
RequestHeaderSectionTooLarge = _e("RequestHeaderSectionTooLarge", 400,
                                  "Your request header section exceeds the maximum allowed "
                                  "size.")
RequestTimeout = _e("RequestTimeout", 400,
                    "Your socket connection to the server was not read from or written to "
                    "within the timeout period.")
RequestTimeTooSkewed = _e("RequestTimeTooSkewed", 403,
                          "The difference between the request time and the current time is "
                          "too large.")
ServiceUnavailable = _e("ServiceUnavailable", 503,
                        "Please reduce your request rate.")
SignatureDoesNotMatch = _e("SignatureDoesNotMatch", 403,
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your key and signing method.")
XAmzContentSHA256Mismatch = _e("XAmzContentSHA256Mismatch", 400,
                               "The provided 'x-amz-content-sha256' header does not match what "
                               "was computed.")


NoSuchObjectLockConfiguration = _e("NoSuchObjectLockConfiguration", 404,
                                   "The specified object does not have a ObjectLock "
                                   "configuration")
ObjectLockConfigurationNotFoundError = _e("ObjectLockConfigurationNotFoundError", 404,
                                          "Object Lock configuration does not exist for this "
                                          "bucket")
NoSuchLifecycleConfiguration = _e("NoSuchLifecycleConfiguration", 404,
                                  "The lifecycle configuration does not exist")
InvalidRetentionPeriod = _e("InvalidRetentionPeriod", 400,
                            "The retention period specified is invalid")
NoSuchCORSConfiguration = _e("NoSuchCORSConfiguration", 404,
                             "The CORS configuration does not exist")
MalformedPolicy = _e("MalformedPolicy", 400, "Policies must be valid JSON and the first byte "
                                             "must be '{'")
NoSuchBucketPolicy = _e("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
NoSuchPublicAccessBlockConfiguration = _e("NoSuchPublicAccessBlockConfiguration", 404,
                                          "The public access block configuration was not "
                                          "found")
# A CORS preflight S3 refuses (no configuration, or no rule matches).
AccessForbidden = _e("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed.")
BadRequest = _e("BadRequest", 400, "Bad Request")
# ACLs and object ownership.
AccessControlListNotSupported = _e("AccessControlListNotSupported", 400,
                                   "The bucket does not allow ACLs")
InvalidBucketAclWithObjectOwnership = _e("InvalidBucketAclWithObjectOwnership", 400,
                                         "Bucket cannot have ACLs set with ObjectOwnership's "
                                         "BucketOwnerEnforced setting")
MalformedACLError = _e("MalformedACLError", 400,
                       "The XML you provided was not well-formed or did not validate against "
                       "our published schema")
UnresolvableGrantByEmailAddress = _e("UnresolvableGrantByEmailAddress", 400,
                                     "The e-mail address you provided does not match any "
                                     "account on record.")
OwnershipControlsNotFoundError = _e("OwnershipControlsNotFoundError", 404,
                                    "The bucket ownership controls were not found")
UnexpectedContent = _e("UnexpectedContent", 400, "This request does not support content")
# Server-side encryption.
ServerSideEncryptionConfigurationNotFoundError = _e(
    "ServerSideEncryptionConfigurationNotFoundError", 404,
    "The server side encryption configuration was not found")
# AWS's code for a KMS key that does not exist carries the KMS's name: not an identifier.
KMS_NotFoundException = _e("KMS.NotFoundException", 400, "Invalid keyId")

# Lifecycle transitions to the cold tier and RestoreObject.
InvalidObjectState = _e("InvalidObjectState", 403,
                        "The operation is not valid for the object's storage class")
RestoreAlreadyInProgress = _e("RestoreAlreadyInProgress", 409,
                              "Object restore is already in progress")

KMS_REQUIRED = ("Server-side encryption with SSE-S3 or SSE-KMS needs a key management "
                "service: the server was started without one (start it with --kms-keyring "
                "FILE or S3ISH_KMS_MASTER_KEY).")

# Domain errors whose S3 code has another name, with the message AWS gives.
_RENAMED = {
    "ObjectLocked": lambda e: AccessDenied("Access Denied because object protected by object "
                                           "lock."),
    "ObjectLockNotEnabled": lambda e: InvalidRequest("Bucket is missing Object Lock "
                                                     "Configuration"),
    "InvalidLockConfiguration": lambda e: MalformedXML(),
    "InvalidRetentionPeriod": lambda e: InvalidArgument(str(e), ArgumentName=e.name,
                                                        ArgumentValue=str(e.value)),
    "InvalidLockMode": lambda e: InvalidArgument("Unknown wormMode directive.",
                                                 ArgumentName="x-amz-object-lock-mode",
                                                 ArgumentValue=str(e)),
    "RetainUntilInPast": lambda e: InvalidArgument(
        "The retain until date must be in the future!",
        ArgumentName="x-amz-object-lock-retain-until-date"),
    "InvalidBucketState": lambda e: InvalidBucketState(str(e) or None),
    # Only a write no route refused reaches the store of a read-only follower (the
    # frontend refuses every mutating route itself, with the same answer).
    "ReadOnlyFollower": lambda e: AccessDenied(str(e)),
    "PartChecksumMissing": lambda e: InvalidRequest(str(e)),
    # Server-side encryption (engine/sse.py), with AWS's messages.
    "KmsNotConfigured": lambda e: NotImplemented(KMS_REQUIRED),
    "KmsKeyNotFound": lambda e: KMS_NotFoundException(f"Invalid keyId {e}"),
    "BucketKeyNotApplicable": lambda e: InvalidArgument(
        "The x-amz-server-side-encryption-bucket-key-enabled header is only supported with "
        "aws:kms.", ArgumentName="x-amz-server-side-encryption-bucket-key-enabled",
        ArgumentValue="true"),
    "SseCustomerKeyRequired": lambda e: InvalidRequest(
        "The object was stored using a form of Server Side Encryption. The correct "
        "parameters must be provided to retrieve the object."),
    "SseNotApplicable": lambda e: InvalidRequest(
        "The encryption parameters are not applicable to this object."),
    "SseCustomerKeyMismatch": lambda e: AccessDenied(),
    "SseUploadKeyRequired": lambda e: InvalidRequest(
        "The multipart upload initiate requested encryption. Subsequent part requests must "
        "include the appropriate encryption parameters."),
    "SseUploadKeyMismatch": lambda e: InvalidArgument(
        "The provided encryption parameters did not match the ones used originally."),
    # The cold tier (engine/cold.py, engine/tiering.py): a tier that does not answer is
    # retryable; its detail is logged, not sent.
    "InvalidObjectState": lambda e: InvalidObjectState(
        "Restore is not allowed for the object's current storage class"),
    "TierUnavailable": lambda e: ServiceUnavailable(),
    "TierNotConfigured": lambda e: ServiceUnavailable(),
    "InvalidRestoreDays": lambda e: InvalidArgument(
        "Days must be a positive integer", ArgumentName="Days", ArgumentValue=str(e)),
    "InvalidTag": lambda e: InvalidTag(str(e) or None,
                                       **({"TagKey": e.tag_key} if e.tag_key else {})),
    "InvalidVersionId": lambda e: InvalidArgument("Invalid version id specified",
                                                  ArgumentName="versionId",
                                                  ArgumentValue=str(e)),
    # A lifecycle configuration S3 refuses: the code (MalformedXML, InvalidArgument,
    # InvalidRequest) and message are the engine's.
    "LifecycleConfigError": lambda e: globals()[e.code](
        e.message, **({"ArgumentName": e.argument} if e.argument else {}),
        **({"ArgumentValue": e.value} if e.value is not None else {})),
    "CorsConfigError": lambda e: globals()[e.code](
        e.message or None, **({"ArgumentName": e.argument, "ArgumentValue": e.value}
                              if e.argument else {})),
    # A GET/HEAD (or sub-resource) of a delete marker: 404 for the current version, 405 when
    # it was named by its id; both say so in headers.
    "DeleteMarker": lambda e: (NoSuchKey if e.current else MethodNotAllowed)(
        headers=[("x-amz-delete-marker", "true"), ("x-amz-version-id", e.version_id)]),
}


def from_domain(exc: Exception) -> S3Error | None:
    """The S3Error for a domain error of the engine or store (same class name), if any."""
    renamed = _RENAMED.get(type(exc).__name__)
    if renamed is not None:
        return renamed(exc)
    cls = globals().get(type(exc).__name__)
    if isinstance(cls, type) and issubclass(cls, S3Error):
        return cls()
    return None
