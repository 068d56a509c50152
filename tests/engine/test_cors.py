"""CORS with no HTTP: validation of a configuration, which rule matches a request, the
headers S3 answers with, and the configuration kept in the bucket record (store, journal)."""
import asyncio

import pytest

from s3ish.engine import cors
from s3ish.engine.objects import Engine
from s3ish.meta import journal, records as r
from s3ish.meta.bucketconf import CorsRule
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import MemoryDataStore


def rule(methods=("GET",), origins=("*",), **kw) -> CorsRule:
    return CorsRule(list(methods), list(origins), **kw)


@pytest.mark.parametrize("rules, code, message", [
    ([], "MalformedXML", ""),
    ([rule()] * 101, "MalformedXML", ""),
    ([rule(methods=())], "MalformedXML", ""),
    ([rule(origins=())], "MalformedXML", ""),
    ([rule(id="i" * 256)], "InvalidArgument", "ID length should not exceed allowed limit of 255"),
    ([rule(methods=("GET", "OPTIONS"))], "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"),
    ([rule(origins=("http://*.a.*",))], "InvalidRequest",
     'AllowedOrigin "http://*.a.*" can not have more than one wildcard.'),
    ([rule(allowed_headers=["**"])], "InvalidRequest",
     'AllowedHeader "**" can not have more than one wildcard.'),
    ([rule(expose_headers=["x-*"])], "InvalidRequest",
     'ExposeHeader "x-*" contains wildcard. We currently do not support wildcard for '
     "ExposeHeader."),
])
def test_validate_refuses(rules, code, message):
    with pytest.raises(cors.CorsConfigError) as e:
        cors.validate(rules)
    assert (e.value.code, e.value.message) == (code, message)


def test_validate_accepts_the_limits():
    rules = [rule(methods=cors.METHODS, origins=("*", "http://*.x", "a"),
                  allowed_headers=["*", "x-amz-*"], expose_headers=["ETag"], id="i" * 255)] * 100
    assert cors.validate(rules) is rules


@pytest.mark.parametrize("origin, matched", [
    ("foo.suffix", True), ("suffix", True), ("foo.suffix.get", False),
    ("startend", True), ("start12end", True), ("0start12end", False),
    ("prefix", True), ("prefix.suffix", True), ("bla.prefix", False), ("Prefix", False),
])
def test_origin_wildcards(origin, matched):
    rules = [rule(origins=["*suffix"]), rule(origins=["start*end"]), rule(origins=["prefix*"])]
    assert (cors.find_rule(rules, origin, "GET") is not None) == matched


def test_first_matching_rule_wins_and_method_and_headers_count():
    rules = [rule(methods=["PUT"], origins=["https://a"], allowed_headers=["Content-*"],
                  id="put"),
             rule(methods=["PUT", "GET"], origins=["*"], id="any")]
    assert cors.find_rule(rules, "https://a", "PUT", ["content-type"]).rule.id == "put"
    # A header the first rule does not allow: the next rule (no headers allowed) fails too.
    assert cors.find_rule(rules, "https://a", "PUT", ["x-amz-date"]) is None
    assert cors.find_rule(rules, "https://a", "PUT").rule.id == "put"
    assert cors.find_rule(rules, "https://b", "PUT").rule.id == "any"
    assert cors.find_rule(rules, "https://b", "DELETE") is None
    assert cors.request_headers(" Content-Type ,X-Amz-Date,, ") == ["content-type",
                                                                    "x-amz-date"]


def test_response_headers():
    specific = cors.CorsMatch(rule(methods=["GET", "PUT"], origins=["https://*"],
                                   expose_headers=["ETag", "x-amz-meta-a"],
                                   max_age_seconds=0), wildcard=False)
    assert cors.response_headers(specific, "https://a", ["content-type"]) == [
        ("Access-Control-Allow-Origin", "https://a"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Headers", "content-type"),
        ("Access-Control-Expose-Headers", "ETag, x-amz-meta-a"),
        ("Access-Control-Max-Age", "0"),
        ("Vary", cors.VARY)]
    anyone = cors.CorsMatch(rule(), wildcard=True)
    assert cors.response_headers(anyone, "https://a") == [
        ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET"),
        ("Vary", cors.VARY)]


def test_configuration_is_kept_in_the_bucket(tmp_path):
    rules = [rule(methods=["PUT"], origins=["https://a"], allowed_headers=["*"],
                  expose_headers=["ETag"], max_age_seconds=60, id="r1"), rule()]

    async def go():
        path = str(tmp_path / "meta.sqlite3")
        e = Engine(SqliteMetaStore(path), MemoryDataStore())
        await e.create_bucket("b", "owner", "us-east-1")
        assert (await e.get_bucket("b")).cors == []
        await e.set_bucket_cors("b", cors.validate(rules))
        await e.meta.close()
        e = Engine(SqliteMetaStore(path), MemoryDataStore())
        assert (await e.get_bucket("b")).cors == rules
        await e.set_bucket_cors("b", [])
        assert (await e.get_bucket("b")).cors == []
        await e.meta.close()
    asyncio.run(go())


def test_mutation_journals():
    m = [r.SetBucketCors("b", [rule(allowed_headers=["*"], max_age_seconds=5, id="x")])]
    assert journal.decode_record(journal.encode_record(3, m)) == (3, m)
