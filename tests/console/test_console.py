"""The web console in a real headless browser: sign in, create a bucket, upload 20 MiB
through the page (multipart, 8 MiB parts), download it through the page's presigned URL and
compare, make a share link and fetch it, restore an older version, create a user and a key
as root; a screenshot of every page (tests/console/artifacts/ or $S3ISH_CONSOLE_ARTIFACTS)."""
import hashlib
import json
import os
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.console.browser import INSECURE_HOST, screenshot, start_browser
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess, unique_bucket

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    driver = start_browser()
    # Four erasure-coded drives (so the system page has drives, scrubbing and healing to
    # show) and a key service (so that SSE-S3 can be a bucket's default encryption).
    srv = ServerProcess([str(tmp / f"d{i}") for i in range(4)], str(tmp),
                        env={"S3ISH_KMS_MASTER_KEY": os.urandom(32).hex()}).start()
    try:
        yield srv, driver, tmp
    finally:
        driver.quit()
        srv.stop()


def wait(driver, css, timeout=20, text=None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import TimeoutException
    w = WebDriverWait(driver, timeout)
    try:
        if text is not None:
            w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
    except TimeoutException:
        # Say what the page showed instead: its notice (errors) and the browser's log.
        screenshot(driver, "failure")
        notice = driver.execute_script("return document.getElementById('notice')"
                                       "?.textContent")
        raise AssertionError(f"{css!r} (text {text!r}) not shown in {timeout} s at "
                             f"{driver.current_url}; notice: {notice!r}; browser log: "
                             f"{driver.get_log('browser')[-5:]}") from None


def find(driver, css):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, css)


def open_page(driver, srv, hash_):
    driver.get(f"{srv.endpoint}/_console/{hash_}")


def js_errors(driver) -> list[str]:
    """Script errors the page logged (a 404 the page expects, like a bucket without a
    policy, is logged by the browser as a network error: those are not counted)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and e.get("source") != "network"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def test_console_end_to_end(console):
    srv, driver, tmp = console
    s3 = srv.client()
    bucket = unique_bucket("console")

    # Sign in.
    open_page(driver, srv, "")
    wait(driver, "#access-key").send_keys(ROOT_USER)
    find(driver, "#secret-key").send_keys(ROOT_PASSWORD)
    screenshot(driver, "01-signin")
    find(driver, "#signin").click()
    wait(driver, "#page-buckets")
    assert "(root)" in find(driver, "#who").text
    # The session holds signing keys for today and tomorrow, not the secret key.
    stored = driver.execute_script("return JSON.stringify(sessionStorage)")
    assert ROOT_USER in stored and ROOT_PASSWORD not in stored
    assert len(json.loads(json.loads(stored)["s3ish.console.session"])["keys"]) == 4

    # Create a bucket, versioned.
    find(driver, "#new-bucket").send_keys(bucket)
    find(driver, "#new-versioned").click()
    find(driver, "#create-bucket").click()
    wait(driver, "#page-buckets a.bucket-link", text=bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    screenshot(driver, "02-buckets")

    # Upload 20 MiB through the file input: multipart, 8 MiB parts.
    # A small file beside it, whose name needs every kind of escaping when signed.
    data = os.urandom(20 * MiB)
    path = tmp / "big file.bin"
    path.write_bytes(data)
    odd = "ünï cødé +&=%~'(1).txt"
    (tmp / odd).write_bytes(b"odd")
    open_page(driver, srv, f"#/browse/{bucket}/")
    wait(driver, "#upload-input").send_keys(f"{path}\n{tmp / odd}")
    wait(driver, ".upload.done + .upload.done", timeout=40)
    wait(driver, "#listing", text=odd)
    head = s3.head_object(Bucket=bucket, Key="big file.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    # Nothing the browser adds to a request (its cache headers) became object metadata.
    assert "CacheControl" not in head and head["ContentType"] == "application/octet-stream"
    assert s3.get_object(Bucket=bucket, Key=odd)["Body"].read() == b"odd"
    screenshot(driver, "03-objects")

    # Its page: the download link (presigned, opened by the browser) gives the same bytes;
    # a share link with a chosen expiry too.
    find(driver, 'a.object[data-key="big file.bin"]').click()
    link = wait(driver, "#download-link").get_attribute("href")
    assert "X-Amz-Signature=" in link and "attachment" in urllib.request.unquote(link)
    assert hashlib.sha256(fetch(link)).digest() == hashlib.sha256(data).digest()
    from selenium.webdriver.support.ui import Select
    Select(find(driver, "#share-expiry")).select_by_value("86400")
    find(driver, "#share-create").click()
    wait(driver, ".notice.ok")
    share = find(driver, "#share-url").get_attribute("value")
    assert "X-Amz-Expires=86400" in share
    assert fetch(share) == data
    screenshot(driver, "04-object")

    # Versions: restore an older version of a small object.
    s3.put_object(Bucket=bucket, Key="notes/todo.txt", Body=b"first")
    s3.put_object(Bucket=bucket, Key="notes/todo.txt", Body=b"second")
    open_page(driver, srv, f"#/object/{bucket}/notes%2Ftodo.txt")
    restore = wait(driver, "#versions button.primary.small")
    assert restore.text == "Restore"
    restore.click()
    wait(driver, ".notice.ok", text="restored")
    assert s3.get_object(Bucket=bucket, Key="notes/todo.txt")["Body"].read() == b"first"
    screenshot(driver, "05-object-versions")

    # Bucket settings: an invalid policy is caught before it is sent, the server's own
    # verdict on a bad one is shown; then make the bucket public and private again.
    open_page(driver, srv, f"#/bucket/{bucket}")
    area = wait(driver, "#policy-text")
    area.send_keys('{"Version": "2012-10-17", "Statement": [')
    find(driver, "#policy-validate").click()
    wait(driver, "#policy-verdict", text="Not valid JSON")
    area.clear()
    area.send_keys('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                   '"Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::'
                   'another-bucket/*"}]}')
    find(driver, "#policy-save").click()
    wait(driver, "#policy-verdict", text="The server refused it")
    find(driver, "#make-public").click()
    wait(driver, ".notice.ok", text="Anyone can now read")
    public_url = f"{srv.endpoint}/{bucket}/big%20file.bin"
    assert hashlib.sha256(fetch(public_url)).digest() == hashlib.sha256(data).digest()
    wait(driver, "#make-private").click()
    wait(driver, ".notice.ok", text="private")
    with pytest.raises(urllib.error.HTTPError):
        fetch(public_url)
    # Lifecycle expiry, CORS and default encryption, each read back with boto3.
    wait(driver, "#life-prefix").send_keys("logs/")
    find(driver, "#life-days").send_keys("30")
    find(driver, "#life-add").click()
    wait(driver, ".notice.ok", text="Lifecycle saved")
    rule, = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (rule["Filter"]["Prefix"], rule["Expiration"]["Days"]) == ("logs/", 30)
    wait(driver, "#cors-origins").send_keys("https://app.example.com")
    find(driver, "#cors-add").click()
    wait(driver, ".notice.ok", text="CORS saved")
    cors, = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert (cors["AllowedOrigins"], cors["AllowedMethods"]) == (["https://app.example.com"],
                                                                ["GET"])
    Select(wait(driver, "#enc-algo")).select_by_value("AES256")
    find(driver, "#enc-save").click()
    wait(driver, ".notice.ok", text="Default encryption saved")
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # Object lock on the versioned bucket, with a default retention.
    Select(wait(driver, "#lock-mode")).select_by_value("GOVERNANCE")
    find(driver, "#lock-days").send_keys("1")
    find(driver, "#lock-save").click()
    wait(driver, ".notice.ok", text="Object lock saved")
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}
    wait(driver, "#life-prefix")
    screenshot(driver, "06-bucket-settings")

    # Users and keys, as root.
    user = unique_bucket("user")
    open_page(driver, srv, "#/users")
    wait(driver, "#new-user").send_keys(user)
    find(driver, "#create-user").click()
    wait(driver, "#create-key").click()
    access = wait(driver, "#new-access-key").text
    secret = find(driver, "#new-secret-key").text
    assert access and secret
    iam = boto3.client("iam", endpoint_url=srv.endpoint, aws_access_key_id=ROOT_USER,
                       aws_secret_access_key=ROOT_PASSWORD, region_name="us-east-1")
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [access]
    # The new key signs requests (its user has no policy yet: AccessDenied, not a bad key).
    with pytest.raises(ClientError) as e:
        srv.client(access, secret).list_objects_v2(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    screenshot(driver, "07-users")

    # A managed policy written on the policies page, attached on the user's page: the
    # user's key can then list the bucket.
    open_page(driver, srv, "#/policies")
    wait(driver, "#policy-name").send_keys("read-console-bucket")
    find(driver, "#policy-doc").clear()
    find(driver, "#policy-doc").send_keys(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    find(driver, "#create-policy").click()
    wait(driver, "#page-policies table", text="read-console-bucket")
    find(driver, "#page-policies table button").click()
    wait(driver, "#policy-view", text="s3:ListBucket")
    screenshot(driver, "08-policies")
    open_page(driver, srv, f"#/users/{user}")
    Select(wait(driver, "#attach-policy")).select_by_visible_text("read-console-bucket")
    find(driver, "#attach-policy + button").click()
    wait(driver, "#page-users", text="Detach")
    listed = srv.client(access, secret).list_objects_v2(Bucket=bucket)["Contents"]
    assert {o["Key"] for o in listed} == {"big file.bin", odd, "notes/todo.txt"}

    open_page(driver, srv, "#/system")
    wait(driver, "#requests table")
    wait(driver, "#request-rate", text="per second", timeout=12)
    screenshot(driver, "09-system")
    find(driver, "#scrub-now").click()        # a POST to /_admin/ signed by the page
    wait(driver, ".notice.ok", text="Scrub done")

    # Delete an object from the listing (a delete marker: the bucket is versioned).
    open_page(driver, srv, f"#/browse/{bucket}/")
    wait(driver, "#listing", text=odd)
    row = find(driver, f'a.object[data-key="{odd}"]').find_element(
        "xpath", "ancestor::tr")
    row.find_element("css selector", "button.danger").click()
    driver.switch_to.alert.accept()
    wait(driver, ".notice.ok", text="Deleted")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=odd)
    # Several at once (DeleteObjects), in a folder.
    for name in ("tmp/a", "tmp/b", "tmp/c"):
        s3.put_object(Bucket=bucket, Key=name, Body=b"x")
    open_page(driver, srv, f"#/browse/{bucket}/tmp%2F")
    wait(driver, "#listing", text="c")
    for box in driver.find_elements("css selector", "input.pick")[:2]:
        box.click()
    wait(driver, "#delete-selected", text="Delete 2 selected").click()
    driver.switch_to.alert.accept()
    wait(driver, ".notice.ok", text="Deleted 2 objects")
    left = s3.list_objects_v2(Bucket=bucket, Prefix="tmp/")["Contents"]
    assert [o["Key"] for o in left] == ["tmp/c"]

    # Sign out; sign in with the new user's key: it may not list buckets, but may open and
    # list this one (the policy attached above); no root pages in its menu.
    find(driver, "#signout").click()
    wait(driver, "#access-key").send_keys(access)
    assert driver.execute_script("return sessionStorage.length") == 0
    find(driver, "#secret-key").send_keys(secret)
    find(driver, "#signin").click()
    wait(driver, "#open-bucket").send_keys(bucket)
    assert driver.find_elements("css selector", "#nav-users") == []
    find(driver, "#open-bucket-go").click()
    wait(driver, "#listing", text="big file.bin")
    screenshot(driver, "10-signed-in-as-user")

    # A session whose keys do not cover today goes back to the sign-in page.
    driver.execute_script("""
        const s = JSON.parse(sessionStorage.getItem("s3ish.console.session"));
        s.keys = {"19700101/us-east-1/s3": Object.values(s.keys)[0]};
        sessionStorage.setItem("s3ish.console.session", JSON.stringify(s));""")
    open_page(driver, srv, "#/buckets")
    wait(driver, "#access-key")
    wait(driver, ".notice.error", text="sign in again")
    assert js_errors(driver) == []


def test_the_pages_presigned_urls_match_botocore(console):
    """sigv4.js against an independent signer: the signature of a presigned GET of a key and
    a query needing every kind of escaping equals botocore's for the same instant."""
    import datetime
    from unittest import mock
    from urllib.parse import parse_qs, quote, urlsplit

    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    srv, driver, _ = console
    open_page(driver, srv, "")
    wait(driver, "main")
    key = "dir/ünï cødé +&=%~'(1).txt"
    disposition = "attachment; filename*=UTF-8''x y.txt"
    when = datetime.datetime(2026, 12, 7, 12, 34, 56)
    url = driver.execute_async_script("""
        const [key, disposition, done] = arguments;
        import("/_console/js/sigv4.js").then((m) => m.presignUrl({
          path: "/bkt/" + m.uriEncode(key, true),
          query: [["response-content-disposition", disposition], ["versionId", "v+1"]],
          creds: {accessKey: "AKID", secretKey: "se/cr+et"}, region: "eu-west-3",
          expires: 600, now: new Date(Date.UTC(2026, 11, 7, 12, 34, 56)),
        })).then(done, (e) => done("error: " + e));""", key, disposition)
    ours = parse_qs(urlsplit(url).query)
    request = AWSRequest("GET", f"{srv.endpoint}/bkt/{quote(key, safe='/~')}?" +
                         f"response-content-disposition={quote(disposition, safe='')}" +
                         "&versionId=v%2B1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        S3SigV4QueryAuth(Credentials("AKID", "se/cr+et"), "s3", "eu-west-3",
                         expires=600).add_auth(request)
    theirs = parse_qs(urlsplit(request.url).query)
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"] == ["20261207T123456Z"]
    assert ours["X-Amz-Signature"] == theirs["X-Amz-Signature"]


def test_without_a_secure_context_the_page_says_what_to_do(console):
    """Web Crypto exists only over HTTPS or on localhost: over plain HTTP to another name the
    console explains instead of failing half-way."""
    srv, driver, _ = console
    driver.get(f"http://{INSECURE_HOST}:{srv.port}/_console/")
    wait(driver, "main h2", text="needs a secure connection")
    assert "--tls-cert" in find(driver, "main").text
    assert driver.find_elements("css selector", "#access-key") == []
